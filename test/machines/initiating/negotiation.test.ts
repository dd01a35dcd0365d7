/**
 * Initiating entity, scripted server: opening (§4.2, §4.7), features (§4.3.2), STARTTLS (§5),
 * the negotiation timeout (§4.6.2), stanzas before online (§4.3.5).
 */
import { describe, expect, it } from 'vitest';
import { NS } from '../../../machines/ns.js';
import { el } from '../../../machines/xml.js';
import {
  BARE,
  DOMAIN,
  bindFeature,
  element,
  features,
  mechanisms,
  message,
  proceed,
  sent,
  serverHeader,
  startClient,
  starttlsFeature,
  streamErrorOf,
  tlsFailure,
  types,
} from './harness.js';

describe('initiating entity: opening the stream (RFC 6120 §4.2, §4.7)', () => {
  it('RFC 6120 §4.7: the initial header has to, version 1.0, xml:lang, no id, and no from before TLS (§4.7.1)', () => {
    const h = startClient();
    expect(h.all).toEqual([{ type: 'openStream', header: { to: DOMAIN, version: '1.0', lang: 'en', contentNamespace: NS.CLIENT } }]);
    expect(h.at()).toEqual(['open.negotiating.awaitingStreamHeader']);
  });

  it('RFC 6120 §4.7.1: with direct TLS (secure input) the first header already carries from; xml:lang from input', () => {
    const h = startClient({ secure: true, lang: 'de' });
    const open = h.all[0];
    expect(open).toMatchObject({ type: 'openStream', header: { from: BARE, to: DOMAIN, lang: 'de' } });
  });

  it('RFC 6120 §4.7.2: the to of a full input JID is its domainpart', () => {
    const h = startClient({ jid: 'Juliet@IM.Example.com/balcony' });
    expect(h.all[0]).toMatchObject({ header: { to: DOMAIN } });
  });

  it('RFC 7622 §3: an input JID without localpart ends the machine before anything is written', () => {
    const h = startClient({ jid: 'im.example.com' });
    expect(h.done).toBe(true);
    expect(types(h.all)).toEqual(['ended']);
    expect(h.outcome).toMatchObject({ kind: 'closed', condition: 'jid-malformed' });
  });

  it('RFC 6120 §4.3.2: a valid response header leads to waiting for features', () => {
    const h = startClient();
    expect(h.step(serverHeader())).toEqual([]);
    expect(h.at()).toEqual(['open.negotiating.awaitingFeatures']);
  });

  it('RFC 6120 §4.7.3: a response header without id is tolerated (interoperability note)', () => {
    const h = startClient();
    h.send(serverHeader({ id: undefined }));
    expect(h.at()).toEqual(['open.negotiating.awaitingFeatures']);
  });

  it('RFC 6120 §4.7.5 rule 2: a response version above 1.0 is accepted as 1.0', () => {
    const h = startClient();
    h.send(serverHeader({ version: '1.5' }));
    expect(h.at()).toEqual(['open.negotiating.awaitingFeatures']);
  });

  for (const version of [undefined, '0.9', 'one', '00.1']) {
    it(`RFC 6120 §4.7.5 rules 3-4, §4.9.3.25: response version ${String(version)} → unsupported-version`, () => {
      const h = startClient();
      const cmds = h.step(serverHeader({ version }));
      expect(streamErrorOf(cmds)).toBe('unsupported-version');
      expect(types(cmds)).toEqual(['send:error', 'closeStream']);
      expect(h.at()).toEqual(['closing']);
      expect(h.step({ type: 'STREAM_CLOSE' }).map((c) => c.type)).toEqual(['closeSocket', 'ended']);
      expect(h.outcome).toMatchObject({ kind: 'error-sent', condition: 'unsupported-version', rfc: '6120 §4.9.3.25' });
    });
  }

  it('RFC 6120 §4.8.2, §4.9.3.10: a jabber:server response header → invalid-namespace', () => {
    const h = startClient();
    expect(streamErrorOf(h.step(serverHeader({ contentNamespace: NS.SERVER })))).toBe('invalid-namespace');
  });

  it('RFC 6120 §4.9.3.1: a second response header where no restart is due → bad-format', () => {
    const h = startClient();
    h.send(serverHeader());
    expect(streamErrorOf(h.step(serverHeader()))).toBe('bad-format');
  });

  it('RFC 6120 §4.9.3.24: an element other than features first → unsupported-stanza-type', () => {
    const h = startClient();
    h.send(serverHeader());
    expect(streamErrorOf(h.step(element(message())))).toBe('unsupported-stanza-type');
  });
});

