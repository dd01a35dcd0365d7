/**
 * RFC 6121 §3, §4 and §8.5 over real sockets: accounts of one server subscribe to each other
 * with the project's own client and see each other's presence; the unavailable presence the
 * server generates when a stream ends (killed socket, silent peer: raw clients of
 * ./client.ts); no presence for an account without a subscription; directed presence;
 * bare-JID messages by priority; offline messages; and all of it kept across a restart.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { attr, child, childElements, el, text, type XmlElement } from '../../machines/xml.js';
import { createClient, type XmppClient } from '../../runtime/client/index.js';
import { DELAY_NS } from '../../runtime/server/offline.js';
import { ROSTER_NS } from '../../runtime/server/roster.js';
import { removeDir, startServer, USERS, type Running } from '../client/fixture.js';
import { login, type RawClient } from './client.js';

const PASSWORDS: Record<string, string> = { ...USERS, carol: 'carol-pw' };
let running: Running;
const started: XmppClient[] = [];
const raws: RawClient[] = [];

/** A resource of one of our accounts that records what it receives. */
interface Resource {
  readonly client: XmppClient;
  readonly jid: string;
  readonly got: XmlElement[];
}

async function connect(user: string, resource: string, opts: { presence?: XmlElement | false; roster?: boolean } = {}): Promise<Resource> {
  const client = createClient({ jid: `${user}@localhost/${resource}`, password: PASSWORDS[user]!, host: '127.0.0.1', port: running.port, tls: { ca: running.certPem } });
  const got: XmlElement[] = [];
  client.on('stanza', (s) => got.push(s));
  client.handleIq(ROSTER_NS, 'query', () => undefined); // §2.1.6: pushes are answered with a result
  started.push(client);
  const jid = await client.start();
  const r = { client, jid, got };
  if (opts.roster !== false) await client.iq(el('iq', NS.CLIENT, { type: 'get' }, el('query', ROSTER_NS))); // §2.2: an interested resource
  if (opts.presence !== false) client.send(opts.presence ?? el('presence', NS.CLIENT));
  await settle(r);
  return r;
}

/** A ping round trip: everything the server wrote to `r` before its answer has arrived. */
const settle = (r: Resource) => r.client.iq(el('iq', NS.CLIENT, { type: 'get', to: 'localhost' }, el('ping', NS.PING)));

