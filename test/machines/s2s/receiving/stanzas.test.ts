/**
 * Stanzas on the receiving server's stream (RFC 6120 §8.1.1.2, §8.1.2.2, §4.9.3), closing
 * (§4.4) and silent peers (§4.6).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DIALBACK_POLICY } from '../../../../machines/dialback/policy.js';
import { NS } from '../../../../machines/ns.js';
import { el } from '../../../../machines/xml.js';
import { LOCAL, OTHER_LOCAL, PEER, auth, element, header, message, startServer, stepS2s, streamErrorOf, throughTls, types, type Harness } from './harness.js';

const ESTABLISHED = ['open.established.stanzas.exchanging', 'open.established.liveness.idle'];

/** Header → STARTTLS → EXTERNAL → restart: the pair (PEER, LOCAL) is authenticated. */
function establish(h: Harness): void {
  throughTls(h);
  h.send(auth('EXTERNAL', '='));
  h.send(header());
  expect(h.at()).toEqual(ESTABLISHED);
  h.take();
}

describe('receiving server: stanzas (RFC 6120 §8.1.1.2, §8.1.2.2)', () => {
  it('RFC 6120 §8.1.1.2, §8.1.2.2, §10: a stanza of the authenticated pair is delivered as it came', () => {
    const h = startServer();
    establish(h);
    const m = message();
    const out = stepS2s(h, m);
    expect(out).toEqual([{ type: 'deliver', stanza: m.type === 'ELEMENT' && m.element }]);
  });

  it.each([
    ["RFC 6120 §4.9.3.7, §8.1.1.2 rule 1: no 'to' → improper-addressing", { to: undefined }, 'improper-addressing'],
    ["RFC 6120 §4.9.3.7, §8.1.2.2 rule 1: no 'from' → improper-addressing", { from: undefined }, 'improper-addressing'],
    ["RFC 6120 §4.9.3.7: an empty 'from' → improper-addressing", { from: '' }, 'improper-addressing'],
    ["RFC 6120 §4.9.3.7: a 'to' that is no XMPP address → improper-addressing", { to: 'a@b@c' }, 'improper-addressing'],
    ["RFC 6120 §4.9.3.6, §8.1.1.2 rule 2: 'to' a domain we do not host → host-unknown", { to: 'juliet@example.org' }, 'host-unknown'],
    ["RFC 6120 §4.9.3.6, §8.1.1.2 rule 2: 'to' a hosted domain not validated on this stream → host-unknown", { to: `room@${OTHER_LOCAL}` }, 'host-unknown'],
    ["RFC 6120 §4.9.3.9, §8.1.2.2 rule 2: 'from' a domain not authenticated → invalid-from", { from: 'romeo@example.org' }, 'invalid-from'],
  ] as const)('%s', (_title, attrs, condition) => {
    const h = startServer();
    establish(h);
    const out = stepS2s(h, message(attrs));
    expect(types(out as never)).toEqual(['send:error', 'closeStream']);
    expect(streamErrorOf(out as never)).toBe(condition);
    expect(out.some((c) => c.type === 'deliver')).toBe(false);
    expect(h.at()).toEqual(['closing']);
  });

  it('RFC 6120 §4.9.3.12: a stanza before any pair is authenticated → not-authorized, not processed', () => {
    const h = startServer();
    throughTls(h);
    const out = stepS2s(h, message());
    expect(streamErrorOf(out as never)).toBe('not-authorized');
    expect(out.some((c) => c.type === 'deliver')).toBe(false);
  });

  it('RFC 6120 §4.9.3.10: a jabber:client stanza → invalid-namespace; §4.9.3.24: an unknown element → unsupported-stanza-type', () => {
    const h = startServer();
    establish(h);
    expect(streamErrorOf(stepS2s(h, element(el('message', NS.CLIENT, { from: PEER, to: LOCAL }))) as never)).toBe('invalid-namespace');
    const h2 = startServer();
    establish(h2);
    expect(streamErrorOf(stepS2s(h2, element(el('thing', 'urn:example:x'))) as never)).toBe('unsupported-stanza-type');
  });
});

