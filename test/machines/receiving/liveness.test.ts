import { describe, expect, it } from 'vitest';
import { NS } from '../../../machines/ns.js';
import { child, el } from '../../../machines/xml.js';
import {
  DOMAIN,
  USER,
  auth,
  bindIq,
  credentials,
  element,
  establish,
  header,
  message,
  plainAuth,
  plainData,
  sent,
  startServer,
  starttls,
  streamErrorOf,
  throughTls,
  types,
  type Harness,
} from './harness.js';

/** Every phase in which the transport can go away, and how to get there. */
const PHASES: Record<string, (h: Harness) => void> = {
  'awaitingStreamHeader (first)': () => {},
  'tlsNegotiation.featuresSent': (h) => h.send(header()),
  'tlsNegotiation.handshake': (h) => {
    h.send(header());
    h.send(starttls());
  },
  'awaitingStreamHeader (after TLS)': (h) => {
    h.send(header());
    h.send(starttls());
    h.send({ type: 'TLS_ESTABLISHED' });
  },
  'saslNegotiation.featuresSent': (h) => throughTls(h),
  'saslNegotiation.awaitingCredentials': (h) => {
    throughTls(h);
    h.send(auth('PLAIN', plainData(USER, 'r0m30myr0m30')));
  },
  'saslNegotiation.challengeSent': (h) => {
    throughTls(h);
    h.send(auth('SCRAM-SHA-1'));
  },
  'resourceBinding.featuresSent': (h) => {
    throughTls(h);
    plainAuth(h);
    h.send(header());
  },
  'resourceBinding.awaitingResourceStatus': (h) => {
    throughTls(h);
    plainAuth(h);
    h.send(header());
    h.send(bindIq('b', 'r'));
  },
  established: (h) => void establish(h),
  'established (pinging)': (h) => {
    establish(h);
    h.advance(300_000);
  },
  closing: (h) => {
    h.send(header());
    h.send({ type: 'CLOSE' });
  },
};

describe('receiving entity: transport failures in every phase (RFC 6120 §4.6.1, §3.3)', () => {
  for (const [phase, reach] of Object.entries(PHASES)) {
    it(`SOCKET_CLOSED in ${phase}: no more writes, ended`, () => {
      const h = startServer();
      reach(h);
      const out = h.step({ type: 'SOCKET_CLOSED' });
      expect(types(out)).toEqual(['ended']);
      expect(h.done).toBe(true);
      if (phase !== 'closing') expect(out[0]).toEqual({ type: 'ended', outcome: { kind: 'transport', rfc: '6120 §4.6.1' } });
    });
    it(`WRITE_FAILED in ${phase}: dead connection, close TCP without a stream error`, () => {
      const h = startServer();
      reach(h);
      expect(types(h.step({ type: 'WRITE_FAILED', reason: 'EPIPE' }))).toEqual(['closeSocket', 'ended']);
      expect(h.done).toBe(true);
    });
  }
});

describe('receiving entity: TLS (RFC 6120 §5.4.3)', () => {
  it('§5.4.3.2 TLS_FAILED: terminate TCP without a closing stream tag', () => {
    const h = startServer();
    h.send(header());
    h.send(starttls());
    expect(h.step({ type: 'TLS_FAILED', reason: 'handshake_failure' })).toEqual([
      { type: 'closeSocket' },
      { type: 'ended', outcome: { kind: 'tls-failed', rfc: '6120 §5.4.3.2' } },
    ]);
  });

  it('§5.4.3.1 rule 1: during the handshake no XML is written: SHUTDOWN, CLOSE, FAIL and the negotiation timeout just close TCP', () => {
    for (const ev of [{ type: 'SHUTDOWN' }, { type: 'CLOSE' }, { type: 'FAIL', condition: 'reset' }] as const) {
      const h = startServer();
      h.send(header());
      h.send(starttls());
      expect(types(h.step(ev))).toEqual(['closeSocket', 'ended']);
    }
    const t = startServer();
    t.send(header());
    t.send(starttls());
    expect(types(t.advance(60_000))).toEqual(['closeSocket', 'ended']);
  });

  it('§5.4.3.3 plaintext data after <starttls/> is never processed', () => {
    const h = startServer();
    h.send(header());
    h.send(starttls());
    expect(h.step(message())).toEqual([]);
    expect(h.step(header())).toEqual([]);
    expect(h.step({ type: 'STREAM_CLOSE' })).toEqual([]);
    expect(h.step({ type: 'PARSE_ERROR', condition: 'not-well-formed' })).toEqual([]);
    expect(h.at()).toEqual(['open.negotiating.tlsNegotiation.handshake']);
    expect(types(h.step({ type: 'TLS_ESTABLISHED' }))).toEqual([]);
  });
});