describe('initiating entity: STARTTLS (RFC 6120 §5)', () => {
  it('RFC 6120 §5.4.2.1-§5.4.3.3: starttls, proceed, startTls, TLS up → reset parser, new header with from', () => {
    const h = startClient();
    h.send(serverHeader());
    expect(sent(h.step(features(starttlsFeature(true))))).toEqual([el('starttls', NS.TLS)]);
    expect(types(h.step(proceed()))).toEqual(['startTls']);
    expect(h.at()).toEqual(['open.negotiating.tlsNegotiation.handshake']);
    const restart = h.step({ type: 'TLS_ESTABLISHED' });
    expect(restart).toEqual([
      { type: 'resetParser' },
      { type: 'openStream', header: { to: DOMAIN, from: BARE, version: '1.0', lang: 'en', contentNamespace: NS.CLIENT } },
    ]);
    expect(h.actor.getSnapshot().context.peer).toBeUndefined();
    expect(h.actor.getSnapshot().context.secured).toBe(true);
  });

  it('RFC 6120 §5.3.1: policy optional takes a voluntary STARTTLS offered next to mechanisms', () => {
    const h = startClient({ tls: 'optional' });
    h.send(serverHeader());
    expect(types(h.step(features(starttlsFeature(), mechanisms('SCRAM-SHA-256'))))).toEqual(['send:starttls']);
  });

  it('RFC 6120 §5.3.1: a lone STARTTLS feature is mandatory-to-negotiate; policy never → unsupported-feature', () => {
    const h = startClient({ tls: 'never' });
    h.send(serverHeader());
    const cmds = h.step(features(starttlsFeature(false)));
    expect(streamErrorOf(cmds)).toBe('unsupported-feature');
    h.send({ type: 'STREAM_CLOSE' });
    expect(h.outcome).toMatchObject({ kind: 'tls-failed', condition: 'unsupported-feature', rfc: '6120 §5.3.1' });
  });

  it('RFC 6120 §5.3.1: policy never with a voluntary STARTTLS → SASL without TLS (SCRAM)', () => {
    const h = startClient({ tls: 'never' });
    h.send(serverHeader());
    const auth = sent(h.step(features(starttlsFeature(), mechanisms('SCRAM-SHA-1', 'PLAIN'))))[0];
    expect(auth).toMatchObject({ name: 'auth', attrs: { mechanism: 'SCRAM-SHA-1' } });
  });

  it('RFC 6120 §5.3.1, §13.9.4: policy required and no STARTTLS offered → policy-violation, never authenticate', () => {
    const h = startClient({ tls: 'required' });
    h.send(serverHeader());
    const cmds = h.step(features(mechanisms('SCRAM-SHA-256', 'PLAIN')));
    expect(streamErrorOf(cmds)).toBe('policy-violation');
    expect(sent(cmds).some((e) => e.name === 'auth')).toBe(false);
    h.send({ type: 'SOCKET_CLOSED' });
    expect(h.outcome).toMatchObject({ kind: 'tls-failed', condition: 'policy-violation' });
  });

  it('XEP-0368, RFC 6120 §5.3.1: on a transport that is already TLS (secure), policy required is met: SASL at once, PLAIN allowed', () => {
    const h = startClient({ secure: true, mechanisms: ['PLAIN'] });
    h.send(serverHeader());
    expect(sent(h.step(features(mechanisms('PLAIN'))))[0]).toMatchObject({ name: 'auth', attrs: { mechanism: 'PLAIN' } });
  });

  it('RFC 6120 §5.4.3.3 rule 5: a STARTTLS offer after TLS is on is not taken again', () => {
    const h = startClient();
    h.send(serverHeader());
    h.send(features(starttlsFeature(true)));
    h.send(proceed());
    h.send({ type: 'TLS_ESTABLISHED' });
    h.send(serverHeader());
    expect(types(h.step(features(starttlsFeature(), mechanisms('SCRAM-SHA-256'))))).toEqual(['send:auth']);
  });

  it('RFC 6120 §5.4.2.2: <failure/> → our closing tag; the server closes → outcome tls-failed', () => {
    const h = startClient();
    h.send(serverHeader());
    h.send(features(starttlsFeature(true)));
    expect(types(h.step(tlsFailure()))).toEqual(['closeStream']);
    expect(types(h.step({ type: 'STREAM_CLOSE' }))).toEqual(['closeSocket', 'ended']);
    expect(h.outcome).toMatchObject({ kind: 'tls-failed', rfc: '6120 §5.4.2.2' });
  });

  it('RFC 6120 §5.4.2.2: <failure/> and the server drops TCP without a closing tag → tls-failed', () => {
    const h = startClient();
    h.send(serverHeader());
    h.send(features(starttlsFeature(true)));
    h.send(tlsFailure());
    expect(types(h.step({ type: 'SOCKET_CLOSED' }))).toEqual(['ended']);
    expect(h.outcome?.kind).toBe('tls-failed');
  });

  it('RFC 6120 §5.4.3.2: proceed, then the TLS handshake fails → close TCP, no closing tag', () => {
    const h = startClient();
    h.send(serverHeader());
    h.send(features(starttlsFeature(true)));
    h.send(proceed());
    const cmds = h.step({ type: 'TLS_FAILED', reason: 'bad_certificate' });
    expect(types(cmds)).toEqual(['closeSocket', 'ended']);
    expect(h.outcome).toEqual({ kind: 'tls-failed', rfc: '6120 §5.4.3.2', text: 'bad_certificate' });
  });

  it('RFC 6120 §5.4.3.2: TLS_FAILED before the handshake (runtime error) also ends the stream', () => {
    const h = startClient();
    h.send(serverHeader());
    expect(types(h.step({ type: 'TLS_FAILED', reason: 'x' }))).toEqual(['closeSocket', 'ended']);
  });

  it('RFC 6120 §5.4.3.3: plaintext after <proceed/> is never processed', () => {
    const h = startClient();
    h.send(serverHeader());
    h.send(features(starttlsFeature(true)));
    h.send(proceed());
    expect(h.step(element(message()))).toEqual([]);
    expect(h.step(serverHeader())).toEqual([]);
    expect(h.step({ type: 'STREAM_CLOSE' })).toEqual([]);
    expect(h.step({ type: 'PARSE_ERROR', condition: 'not-well-formed' })).toEqual([]);
    expect(h.at()).toEqual(['open.negotiating.tlsNegotiation.handshake']);
  });

  it('RFC 6120 §5.4.3.1: CLOSE during the handshake closes TCP without XML', () => {
    const h = startClient();
    h.send(serverHeader());
    h.send(features(starttlsFeature(true)));
    h.send(proceed());
    expect(types(h.step({ type: 'CLOSE' }))).toEqual(['closeSocket', 'ended']);
  });

  it('RFC 6120 §4.9.3.24: an unexpected element while waiting for proceed → unsupported-stanza-type', () => {
    const h = startClient();
    h.send(serverHeader());
    h.send(features(starttlsFeature(true)));
    expect(streamErrorOf(h.step(features(bindFeature())))).toBe('unsupported-stanza-type');
  });
});

