/**
 * Initiating entity, scripted server: the established stream (RFC 6120 §8), silent peers
 * (§4.6, XEP-0199) and closing (§4.4), timers on a SimulatedClock.
 */
import { describe, expect, it } from 'vitest';
import { NS } from '../../../machines/ns.js';
import { el } from '../../../machines/xml.js';
import { DOMAIN, element, message, scriptedEstablish, sent, startClient, streamErrorOf, types, type ClientHarness } from './harness.js';

function established(overrides: Parameters<typeof startClient>[0] = {}): ClientHarness {
  const h = startClient(overrides);
  scriptedEstablish(h);
  return h;
}

describe('initiating entity: stanzas (RFC 6120 §8)', () => {
  it('RFC 6120 §8: SEND is written as given, in order', () => {
    const h = established();
    const a = message({ to: 'romeo@example.net', id: 'a' });
    const b = el('presence', NS.CLIENT, {});
    expect(h.step({ type: 'SEND', stanza: a })).toEqual([{ type: 'send', element: a }]);
    expect(h.step({ type: 'SEND', stanza: b })).toEqual([{ type: 'send', element: b }]);
  });

  it('RFC 6120 §4.3.5: the application cannot write stream, TLS or SASL elements', () => {
    const h = established();
    for (const e of [el('error', NS.STREAMS), el('starttls', NS.TLS), el('auth', NS.SASL, { mechanism: 'PLAIN' })]) {
      expect(h.step({ type: 'SEND', stanza: e })).toEqual([]);
    }
    const sm = el('r', 'urn:xmpp:sm:3');
    expect(h.step({ type: 'SEND', stanza: sm })).toEqual([{ type: 'send', element: sm }]);
  });

  it('RFC 6120 §8, §8.4: incoming stanzas are delivered, IQ get/set included (the runtime answers them)', () => {
    const h = established();
    const iq = el('iq', NS.CLIENT, { from: 'romeo@example.net/orchard', id: 'v1', type: 'get' }, el('query', 'jabber:iq:version'));
    const m = message();
    expect(h.step(element(m))).toEqual([{ type: 'deliver', stanza: m }]);
    expect(h.step(element(iq))).toEqual([{ type: 'deliver', stanza: iq }]);
  });

  it('XEP-0199 §4.2: a ping from the server is answered with an IQ result and not delivered', () => {
    const h = established();
    const ping = el('iq', NS.CLIENT, { from: DOMAIN, to: 'juliet@im.example.com/balcony', id: 's2c1', type: 'get' }, el('ping', NS.PING));
    expect(h.step(element(ping))).toEqual([{ type: 'send', element: el('iq', NS.CLIENT, { to: DOMAIN, id: 's2c1', type: 'result' }) }]);
  });

  it('XEP-0199 §4.3: a ping from another entity goes to the application', () => {
    const h = established();
    const ping = el('iq', NS.CLIENT, { from: 'romeo@example.net/orchard', id: 'c2c1', type: 'get' }, el('ping', NS.PING));
    expect(types(h.step(element(ping)))).toEqual(['deliver']);
  });
});