describe('receiving entity: closing the stream (RFC 6120 §4.4)', () => {
  it('the peer closes first: our reciprocal close tag, then TCP', () => {
    const h = startServer();
    throughTls(h);
    expect(types(h.step({ type: 'STREAM_CLOSE' }))).toEqual(['closeStream', 'closeSocket', 'ended']);
  });

  it('we close first and the peer answers: TCP closes on its close tag', () => {
    const h = startServer();
    establish(h);
    expect(h.step({ type: 'CLOSE' })).toEqual([{ type: 'closeStream' }]);
    expect(h.at()).toEqual(['closing']);
    expect(h.step({ type: 'STREAM_CLOSE' })).toEqual([{ type: 'closeSocket' }, { type: 'ended', outcome: { kind: 'closed', rfc: '6120 §4.4' } }]);
  });

  it('we close first and the peer never answers: TCP closes after closeWait (rule 3)', () => {
    const h = startServer();
    establish(h);
    h.send({ type: 'CLOSE' });
    expect(h.advance(9_999)).toEqual([]);
    expect(types(h.advance(1))).toEqual(['closeSocket', 'ended']);
  });

  it('rule 2: after our graceful close, stanzas still arriving are processed (delivered) but never answered', () => {
    const h = startServer();
    const jid = establish(h);
    h.send({ type: 'CLOSE' });
    const out = h.step(message());
    expect(out).toHaveLength(1);
    expect(out[0]?.type === 'deliver' && out[0].stanza.attrs.from).toBe(jid);
    // a ping or a routed stanza is not written any more
    expect(h.step({ type: 'ROUTE_IN', stanza: el('message', NS.CLIENT) })).toEqual([]);
    expect(h.advance(5_000)).toEqual([]);
  });

  it('§4.9.3.12 after a stream error nothing more is processed', () => {
    const h = startServer();
    establish(h);
    h.send({ type: 'SHUTDOWN' });
    expect(h.step(message())).toEqual([]);
  });

  it('CLOSE before the client spoke: we open our stream only to close it (§4.4 needs an open stream)', () => {
    const h = startServer();
    expect(types(h.step({ type: 'CLOSE' }))).toEqual(['openStream', 'closeStream']);
  });
});

describe('receiving entity: silent peers (RFC 6120 §4.6, XEP-0199)', () => {
  it('§4.6 negotiation timeout → <connection-timeout/>, measured from the start across restarts', () => {
    const h = startServer();
    throughTls(h);
    h.advance(59_999);
    const out = h.advance(1);
    expect(types(out)).toEqual(['send:error', 'closeStream']);
    expect(streamErrorOf(out)).toBe('connection-timeout');
  });

  it('§4.6 the negotiation timer stops once bound', () => {
    const h = startServer({ timeouts: { negotiation: 60_000, idle: 300_000, pingResponse: 30_000, closeWait: 10_000 } });
    establish(h);
    expect(h.advance(120_000)).toEqual([]);
  });

  it('§4.6.3 idle → XEP-0199 ping from the domain to the full JID; the reply keeps the stream and is not routed', () => {
    const h = startServer();
    const jid = establish(h);
    expect(h.advance(299_999)).toEqual([]);
    const out = h.advance(1);
    expect(out).toHaveLength(1);
    const ping = sent(out)[0]!;
    expect(ping).toMatchObject({ name: 'iq', xmlns: NS.CLIENT, attrs: { from: DOMAIN, to: jid, type: 'get' } });
    expect(child(ping, 'ping', NS.PING)).toBeDefined();
    const pong = el('iq', NS.CLIENT, { type: 'result', id: ping.attrs.id, to: DOMAIN });
    expect(h.step(element(pong))).toEqual([]);
    expect(h.at()).toEqual(['open.established.stanzas.exchanging', 'open.established.liveness.idle']);
    expect(h.advance(30_000)).toEqual([]); // no connection-timeout
    expect(types(h.advance(270_000))).toEqual(['send:iq']); // the next ping, a new id
    expect(sent(h.all).filter((e) => e.name === 'iq' && e.attrs.type === 'get').map((e) => e.attrs.id)).toHaveLength(2);
  });

  it('§4.6.2 idle → ping → no answer → <connection-timeout/>', () => {
    const h = startServer();
    establish(h);
    h.advance(300_000);
    expect(h.advance(29_999)).toEqual([]);
    const out = h.advance(1);
    expect(types(out)).toEqual(['send:error', 'closeStream']);
    expect(streamErrorOf(out)).toBe('connection-timeout');
    expect(types(h.advance(10_000))).toEqual(['closeSocket', 'ended']);
    const ended = h.all[h.all.length - 1];
    expect(ended?.type === 'ended' && ended.outcome.kind).toBe('timeout');
  });

  it('§4.6.2 any stanza while the ping is outstanding also proves the stream alive (and is routed)', () => {
    const h = startServer();
    establish(h);
    h.advance(300_000);
    expect(types(h.step(message()))).toEqual(['deliver']);
    expect(h.advance(30_000)).toEqual([]);
  });

  it('§4.6.1 whitespace keepalive mode: a space at every idle interval; received traffic resets the timer', () => {
    const h = startServer({ keepalive: 'whitespace' });
    establish(h);
    expect(h.advance(300_000)).toEqual([{ type: 'sendWhitespace' }]);
    expect(h.advance(300_000)).toEqual([{ type: 'sendWhitespace' }]);
    h.advance(200_000);
    h.send({ type: 'KEEPALIVE' });
    expect(h.advance(200_000)).toEqual([]);
    expect(h.advance(100_000)).toEqual([{ type: 'sendWhitespace' }]);
  });

  it('§4.6.3 client traffic resets the idle timer', () => {
    const h = startServer();
    establish(h);
    h.advance(200_000);
    h.send(message());
    expect(h.advance(200_000)).toEqual([]);
    expect(types(h.advance(100_000))).toEqual(['send:iq']);
  });

  it('§5.3.3 / §6.3.5 no whitespace keepalives are written before binding', () => {
    const h = startServer({ keepalive: 'whitespace', timeouts: { negotiation: 1_000_000, idle: 1_000, pingResponse: 1_000, closeWait: 1_000 } });
    throughTls(h);
    h.send(auth('SCRAM-SHA-1'));
    expect(h.advance(10_000)).toEqual([]);
    h.send({ type: 'CREDENTIALS', username: USER, credentials: credentials() });
  });
});