async function until(pred: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const presences = (r: Resource, from?: string) => r.got.filter((s) => s.name === 'presence' && (from === undefined || attr(s, 'from') === from));
const isPresence = (s: XmlElement, from: string, type?: string) => s.name === 'presence' && attr(s, 'from') === from && attr(s, 'type') === type;
const messages = (r: Resource) => r.got.filter((s) => s.name === 'message');
const rosterItem = (user: string, jid: string) => running.server.rosters.item(user, jid);
const presence = (attrs: Record<string, string | undefined> = {}, ...children: XmlElement[]) => el('presence', NS.CLIENT, attrs, ...children);
const priority = (n: number) => el('priority', NS.CLIENT, {}, String(n));
const chat = (to: string, body: string, type = 'chat') => el('message', NS.CLIENT, { to, type, id: body }, el('body', NS.CLIENT, {}, body));

async function stopAll(): Promise<void> {
  for (const c of started.splice(0)) await c.stop().catch(() => undefined);
  for (const r of raws.splice(0)) r.destroy();
  await until(() => running.server.sessionCount === 0, 'no sessions');
}

describe('RFC 6121 presence, subscriptions and messages over real sockets', () => {
  beforeAll(async () => {
    running = await startServer({ policy: { timeouts: { idle: 600, pingResponse: 500 } }, limits: { offlineMessagesPerAccount: 2 } });
    running.server.accounts.add('carol', PASSWORDS.carol!);
  });
  afterEach(stopAll);
  afterAll(async () => {
    await running.stop();
    removeDir(running.dataDir);
  });

  it('RFC 6121 §3.1 / §3.1.5 / §3.1.6: alice and bob subscribe to each other (roster pushes, presence on approval); §4.4.2 updates reach the subscriber, never carol (§4.2.2: subscribers only)', async () => {
    const alice = await connect('alice', 'home');
    const bob = await connect('bob', 'desk');
    const carol = await connect('carol', 'phone');

    // §3.1.2: alice asks; her item gets ask='subscribe' (pushed); bob is offered the request with alice's bare JID as 'from'.
    alice.client.send(presence({ to: 'bob@localhost', type: 'subscribe', id: 'sub1' }));
    await until(() => bob.got.some((s) => s.name === 'presence' && attr(s, 'type') === 'subscribe'), 'request at bob');
    const request = bob.got.find((s) => attr(s, 'type') === 'subscribe')!;
    expect(attr(request, 'from')).toBe('alice@localhost');
    expect(attr(request, 'id')).toBe('sub1');
    expect(rosterItem('alice', 'bob@localhost')).toMatchObject({ subscription: 'none', ask: 'subscribe' });
    expect(rosterItem('bob', 'alice@localhost')).toBeUndefined(); // §3.1.3 Security Warning: no item before approval

    // §3.1.5: bob approves: alice gets 'subscribed', then bob's current presence; both rosters change.
    bob.client.send(presence({ to: 'alice@localhost', type: 'subscribed' }));
    await until(() => alice.got.some((s) => isPresence(s, bob.jid)), 'bob presence at alice');
    expect(alice.got.some((s) => isPresence(s, 'bob@localhost', 'subscribed'))).toBe(true);
    expect(rosterItem('alice', 'bob@localhost')).toMatchObject({ subscription: 'to' });
    expect(rosterItem('alice', 'bob@localhost')?.ask).toBeUndefined();
    expect(rosterItem('bob', 'alice@localhost')).toMatchObject({ subscription: 'from' });
    const pushTo = (r: Resource) => r.got.filter((s) => s.name === 'iq' && attr(s, 'type') === 'set' && child(s, 'query', ROSTER_NS)).map((s) => childElements(child(s, 'query', ROSTER_NS)!)[0]!);
    expect(pushTo(alice).map((i) => [attr(i, 'subscription'), attr(i, 'ask')])).toEqual([['none', 'subscribe'], ['to', undefined]]);
    expect(pushTo(bob).map((i) => attr(i, 'subscription'))).toEqual(['from']);

    // And the other way round: both.
    bob.client.send(presence({ to: 'alice@localhost', type: 'subscribe' }));
    await until(() => alice.got.some((s) => isPresence(s, 'bob@localhost', 'subscribe')), 'request at alice');
    alice.client.send(presence({ to: 'bob@localhost', type: 'subscribed' }));
    await until(() => bob.got.some((s) => isPresence(s, alice.jid)), 'alice presence at bob');
    expect(rosterItem('alice', 'bob@localhost')?.subscription).toBe('both');
    expect(rosterItem('bob', 'alice@localhost')?.subscription).toBe('both');

    // §4.4.2: an update, full XML, 'from' stamped by the server; to the subscriber and to alice herself.
    alice.client.send(presence({ from: 'alice@localhost' }, el('show', NS.CLIENT, {}, 'away'))); // RFC 6120 §8.1.2.1: the server stamps the full JID
    await until(() => bob.got.some((s) => isPresence(s, alice.jid) && child(s, 'show') !== undefined), 'update at bob');
    const update = bob.got.filter((s) => isPresence(s, alice.jid)).at(-1)!;
    expect(text(child(update, 'show')!)).toBe('away');
    expect(attr(update, 'to')).toBe('bob@localhost');
    await settle(carol);
    expect(presences(carol).filter((s) => attr(s, 'from') !== carol.jid)).toEqual([]);
  });

  it('RFC 6121 §4.2.2 / §4.3: initial presence brings the contacts\' current presence; §4.5.2: unavailable when a socket is killed and when a peer goes silent', async () => {
    const bob = await connect('bob', 'desk', { presence: presence({}, el('status', NS.CLIENT, {}, 'building')) });
    const alice = await connect('alice', 'laptop');
    // §4.3.2 rule 4: bob's last presence, full XML, to the new resource.
    const answer = alice.got.find((s) => isPresence(s, bob.jid));
    expect(answer && text(child(answer, 'status')!)).toBe('building');
    expect(attr(answer!, 'to')).toBe(alice.jid);
    expect(bob.got.some((s) => isPresence(s, alice.jid))).toBe(true);

    // A raw client of alice's that sends initial presence, then its socket is destroyed.
    const killed = await login(running.port, { username: 'alice', password: PASSWORDS.alice!, ca: running.certPem, resource: 'killed' });
    raws.push(killed.client);
    killed.client.send(presence());
    await until(() => bob.got.some((s) => isPresence(s, killed.jid)), 'killed available at bob');
    killed.client.destroy();
    await until(() => bob.got.some((s) => isPresence(s, killed.jid, 'unavailable')), 'killed unavailable at bob');
    await until(() => alice.got.some((s) => isPresence(s, killed.jid, 'unavailable')), 'killed unavailable at alice/laptop');

    // A silent one: it never answers the server's ping (RFC 6120 §4.6.2), the server ends the stream.
    const silent = await login(running.port, { username: 'alice', password: PASSWORDS.alice!, ca: running.certPem, resource: 'silent' });
    raws.push(silent.client);
    silent.client.send(presence());
    await until(() => bob.got.some((s) => isPresence(s, silent.jid)), 'silent available at bob');
    await silent.client.element('error', NS.STREAMS, 5000);
    await until(() => bob.got.some((s) => isPresence(s, silent.jid, 'unavailable')), 'silent unavailable at bob');

    // A graceful one: its own unavailable presence, full XML.
    alice.client.send(presence({ type: 'unavailable' }, el('status', NS.CLIENT, {}, 'gone fishing')));
    await until(() => bob.got.some((s) => isPresence(s, alice.jid, 'unavailable')), 'alice unavailable at bob');
    expect(text(child(bob.got.filter((s) => isPresence(s, alice.jid, 'unavailable')).at(-1)!, 'status')!)).toBe('gone fishing');
  });

  it('RFC 6121 §4.6: directed presence to carol (no subscription) is delivered and remembered: carol gets unavailable when alice\'s stream ends; §4.3.2 rule 1: carol\'s probe reveals nothing', async () => {
    const carol = await connect('carol', 'phone');
    const alice = await connect('alice', 'home');
    expect(presences(carol, alice.jid)).toEqual([]); // the broadcast does not reach a non-subscriber
    alice.client.send(presence({ to: 'carol@localhost/phone' }, el('show', NS.CLIENT, {}, 'chat')));
    await until(() => presences(carol, alice.jid).length === 1, 'directed at carol');
    // A later broadcast does not reach carol (§4.6.3 rule 2).
    alice.client.send(presence({}, el('show', NS.CLIENT, {}, 'dnd')));
    await settle(alice);
    // §4.3.2 rule 1: a probe from carol is answered 'unsubscribed' from alice's bare JID, never with her presence;
    // carol's side ignores that answer, as it ignores any "unsubscribed" without a subscription (§3.2.3 "Otherwise").
    carol.client.send(presence({ to: 'alice@localhost', type: 'probe', id: 'pr1' }));
    carol.client.send(presence({ to: 'alice@localhost/home', type: 'probe', id: 'pr2' }));
    await settle(carol);
    // §4.6.6: the full-JID probe from the entity alice sent directed presence to gets mere presence of that resource.
    const fromAlice = presences(carol).filter((s) => attr(s, 'from') !== carol.jid);
    expect(fromAlice.map((s) => [attr(s, 'from'), attr(s, 'type'), childElements(s).length])).toEqual([[alice.jid, undefined, 1], [alice.jid, undefined, 0]]);
    expect(attr(fromAlice[1]!, 'id')).toBe('pr2');
    await alice.client.stop();
    await until(() => carol.got.some((s) => isPresence(s, alice.jid, 'unavailable')), 'unavailable at carol');
    expect(presences(carol, alice.jid)).toHaveLength(3);
  });

  it('RFC 6121 §8.5.2.1.1: a bare-JID message goes to the resources of highest non-negative priority, never to a negative one; headline to all non-negative; §8.5.3.2.1 chat to a gone resource likewise', async () => {
    const hi1 = await connect('alice', 'hi1', { presence: presence({}, priority(5)) });
    const hi2 = await connect('alice', 'hi2', { presence: presence({}, priority(5)) });
    const lo = await connect('alice', 'lo', { presence: presence({}, priority(1)) });
    const neg = await connect('alice', 'neg', { presence: presence({}, priority(-1)) });
    const bob = await connect('bob', 'desk');
    bob.client.send(chat('alice@localhost', 'm1'));
    bob.client.send(chat('alice@localhost/gone', 'm2'));
    bob.client.send(chat('alice@localhost', 'h1', 'headline'));
    const marker = chat('alice@localhost', 'end');
    bob.client.send(marker);
    await until(() => messages(hi2).some((m) => attr(m, 'id') === 'end'), 'marker');
    await Promise.all([hi1, lo, neg].map(settle));
    const ids = (r: Resource) => messages(r).map((m) => attr(m, 'id'));
    expect(ids(hi1)).toEqual(['m1', 'm2', 'h1', 'end']);
    expect(ids(hi2)).toEqual(['m1', 'm2', 'h1', 'end']);
    expect(ids(lo)).toEqual(['h1']);
    expect(ids(neg)).toEqual([]);
    expect(attr(messages(hi1)[0]!, 'to')).toBe('alice@localhost'); // MUST NOT rewrite 'to'
    // §4.7.2.3: a priority outside -128..127 is refused and changes nothing.
    await expect(hi1.client.iq(el('iq', NS.CLIENT, { type: 'get', to: 'localhost' }, el('ping', NS.PING)))).resolves.toBeTruthy();
    hi1.client.send(presence({ id: 'bad' }, priority(300)));
    await until(() => hi1.got.some((s) => s.name === 'presence' && attr(s, 'id') === 'bad' && attr(s, 'type') === 'error'), 'bad-request');
    // Only the negative one left: the message is stored offline (§8.5.2.1.1 last paragraph).
    for (const r of [hi1, hi2, lo]) await r.client.stop();
    bob.client.send(chat('alice@localhost', 'stored'));
    await settle(bob);
    await settle(neg);
    expect(ids(neg)).toEqual([]);
    expect(running.server.offlineMessages.count('alice')).toBe(1);
    running.server.offlineMessages.take('alice');
  });

  it('RFC 6121 §8.5.2.2.1: messages to an account with no resource are stored up to the limit (then <resource-constraint/>), delivered once with an XEP-0203 delay at the next initial presence; headline ignored, groupchat refused', async () => {
    const bob = await connect('bob', 'desk');
    bob.client.send(chat('alice@localhost', 'o1'));
    bob.client.send(chat('alice@localhost', 'o2', 'normal'));
    bob.client.send(chat('alice@localhost', 'o3'));
    bob.client.send(chat('alice@localhost', 'h', 'headline'));
    bob.client.send(chat('alice@localhost', 'g', 'groupchat'));
    await until(() => bob.got.filter((s) => s.name === 'message' && attr(s, 'type') === 'error').length === 2, 'two errors');
    const errors = bob.got.filter((s) => s.name === 'message' && attr(s, 'type') === 'error');
    const condition = (e: XmlElement) => childElements(child(e, 'error')!).find((c) => c.xmlns === NS.STANZAS)!.name;
    expect(errors.map((e) => [attr(e, 'id'), condition(e), attr(child(e, 'error')!, 'type')])).toEqual([
      ['o3', 'resource-constraint', 'wait'],
      ['g', 'service-unavailable', 'cancel'],
    ]);
    expect(running.server.offlineMessages.count('alice')).toBe(2);

    // Connected without presence: nothing yet (delivery waits for initial presence).
    const alice = await connect('alice', 'home', { presence: false });
    expect(messages(alice)).toEqual([]);
    alice.client.send(presence());
    await until(() => messages(alice).length === 2, 'offline messages');
    for (const [m, id] of messages(alice).map((m, i) => [m, ['o1', 'o2'][i]] as const)) {
      expect(attr(m, 'id')).toBe(id);
      expect(attr(m, 'from')).toBe(bob.jid);
      const delay = child(m, 'delay', DELAY_NS)!;
      expect(attr(delay, 'from')).toBe('localhost');
      expect(Date.parse(attr(delay, 'stamp')!)).toBeGreaterThan(Date.now() - 60_000);
    }
    expect(running.server.offlineMessages.count('alice')).toBe(0);
    const again = await connect('alice', 'again');
    expect(messages(again)).toEqual([]); // delivered once
  });

  it('RFC 6121 §3.1.3 rule 4: a request for an offline account is held and redelivered at its next initial presence; subscriptions, held requests and offline messages survive a restart', async () => {
    const carol = await connect('carol', 'phone');
    carol.client.send(presence({ to: 'alice@localhost', type: 'subscribe' }, el('status', NS.CLIENT, {}, 'hi, carol here')));
    carol.client.send(chat('alice@localhost', 'later'));
    await settle(carol);
    expect(rosterItem('carol', 'alice@localhost')).toMatchObject({ subscription: 'none', ask: 'subscribe' });
    await stopAll();

    await running.stop();
    running = await startServer({ policy: { timeouts: { idle: 600, pingResponse: 500 } }, limits: { offlineMessagesPerAccount: 2 } }, running.dataDir);
    expect(rosterItem('alice', 'bob@localhost')?.subscription).toBe('both');
    expect(rosterItem('carol', 'alice@localhost')).toMatchObject({ subscription: 'none', ask: 'subscribe' });

    const alice = await connect('alice', 'home');
    const held = alice.got.find((s) => isPresence(s, 'carol@localhost', 'subscribe'));
    expect(held && text(child(held, 'status')!)).toBe('hi, carol here');
    expect(messages(alice).map((m) => attr(m, 'id'))).toEqual(['later']);
    // Alice denies (§3.1.4): carol's request is gone, carol's item loses its ask.
    alice.client.send(presence({ to: 'carol@localhost', type: 'unsubscribed' }));
    await settle(alice);
    expect(rosterItem('carol', 'alice@localhost')).toMatchObject({ subscription: 'none' });
    expect(rosterItem('carol', 'alice@localhost')?.ask).toBeUndefined();
    const second = await connect('alice', 'second');
    expect(second.got.some((s) => isPresence(s, 'carol@localhost', 'subscribe'))).toBe(false);
  });
});
