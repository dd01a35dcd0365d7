/**
 * Server-to-server stream headers (machines/s2s/header.ts), RFC 6120 §4.7 with the
 * server-stream rules: 'from' and 'to' are domains.
 */
import { describe, expect, it } from 'vitest';
import { NS } from '../../../machines/ns.js';
import type { StreamHeader } from '../../../machines/protocol.js';
import { checkInitialHeader, domainOf, responseHeaderProblem, serverInitialHeader, serverResponseHeader } from '../../../machines/s2s/header.js';

const view = { hostedDomains: ['im.example.com', 'chat.example.com'], secured: true, dialbackAllowed: false };
const header = (over: Partial<StreamHeader> = {}): StreamHeader => ({ from: 'example.net', to: 'im.example.com', version: '1.0', contentNamespace: NS.SERVER, ...over });

describe('the receiving server checks the initial header (§4.7)', () => {
  it('§4.7.1/§4.7.2 example: from a domain to a hosted domain', () => {
    expect(checkInitialHeader(header(), view)).toEqual({ ok: true, to: 'im.example.com', from: 'example.net' });
  });

  it('domains are compared after preparation (RFC 7622 §3.2)', () => {
    expect(checkInitialHeader(header({ to: 'IM.Example.COM', from: 'Example.NET' }), view)).toEqual({ ok: true, to: 'im.example.com', from: 'example.net' });
  });

  it.each([
    ['jabber:client content namespace → invalid-namespace (§4.8.2, §4.9.3.10)', { contentNamespace: NS.CLIENT }, 'invalid-namespace'],
    ['no version → unsupported-version (§4.7.5, §4.9.3.25)', { version: undefined }, 'unsupported-version'],
    ['version 0.9 → unsupported-version (§4.9.3.25)', { version: '0.9' }, 'unsupported-version'],
    ['a domain we do not service → host-unknown (§4.9.3.6 example)', { to: 'example.org' }, 'host-unknown'],
    ["'to' with a localpart → host-unknown (§4.7.2: a domainpart)", { to: 'juliet@im.example.com' }, 'host-unknown'],
    ["no 'to' with several hosted domains → host-unknown (§4.7.2)", { to: undefined }, 'host-unknown'],
    ["'from' a JID, not a domain → invalid-from (§4.7.1, §4.9.3.9)", { from: 'romeo@example.net' }, 'invalid-from'],
    ["'from' with a resource → invalid-from (§4.7.1)", { from: 'example.net/x' }, 'invalid-from'],
    ["no 'from' after TLS, certificates only → invalid-from (§4.7.1 MUST)", { from: undefined }, 'invalid-from'],
  ] as const)('%s', (_title, over, condition) => {
    expect(checkInitialHeader(header(over as Partial<StreamHeader>), view)).toEqual({ ok: false, condition });
  });

  it('a higher version is accepted (§4.7.5 rule 2: answered with 1.0)', () => {
    expect(checkInitialHeader(header({ version: '1.5' }), view).ok).toBe(true);
    expect(serverResponseHeader(header({ version: '1.5' }), 'im.example.com', 'example.net', 'id1').version).toBe('1.0');
  });

  it("no 'to' with a single hosted domain: that domain (§4.7.2 interoperability note)", () => {
    expect(checkInitialHeader(header({ to: undefined }), { ...view, hostedDomains: ['im.example.com'] })).toEqual({ ok: true, to: 'im.example.com', from: 'example.net' });
  });

  it("no 'from': tolerated before TLS, and after TLS when dialback may name the domain (XEP-0220 §2.1.1)", () => {
    expect(checkInitialHeader(header({ from: undefined }), { ...view, secured: false })).toEqual({ ok: true, to: 'im.example.com', from: undefined });
    expect(checkInitialHeader(header({ from: undefined }), { ...view, dialbackAllowed: true })).toEqual({ ok: true, to: 'im.example.com', from: undefined });
  });
});

describe('headers written (§4.7)', () => {
  it("the response: from the hosted domain asked for, to the peer's domain, a fresh id (§4.7.1-§4.7.3 example)", () => {
    expect(serverResponseHeader(header(), 'im.example.com', 'example.net', 'g4qSvGvBxJ+xeAd7QKezOQJFFlw=')).toEqual({
      from: 'im.example.com',
      to: 'example.net',
      id: 'g4qSvGvBxJ+xeAd7QKezOQJFFlw=',
      lang: 'en',
      version: '1.0',
      contentNamespace: NS.SERVER,
    });
  });

  it("the response to a peer that gave no 'from' has no 'to'", () => {
    expect(serverResponseHeader(header({ from: undefined }), 'im.example.com', undefined, 'x').to).toBeUndefined();
  });

  it('the initial header: from our domain, to the remote domain, version 1.0, no id (§4.7.1 example)', () => {
    expect(serverInitialHeader('example.net', 'im.example.com')).toEqual({ from: 'example.net', to: 'im.example.com', version: '1.0', lang: 'en', contentNamespace: NS.SERVER });
  });
});

describe('the initiating server checks the response header', () => {
  const response = (over: Partial<StreamHeader> = {}): StreamHeader => ({ from: 'im.example.com', to: 'example.net', id: 'abc', version: '1.0', contentNamespace: NS.SERVER, ...over });
  it('accepts the §4.7.2 example', () => expect(responseHeaderProblem(response(), 'im.example.com')).toBeUndefined());
  it.each([
    ['jabber:client → invalid-namespace (§4.8.2)', { contentNamespace: NS.CLIENT }, 'invalid-namespace'],
    ['no version → unsupported-version (§4.7.5)', { version: undefined }, 'unsupported-version'],
    ['no id → bad-format (§4.7.3: dialback keys need it)', { id: undefined }, 'bad-format'],
    ["another domain in 'from' → invalid-from (§4.9.3.9)", { from: 'example.org' }, 'invalid-from'],
  ] as const)('%s', (_t, over, condition) => {
    expect(responseHeaderProblem(response(over as Partial<StreamHeader>), 'im.example.com')).toBe(condition);
  });
});

describe('domainOf', () => {
  it('is a prepared domainpart, or undefined for anything else', () => {
    expect(domainOf('Example.NET')).toBe('example.net');
    expect(domainOf('a@b')).toBeUndefined();
    expect(domainOf('')).toBeUndefined();
    expect(domainOf(undefined)).toBeUndefined();
  });
});
