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

describe("our server ⇄ our server, a.test's certificate names someone else: dialback (XEP-0220)", () => {
  let f: Federation;
  beforeAll(async () => {
    f = await federate([{ domain: 'a.test', certificate: 'wrong-name' }, { domain: 'b.test' }]);
  });
  afterAll(() => f.stop());

  it('a.test → b.test authenticates by dialback (b.test verifies the key with a.test over a verify stream); b.test → a.test by EXTERNAL', async () => {
    const alice = await f.client('alice@a.test', PASSWORD);
    const bob = await f.client('bob@b.test', PASSWORD);
    const atBob = nextStanza(bob, (e) => e.name === 'message');
    alice.send(chat('bob@b.test', 'by dialback'));
    expect(body(await atBob)).toBe('by dialback');
    const atAlice = nextStanza(alice, (e) => e.name === 'message');
    bob.send(chat(alice.jid!, 'by certificate'));
    expect(body(await atAlice)).toBe('by certificate');
    const a = f.domains['a.test']!;
    const b = f.domains['b.test']!;
    expect(logged(b, 's2s.in.authenticated').map((r) => [r['from'], r['method']])).toEqual([['a.test', 'dialback']]);
    expect(logged(b, 's2s.out.connecting').map((r) => [r['remote'], r['purpose']])).toEqual(
      expect.arrayContaining([['a.test', 'verify'], ['a.test', 'stanzas']]),
    );
    // b.test's certificate authenticates b.test, so a.test does not need dialback for it (§13.7.2.1).
    expect(logged(a, 's2s.out.tls')[0]?.['certificate']).toMatch(/^authenticates b\.test/);
    expect(logged(b, 's2s.out.tls').every((r) => String(r['certificate']).startsWith('does not authenticate a.test'))).toBe(true);
  });
});

describe('certificates required (dialback off) against a peer whose certificate does not authenticate it', () => {
  let f: Federation;
  beforeAll(async () => {
    f = await federate([{ domain: 'a.test', certificate: 'wrong-name' }, { domain: 'b.test', s2s: { dialback: false } }]);
  });
  afterAll(() => f.stop());

  it('b.test refuses a.test (no EXTERNAL, no dialback); alice gets her message back with an error, exactly once (§10.4.3)', async () => {
    const alice = await f.client('alice@a.test', PASSWORD);
    const bob = await f.client('bob@b.test', PASSWORD);
    let bobGot = 0;
    bob.on('stanza', (e) => e.name === 'message' && bobGot++);
    const errors: string[] = [];
    alice.on('stanza', (e) => e.name === 'message' && attr(e, 'type') === 'error' && errors.push(attr(e, 'id') ?? ''));
    const bounce = nextStanza(alice, (e) => e.name === 'message' && attr(e, 'type') === 'error', 10_000);
    alice.send({ ...chat('bob@b.test', 'will not pass'), attrs: { ...chat('bob@b.test', '').attrs, id: 'm1' } });
    const error = await bounce;
    expect(attr(error, 'from')).toBe('bob@b.test');
    expect(child(child(error, 'error', NS.CLIENT)!, 'remote-server-timeout', NS.STANZAS)).toBeDefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(errors).toEqual(['m1']);
    expect(bobGot).toBe(0);
    expect(logged(f.domains['b.test']!, 's2s.in.authenticated')).toEqual([]);
  });
});

describe('a remote domain that cannot be reached', () => {
  let f: Federation;
  beforeAll(async () => {
    f = await federate([{ domain: 'a.test' }]);
  });
  afterAll(() => f.stop());

  it('nowhere.test (no DNS, no override): every queued stanza bounced once with <remote-server-not-found/> (§10.4.3, §8.3.3.16), in order', async () => {
    const alice = await f.client('alice@a.test', PASSWORD);
    const errors: string[] = [];
    alice.on('stanza', (e) => e.name === 'message' && attr(e, 'type') === 'error' && errors.push(attr(e, 'id') ?? ''));
    for (const id of ['n1', 'n2', 'n3']) alice.send(el('message', NS.CLIENT, { to: 'carol@nowhere.test', id, type: 'chat' }, el('body', NS.CLIENT, {}, id)));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`bounces so far: ${errors.join(',')}`)), 10_000);
      const check = setInterval(() => {
        if (errors.length >= 3) {
          clearTimeout(t);
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(errors).toEqual(['n1', 'n2', 'n3']);
  });
});
