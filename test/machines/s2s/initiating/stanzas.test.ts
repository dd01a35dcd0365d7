/**
 * The initiating server once negotiated: stanzas go one way and only for the pair (RFC 6120
 * §4.9.3.7, §8.1.1.2, §8.1.2.2 checked before writing), closing (§4.4), stream errors from the
 * peer and the bounce they imply (§10.4.3), silence (§4.6) during negotiation and after.
 */
import { describe, expect, it } from 'vitest';
import { NS } from '../../../../machines/ns.js';
import { isServerPing } from '../../../../machines/s2s/initiating/index.js';
import { el } from '../../../../machines/xml.js';
import {
  OURS,
  PEER,
  TIMEOUTS,
  dbResult,
  element,
  features,
  message,
  responseHeader,
  sentOf,
  startServer,
  streamError,
  streamErrorOf,
  toDialback,
  types,
  viaExternal,
} from './harness.js';

const send = (stanza = message()) => ({ type: 'SEND', stanza }) as const;

describe('initiating server: stanzas (RFC 6120 §8, one way)', () => {
  it('XEP-0220 §2.1.1, RFC 6120 §4.3.5: before the pair is authenticated a SEND is refused, never written', () => {
    const h = startServer({ certificate: false });
    toDialback(h);
    expect(h.stepS2s(send())).toEqual([{ type: 'stanzaRefused', stanza: message(), reason: 'not-authenticated' }]);
    h.send(dbResult('valid'));
    expect(sentOf(h.stepS2s(send()))).toEqual([message()]);
  });

  it("RFC 6120 §4.9.3.7: no 'to', no 'from' or an empty one: refused as improper-addressing, the peer never sees it", () => {
    const h = startServer();
    viaExternal(h);
    for (const attrs of [{ to: undefined }, { from: undefined }, { from: '' }, { to: 'a@b@c' }]) {
      expect(h.stepS2s(send(message(attrs)))).toEqual([{ type: 'stanzaRefused', stanza: message(attrs), reason: 'improper-addressing' }]);
    }
  });

  it('RFC 6120 §8.1.1.2, §8.1.2.2: addresses outside the authenticated pair are refused; full JIDs of the pair go', () => {
    const h = startServer();
    viaExternal(h);
    expect(h.stepS2s(send(message({ to: 'nurse@capulet.example' })))).toMatchObject([{ type: 'stanzaRefused', reason: 'unauthorized-pair' }]);
    expect(h.stepS2s(send(message({ from: 'tybalt@verona.example' })))).toMatchObject([{ type: 'stanzaRefused', reason: 'unauthorized-pair' }]);
    const ok = message({ from: `juliet@${OURS}/balcony`, to: `romeo@${PEER}/orchard` });
    expect(h.stepS2s(send(ok))).toEqual([{ type: 'send', element: ok }]);
  });

  it('RFC 6120 §4.8.2: only jabber:server stanzas; negotiation elements and jabber:client stanzas are refused', () => {
    const h = startServer();
    viaExternal(h);
    for (const stanza of [el('message', NS.CLIENT, { from: OURS, to: PEER }), el('auth', NS.SASL, { mechanism: 'EXTERNAL' })]) {
      expect(h.stepS2s(send(stanza))).toMatchObject([{ type: 'stanzaRefused', reason: 'not-a-stanza' }]);
    }
  });

  it('XEP-0220 §2.1.2 note: a verification-only stream carries no stanzas', () => {
    const h = startServer({ purpose: 'verify', tls: 'optional' });
    h.send(responseHeader());
    h.send(features(el('dialback', NS.DIALBACK_FEATURES, {}, el('errors', NS.DIALBACK_FEATURES))));
    expect(h.at()[0]).toBe('open.established.stanzas.exchanging');
    expect(h.stepS2s(send())).toMatchObject([{ type: 'stanzaRefused', reason: 'not-authenticated' }]);
  });

  it('XEP-0220 §2.3, RFC 6120 §4.9.3.24: a stanza from the peer on our outgoing stream is unsupported-stanza-type', () => {
    const h = startServer();
    viaExternal(h);
    h.send(element(el('message', NS.SERVER, { from: `romeo@${PEER}`, to: `juliet@${OURS}` })));
    expect(streamErrorOf(h.all)).toBe('unsupported-stanza-type');
    expect(h.stepS2s(send())).toMatchObject([{ type: 'stanzaRefused', reason: 'closing' }]);
  });

  it('RFC 6120 §4.3.5: an empty <features/> after negotiation is nothing to do', () => {
    const h = startServer();
    viaExternal(h);
    expect(h.stepS2s(features())).toEqual([]);
  });
});