describe('initiating entity: negotiation timeout (RFC 6120 §4.6.2)', () => {
  it('RFC 6120 §4.6.2, §4.9.3.4: no features in time → connection-timeout, then close wait → TCP closed', () => {
    const h = startClient();
    h.send(serverHeader());
    expect(h.advance(59_999)).toEqual([]);
    const cmds = h.advance(1);
    expect(streamErrorOf(cmds)).toBe('connection-timeout');
    expect(h.at()).toEqual(['closing']);
    expect(types(h.advance(10_000))).toEqual(['closeSocket', 'ended']);
    expect(h.outcome).toMatchObject({ kind: 'timeout', condition: 'connection-timeout', rfc: '6120 §4.6.2' });
  });

  it('RFC 6120 §4.6.2: the timer covers the whole negotiation (restarts do not reset it)', () => {
    const h = startClient();
    h.advance(30_000);
    h.send(serverHeader());
    h.send(features(starttlsFeature(true)));
    h.send(proceed());
    h.send({ type: 'TLS_ESTABLISHED' });
    expect(streamErrorOf(h.advance(30_000))).toBe('connection-timeout');
  });

  it('RFC 6120 §5.4.3.1: timeout during the TLS handshake → just close TCP', () => {
    const h = startClient();
    h.send(serverHeader());
    h.send(features(starttlsFeature(true)));
    h.send(proceed());
    expect(types(h.advance(60_000))).toEqual(['closeSocket', 'ended']);
    expect(h.outcome).toMatchObject({ kind: 'timeout', rfc: '6120 §5.4.3.1' });
  });
});

describe('initiating entity: stanzas before online (RFC 6120 §4.3.5, §7.1)', () => {
  it('RFC 6120 §4.3.5: SEND in every negotiation state is dropped, nothing is written', () => {
    const h = startClient();
    const stanza = message({ to: 'romeo@example.net' });
    expect(h.step({ type: 'SEND', stanza })).toEqual([]);
    h.send(serverHeader());
    expect(h.step({ type: 'SEND', stanza })).toEqual([]);
    h.send(features(starttlsFeature(true)));
    expect(h.step({ type: 'SEND', stanza })).toEqual([]);
    h.send(proceed());
    expect(h.step({ type: 'SEND', stanza })).toEqual([]);
    expect(h.done).toBe(false);
  });
});
