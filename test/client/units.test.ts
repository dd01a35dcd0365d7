/**
 * The client's pure helpers: outcome descriptions and the reconnect decision (§3.3), the
 * transition lines of `xmppkit connect`, typed-line parsing, CLI options, IQ answers (§8.4),
 * and the certificate verification settings (§13.7.2).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { child, el } from '../../machines/xml.js';
import { clientOptionsFrom, UsageError } from '../../runtime/client/cli-options.js';
import {
  clientTlsRole,
  describeOutcome,
  formatTransition,
  IqHandlers,
  isTransient,
  parseStanzaLine,
  StanzaError,
  stanzaErrorCondition,
} from '../../runtime/client/index.js';

describe('describeOutcome names the condition and its RFC section', () => {
  it.each([
    [{ kind: 'auth-failed', rfc: '6120 §6.4.5', condition: 'not-authorized' }, 'authentication failed: <not-authorized/> (RFC 6120 §6.5.10)'],
    [{ kind: 'auth-failed', rfc: '6120 §6.4.5', condition: 'account-disabled', text: 'ask the admin' }, 'authentication failed: <account-disabled/> (RFC 6120 §6.5.2): ask the admin'],
    [{ kind: 'error-received', rfc: '6120 §4.9.1.1', condition: 'system-shutdown' }, 'stream error from the server: <system-shutdown/> (RFC 6120 §4.9.3.20)'],
    [{ kind: 'error-received', rfc: '6120 §4.9.1.1', condition: 'host-unknown' }, 'stream error from the server: <host-unknown/> (RFC 6120 §4.9.3.6)'],
    [{ kind: 'timeout', rfc: '6120 §4.6.2', condition: 'connection-timeout' }, 'timed out: <connection-timeout/> (RFC 6120 §4.9.3.4)'],
    [{ kind: 'bind-failed', rfc: '6120 §7.6.2.1', condition: 'resource-constraint' }, 'resource binding failed: <resource-constraint/> (RFC 6120 §7.6.2.1)'],
    [{ kind: 'transport', rfc: '6120 §4.6.1' }, 'connection lost (RFC 6120 §4.6.1)'],
    [{ kind: 'closed', rfc: '6120 §4.4' }, 'stream closed (RFC 6120 §4.4)'],
  ] as const)('%o', (outcome, expected) => {
    expect(describeOutcome(outcome)).toBe(expected);
  });

  it('a certificate failure says how to trust the certificate', () => {
    expect(describeOutcome({ kind: 'tls-failed', rfc: '6120 §5.4.3.2', text: 'self-signed certificate' })).toBe(
      'TLS failed (RFC 6120 §5.4.3.2): self-signed certificate; the server certificate is not trusted: pass it as ca (--ca FILE), or use insecure (--insecure); RFC 6120 §13.7.2',
    );
  });
});

describe('isTransient: which ends a reconnect (§3.3) can repair', () => {
  it.each([
    [{ kind: 'transport', rfc: '6120 §4.6.1' }, true],
    [{ kind: 'timeout', rfc: '6120 §4.6.2', condition: 'connection-timeout' }, true],
    [{ kind: 'error-received', rfc: '', condition: 'system-shutdown' }, true],
    [{ kind: 'error-received', rfc: '', condition: 'reset' }, true],
    [{ kind: 'closed', rfc: '6120 §4.4' }, true],
    [{ kind: 'error-received', rfc: '', condition: 'conflict' }, false],
    [{ kind: 'error-received', rfc: '', condition: 'not-authorized' }, false],
    [{ kind: 'error-received', rfc: '', condition: 'policy-violation' }, false],
    [{ kind: 'auth-failed', rfc: '', condition: 'not-authorized' }, false],
    [{ kind: 'auth-failed', rfc: '', condition: 'temporary-auth-failure' }, true],
    [{ kind: 'tls-failed', rfc: '', text: 'self-signed certificate' }, false],
    [{ kind: 'closed', rfc: '6120 §4.7.2', condition: 'jid-malformed' }, false],
  ] as const)('%o → %s', (outcome, expected) => {
    expect(isTransient(outcome)).toBe(expected);
  });
});

describe('formatTransition', () => {
  it('prints the section, the short source, the event and the target', () => {
    expect(
      formatTransition({
        event: 'ELEMENT',
        source: 'initiatingEntity.open.negotiating.tlsNegotiation.requested',
        targets: ['initiatingEntity.open.negotiating.tlsNegotiation.handshake'],
        rfc: '6120 §5.4.2.3',
      }),
    ).toBe('[6120 §5.4.2.3] tlsNegotiation.requested --ELEMENT--> handshake');
    expect(
      formatTransition({ event: 'xstate.after.closeTimeout.initiatingEntity.closing', source: 'initiatingEntity.closing', targets: ['initiatingEntity.closed'], rfc: '6120 §4.4' }),
    ).toBe('[6120 §4.4] closing --after closeTimeout--> closed');
    expect(
      formatTransition({
        event: 'TLS_ESTABLISHED',
        source: 'initiatingEntity.open.negotiating.tlsNegotiation.handshake',
        targets: ['initiatingEntity.open.negotiating.awaitingStreamHeader'],
        rfc: '6120 §5.4.3.3, §5.3.2, §4.3.3',
      }),
    ).toBe('[6120 §5.4.3.3] tlsNegotiation.handshake --TLS_ESTABLISHED--> awaitingStreamHeader  (also §5.3.2, §4.3.3)');
    expect(formatTransition({ event: 'SEND', source: 'initiatingEntity.open.established.stanzas.exchanging', targets: [], rfc: '6120 §8' })).toBe(
      '[6120 §8] stanzas.exchanging --SEND--> (stays)',
    );
  });
});

describe('parseStanzaLine (one XML element per typed line)', () => {
  it('accepts one element, in jabber:client', () => {
    const r = parseStanzaLine(`<message to='bob@localhost' type='chat'><body>hi &amp; bye</body></message>`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.element).toMatchObject({ name: 'message', xmlns: NS.CLIENT, attrs: { to: 'bob@localhost', type: 'chat' } });
    expect(child(r.element, 'body', NS.CLIENT)?.children).toEqual(['hi & bye']);
  });
  it.each([
    [`<message><body>unclosed</message>`, /not a well-formed XML element/],
    [`<message>`, /not a well-formed|incomplete/],
    [`<a/><b/>`, /2 elements/],
    [`just text`, /not a well-formed|0 elements/],
    [`<!DOCTYPE x><x/>`, /not a well-formed/],
    [`</stream:stream>`, /closing stream tag/],
  ])('refuses %s', (line, error) => {
    const r = parseStanzaLine(line);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });
});

describe('CLI client options', () => {
  it('builds client options, the password from the environment if not given', () => {
    expect(clientOptionsFrom({ jid: 'a@localhost', host: '127.0.0.1', port: '5333', insecure: true }, { XMPPKIT_PASSWORD: 'pw' })).toEqual({
      jid: 'a@localhost',
      password: 'pw',
      host: '127.0.0.1',
      port: 5333,
      tls: { insecure: true },
    });
  });
  it('reads --ca from a PEM file and refuses other files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xmppkit-ca-'));
    try {
      writeFileSync(join(dir, 'ok.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      writeFileSync(join(dir, 'bad.pem'), 'hello');
      expect(clientOptionsFrom({ jid: 'a@x', password: 'p', ca: join(dir, 'ok.pem') }).tls?.ca).toMatch(/BEGIN CERTIFICATE/);
      expect(() => clientOptionsFrom({ jid: 'a@x', password: 'p', ca: join(dir, 'bad.pem') })).toThrow(/no PEM certificate/);
      expect(() => clientOptionsFrom({ jid: 'a@x', password: 'p', ca: join(dir, 'missing.pem') })).toThrow(UsageError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it.each([
    [{ password: 'p' }, /--jid is required/],
    [{ jid: 'a@x' }, /--password is required/],
    [{ jid: 'a@x', password: 'p', port: '0' }, /--port must be/],
    [{ jid: 'a@x', password: 'p', port: 'x' }, /--port must be/],
    [{ jid: 'a@x', password: 'p', insecure: true, ca: 'f' }, /not both/],
  ])('%o is a usage error', (values, error) => {
    expect(() => clientOptionsFrom(values, {})).toThrow(error);
  });
});

describe('TLS verification settings (RFC 6120 §13.7.2, RFC 6125)', () => {
  it('default and ca: chain verified and identity checked against the JID domain; insecure: neither', () => {
    const strict = clientTlsRole('localhost');
    expect(strict).toMatchObject({ role: 'client', servername: 'localhost', rejectUnauthorized: true });
    const pinned = clientTlsRole('localhost', { ca: 'PEM' });
    expect(pinned).toMatchObject({ rejectUnauthorized: true, ca: 'PEM' });
    const insecure = clientTlsRole('localhost', { insecure: true });
    expect(insecure).toMatchObject({ rejectUnauthorized: false });
    // The identity check refuses a certificate without identifiers; insecure accepts anything.
    expect(strict.checkServerIdentity?.('127.0.0.1', {} as never)).toBeInstanceOf(Error);
    expect(insecure.checkServerIdentity?.('127.0.0.1', {} as never)).toBeUndefined();
  });
});

describe('IQ answers (§8.2.3, §8.4)', () => {
  const get = (payload: ReturnType<typeof el>[]) => el('iq', NS.CLIENT, { type: 'get', id: 'q1', from: 'bob@localhost/x', to: 'alice@localhost/y' }, ...payload);

  it('no handler: service-unavailable, addressed back to the requester with the same id', async () => {
    const reply = await new IqHandlers().answer(get([el('query', 'urn:example')]));
    expect(reply.attrs).toEqual({ id: 'q1', to: 'bob@localhost/x', type: 'error' });
    expect(stanzaErrorCondition(reply)).toEqual({ condition: 'service-unavailable' });
    expect(child(reply, 'error', NS.CLIENT)?.attrs['type']).toBe('cancel');
  });
  it('a handler result, an empty result, a StanzaError and a crash', async () => {
    const h = new IqHandlers();
    h.set('urn:a', 'q', () => el('q', 'urn:a', {}, 'data'));
    h.set('urn:b', 'q', () => undefined);
    h.set('urn:c', 'q', () => {
      throw new StanzaError('forbidden');
    });
    h.set('urn:d', 'q', () => {
      throw new Error('bug');
    });
    const a = await h.answer(get([el('q', 'urn:a')]));
    expect(a.attrs).toEqual({ type: 'result', id: 'q1', to: 'bob@localhost/x' });
    expect(child(a, 'q', 'urn:a')?.children).toEqual(['data']);
    expect((await h.answer(get([el('q', 'urn:b')]))).children).toEqual([]);
    expect(stanzaErrorCondition(await h.answer(get([el('q', 'urn:c')])))?.condition).toBe('forbidden');
    expect(stanzaErrorCondition(await h.answer(get([el('q', 'urn:d')])))?.condition).toBe('internal-server-error');
  });
  it('a get with no payload or two payloads is a bad-request (§8.2.3 rule 6)', async () => {
    const h = new IqHandlers();
    expect(stanzaErrorCondition(await h.answer(get([])))?.condition).toBe('bad-request');
    expect(stanzaErrorCondition(await h.answer(get([el('a', 'urn:x'), el('b', 'urn:x')])))?.condition).toBe('bad-request');
  });
});