describe('receiving server: closing (RFC 6120 §4.4) and stream errors (§4.9)', () => {
  it('RFC 6120 §4.4: the peer closes first: our closing tag, then TCP', () => {
    const h = startServer();
    establish(h);
    expect(types(stepS2s(h, { type: 'STREAM_CLOSE' }) as never)).toEqual(['closeStream', 'closeSocket', 'ended']);
    expect(h.outcome).toMatchObject({ kind: 'closed', rfc: '6120 §4.4' });
  });

  it('RFC 6120 §4.4 rule 2: we close first and still process stanzas of the authenticated pair until the peer\'s tag', () => {
    const h = startServer();
    establish(h);
    expect(types(stepS2s(h, { type: 'CLOSE' }) as never)).toEqual(['closeStream']);
    expect(types(stepS2s(h, message()) as never)).toEqual(['deliver']);
    expect(stepS2s(h, message({ from: 'romeo@example.org' }))).toEqual([]);
    expect(types(stepS2s(h, { type: 'STREAM_CLOSE' }) as never)).toEqual(['closeSocket', 'ended']);
  });

  it('RFC 6120 §4.4 rule 3: no closing tag from the peer within closeWait → TCP closed anyway', () => {
    const h = startServer();
    establish(h);
    h.send({ type: 'CLOSE' });
    expect(types(h.advance(10_000))).toEqual(['closeSocket', 'ended']);
  });

  it('RFC 6120 §4.9.1.1: the peer\'s stream error: our closing tag and TCP', () => {
    const h = startServer();
    establish(h);
    const out = stepS2s(h, element(el('error', NS.STREAMS, {}, el('system-shutdown', NS.STREAM_ERRORS))));
    expect(types(out as never)).toEqual(['closeStream', 'closeSocket', 'ended']);
    expect(h.outcome).toMatchObject({ kind: 'error-received', condition: 'system-shutdown' });
  });

  it('RFC 6120 §4.9.3.20, §4.9.3.16: SHUTDOWN → system-shutdown; FAIL carries the operator\'s condition', () => {
    const h = startServer();
    establish(h);
    expect(streamErrorOf(stepS2s(h, { type: 'SHUTDOWN' }) as never)).toBe('system-shutdown');
    const h2 = startServer();
    establish(h2);
    expect(streamErrorOf(stepS2s(h2, { type: 'FAIL', condition: 'reset' }) as never)).toBe('reset');
  });

  it('RFC 6120 §4.9.3.1, §4.9.3.13: an unexpected header → bad-format; the XML layer\'s error is sent as it chose', () => {
    const h = startServer();
    establish(h);
    expect(streamErrorOf(stepS2s(h, header()) as never)).toBe('bad-format');
    const h2 = startServer();
    establish(h2);
    expect(streamErrorOf(stepS2s(h2, { type: 'PARSE_ERROR', condition: 'not-well-formed' }) as never)).toBe('not-well-formed');
  });

  it('RFC 6120 §4.6.1: the socket is gone or a write failed: closed, no XML', () => {
    const h = startServer();
    establish(h);
    expect(types(stepS2s(h, { type: 'WRITE_FAILED' }) as never)).toEqual(['closeSocket', 'ended']);
    expect(h.outcome).toMatchObject({ kind: 'transport' });
  });

  it('RFC 6120 §4.9.1.2: a stream error before any header: our header first, from our first domain', () => {
    const h = startServer();
    const out = stepS2s(h, { type: 'SHUTDOWN' });
    expect(types(out as never)).toEqual(['openStream', 'send:error', 'closeStream']);
    expect(out[0]).toMatchObject({ type: 'openStream', header: { from: LOCAL, contentNamespace: NS.SERVER } });
  });
});

describe('receiving server: silent peers (RFC 6120 §4.6)', () => {
  it('RFC 6120 §4.6.1: whitespace keepalives by default while the peer is idle', () => {
    const h = startServer();
    establish(h);
    expect(types(h.advance(300_000))).toEqual(['sendWhitespace']);
    expect(types(h.advance(300_000))).toEqual(['sendWhitespace']);
  });

  it('XEP-0199 §4.3, RFC 6120 §4.6.2: ping mode: a pingPeer command for the outgoing stream; its reply keeps the stream', () => {
    const h = startServer({ keepalive: 'ping' });
    establish(h);
    const out = h.advance(300_000);
    const ping = out[0];
    expect(ping).toMatchObject({ type: 'pingPeer', from: LOCAL, to: PEER });
    const id = (ping as unknown as { id: string }).id;
    expect(stepS2s(h, { type: 'PING_REPLY', id: 'other' })).toEqual([]);
    expect(h.at()).toContain('open.established.liveness.pinging');
    expect(stepS2s(h, { type: 'PING_REPLY', id })).toEqual([]);
    expect(h.at()).toEqual(ESTABLISHED);
  });

  it('RFC 6120 §4.6.2, §4.9.3.4: no answer to the ping → connection-timeout', () => {
    const h = startServer({ keepalive: 'ping' });
    establish(h);
    h.advance(300_000);
    expect(streamErrorOf(h.advance(30_000))).toBe('connection-timeout');
    expect(h.outcome).toBeUndefined();
    expect(h.at()).toEqual(['closing']);
  });

  it('RFC 6120 §4.6.2: any element from the peer answers the ping as well', () => {
    const h = startServer({ keepalive: 'ping', dialback: DEFAULT_DIALBACK_POLICY });
    establish(h);
    h.advance(300_000);
    expect(types(stepS2s(h, message()) as never)).toEqual(['deliver']);
    expect(h.at()).toEqual(ESTABLISHED);
  });
});