describe('initiating server: closing and stream errors (RFC 6120 §4.4, §4.9, §10.4.3)', () => {
  it('RFC 6120 §4.4: CLOSE → our closing tag; the peer\'s → TCP closed; outcome closed, authenticated kept', () => {
    const h = startServer();
    viaExternal(h);
    expect(types(h.stepS2s({ type: 'CLOSE' }))).toEqual(['closeStream']);
    expect(types(h.stepS2s({ type: 'STREAM_CLOSE' }))).toEqual(['closeSocket', 'ended']);
    expect(h.ended()).toEqual({ kind: 'closed', rfc: '6120 §4.4', bounce: 'remote-server-timeout', authenticated: 'sasl-external' });
  });

  it('RFC 6120 §4.4 step 4: the peer closes first: our closing tag, then TCP', () => {
    const h = startServer();
    viaExternal(h);
    expect(types(h.stepS2s({ type: 'STREAM_CLOSE' }))).toEqual(['closeStream', 'closeSocket', 'ended']);
  });

  it('RFC 6120 §4.4 rule 3: no closing tag from the peer within closeWait: TCP closed anyway', () => {
    const h = startServer();
    viaExternal(h);
    h.send({ type: 'CLOSE' });
    expect(types(h.advanceS2s(TIMEOUTS.closeWait))).toEqual(['closeSocket', 'ended']);
  });

  it('RFC 6120 §10.4.3, §8.3.3.16: the peer answers <host-unknown/>: bounce remote-server-not-found', () => {
    const h = startServer();
    h.send(responseHeader());
    expect(types(h.stepS2s(streamError('host-unknown')))).toEqual(['closeStream', 'closeSocket', 'ended']);
    expect(h.ended()).toMatchObject({ kind: 'error-received', condition: 'host-unknown', bounce: 'remote-server-not-found' });
  });

  it('RFC 6120 §10.4.3, §8.3.3.17: any other stream error before authentication: bounce remote-server-timeout', () => {
    const h = startServer();
    h.send(responseHeader());
    h.send(streamError('internal-server-error'));
    expect(h.ended()).toMatchObject({ kind: 'error-received', condition: 'internal-server-error', bounce: 'remote-server-timeout' });
  });

  it('RFC 6120 §4.6.1: TCP gone or a write failed: the outcome is transport', () => {
    const h = startServer();
    viaExternal(h);
    expect(types(h.stepS2s({ type: 'WRITE_FAILED' }))).toEqual(['closeSocket', 'ended']);
    expect(h.ended()).toMatchObject({ kind: 'transport', authenticated: 'sasl-external' });
  });
});

describe('initiating server: silent peers (RFC 6120 §4.6)', () => {
  it('RFC 6120 §4.6.2, §4.9.3.4: a silent peer during negotiation: connection-timeout, bounce remote-server-timeout', () => {
    const h = startServer();
    h.send(responseHeader());
    h.advance(TIMEOUTS.negotiation);
    expect(streamErrorOf(h.all)).toBe('connection-timeout');
    h.send({ type: 'SOCKET_CLOSED' });
    expect(h.ended()).toMatchObject({ kind: 'timeout', condition: 'connection-timeout', bounce: 'remote-server-timeout' });
  });

  it('RFC 6120 §5.4.3.1: silent during the TLS handshake: TCP closed, no XML', () => {
    const h = startServer();
    h.send(responseHeader());
    h.send(features(el('starttls', NS.TLS, {}, el('required', NS.TLS))));
    h.send(element(el('proceed', NS.TLS)));
    expect(types(h.advanceS2s(TIMEOUTS.negotiation))).toEqual(['closeSocket', 'ended']);
  });

  it('RFC 6120 §4.6.1: whitespace keepalive (the default) on an idle established stream, again and again', () => {
    const h = startServer();
    viaExternal(h);
    expect(types(h.advanceS2s(TIMEOUTS.idle))).toEqual(['sendWhitespace']);
    expect(types(h.advanceS2s(TIMEOUTS.idle))).toEqual(['sendWhitespace']);
    expect(h.done).toBe(false);
  });

  it('XEP-0199 §4.3: ping mode: a server-to-server ping from our domain; PING_REPLY (from the peer\'s stream to us) answers it', () => {
    const h = startServer({ keepalive: 'ping' });
    viaExternal(h);
    const [ping] = sentOf(h.advanceS2s(TIMEOUTS.idle));
    expect(isServerPing(ping!)).toBe(true);
    expect(ping!.attrs).toMatchObject({ from: OURS, to: PEER });
    expect(h.at()).toContain('open.established.liveness.pinging');
    h.send({ type: 'PING_REPLY', id: 'another' });
    expect(h.at()).toContain('open.established.liveness.pinging');
    h.send({ type: 'PING_REPLY', id: ping!.attrs.id! });
    expect(h.at()).toContain('open.established.liveness.idle');
  });

  it('RFC 6120 §4.6.2, §4.9.3.4: ping mode, no answer within pingResponse: connection-timeout', () => {
    const h = startServer({ keepalive: 'ping' });
    viaExternal(h);
    h.advance(TIMEOUTS.idle);
    h.advance(TIMEOUTS.pingResponse);
    expect(streamErrorOf(h.all)).toBe('connection-timeout');
  });

  it('XEP-0199 §4.3: ping mode on a verification-only stream (no pair to ping from): whitespace instead', () => {
    const h = startServer({ keepalive: 'ping', purpose: 'verify', tls: 'optional' });
    h.send(responseHeader());
    h.send(features(el('dialback', NS.DIALBACK_FEATURES)));
    expect(types(h.advanceS2s(TIMEOUTS.idle))).toEqual(['sendWhitespace']);
  });
});