describe('initiating entity: silent peers (RFC 6120 §4.6)', () => {
  it('RFC 6120 §4.6.3, XEP-0199 §4.3: idle → ping the server; the reply is consumed; idle again', () => {
    const h = established();
    expect(h.advance(299_999)).toEqual([]);
    const ping = sent(h.advance(1))[0]!;
    expect(ping).toMatchObject({ name: 'iq', attrs: { to: DOMAIN, type: 'get' } });
    expect(ping.children).toEqual([el('ping', NS.PING)]);
    expect(h.at()).toContain('open.established.liveness.pinging');
    expect(h.step(element(el('iq', NS.CLIENT, { from: DOMAIN, id: ping.attrs.id, type: 'result' })))).toEqual([]);
    expect(h.at()).toContain('open.established.liveness.idle');
    expect(h.actor.getSnapshot().context.pingId).toBeUndefined();
    // The idle timer starts over.
    expect(h.advance(299_999)).toEqual([]);
    expect(types(h.advance(1))).toEqual(['send:iq']);
  });

  it('XEP-0199 §4.3: an IQ error to our ping (ping unsupported) also proves liveness', () => {
    const h = established();
    const ping = sent(h.advance(300_000))[0]!;
    expect(h.step(element(el('iq', NS.CLIENT, { from: DOMAIN, id: ping.attrs.id, type: 'error' })))).toEqual([]);
    expect(h.at()).toContain('open.established.liveness.idle');
  });

  it('RFC 6120 §4.6.2, §4.9.3.4: no answer to the ping → connection-timeout, then close wait', () => {
    const h = established();
    h.advance(300_000);
    expect(h.advance(29_999)).toEqual([]);
    const cmds = h.advance(1);
    expect(streamErrorOf(cmds)).toBe('connection-timeout');
    expect(types(cmds)).toEqual(['send:error', 'closeStream']);
    expect(types(h.advance(10_000))).toEqual(['closeSocket', 'ended']);
    expect(h.outcome).toEqual({ kind: 'timeout', rfc: '6120 §4.6.2', condition: 'connection-timeout' });
  });

  it('RFC 6120 §4.6.2: any traffic while pinging (a whitespace keepalive) counts', () => {
    const h = established();
    h.advance(300_000);
    h.send({ type: 'KEEPALIVE' });
    expect(h.at()).toContain('open.established.liveness.idle');
    expect(h.advance(30_000)).toEqual([]);
  });

  it('RFC 6120 §4.6.3: traffic restarts the idle timer', () => {
    const h = established();
    h.advance(200_000);
    h.send(element(message()));
    expect(h.advance(200_000)).toEqual([]);
    h.send({ type: 'KEEPALIVE' });
    expect(h.advance(299_999)).toEqual([]);
    expect(types(h.advance(1))).toEqual(['send:iq']);
  });

  it('RFC 6120 §4.6.1: keepalive mode whitespace → a single space every idle period, no ping', () => {
    const h = established({ keepalive: 'whitespace' });
    expect(h.advance(300_000)).toEqual([{ type: 'sendWhitespace' }]);
    expect(h.advance(300_000)).toEqual([{ type: 'sendWhitespace' }]);
    expect(h.done).toBe(false);
  });
});

describe('initiating entity: closing (RFC 6120 §4.4)', () => {
  it('RFC 6120 §4.4: CLOSE → closing tag; the server\'s tag → TCP closed; outcome closed', () => {
    const h = established();
    expect(types(h.step({ type: 'CLOSE' }))).toEqual(['closeStream']);
    expect(h.at()).toEqual(['closing']);
    expect(types(h.step({ type: 'STREAM_CLOSE' }))).toEqual(['closeSocket', 'ended']);
    expect(h.outcome).toEqual({ kind: 'closed', rfc: '6120 §4.4' });
  });

  it('RFC 6120 §4.4 rule 3: no closing tag within closeWait → TCP closed anyway', () => {
    const h = established();
    h.send({ type: 'CLOSE' });
    expect(h.advance(9_999)).toEqual([]);
    expect(types(h.advance(1))).toEqual(['closeSocket', 'ended']);
    expect(h.outcome?.kind).toBe('closed');
  });

  it('RFC 6120 §4.4 rule 2: stanzas the server still sends after our close are delivered; nothing is written', () => {
    const h = established();
    h.send({ type: 'CLOSE' });
    const m = message();
    expect(h.step(element(m))).toEqual([{ type: 'deliver', stanza: m }]);
    expect(h.step({ type: 'SEND', stanza: message() })).toEqual([]);
    const ping = el('iq', NS.CLIENT, { from: DOMAIN, id: 'p', type: 'get' }, el('ping', NS.PING));
    expect(h.step(element(ping))).toEqual([]);
  });

  it('RFC 6120 §4.4: the server closes first → our closing tag and TCP close', () => {
    const h = established();
    expect(types(h.step({ type: 'STREAM_CLOSE' }))).toEqual(['closeStream', 'closeSocket', 'ended']);
    expect(h.outcome).toEqual({ kind: 'closed', rfc: '6120 §4.4' });
  });

  it('RFC 6120 §4.4: CLOSE during negotiation closes gracefully too', () => {
    const h = startClient();
    expect(types(h.step({ type: 'CLOSE' }))).toEqual(['closeStream']);
    expect(types(h.step({ type: 'SOCKET_CLOSED' }))).toEqual(['ended']);
    expect(h.outcome?.kind).toBe('closed');
  });

  it('RFC 6120 §4.4: no negotiation or idle timer fires once closed; the machine is final', () => {
    const h = established();
    h.send({ type: 'STREAM_CLOSE' });
    expect(h.done).toBe(true);
    expect(h.advance(1_000_000)).toEqual([]);
  });
});
