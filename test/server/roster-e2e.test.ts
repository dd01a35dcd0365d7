/**
 * RFC 6121 §2 rosters over real sockets with the project's own client: three resources of one
 * account, two of them interested (§2.2), the pushes of §2.3.2 and §2.5.2, §2.6 versions, and
 * the roster surviving a server restart on the same data directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { attr, child, childElements, el, type XmlElement } from '../../machines/xml.js';
import { createClient, type XmppClient } from '../../runtime/client/index.js';
import { ROSTER_NS, ROSTERVER_NS } from '../../runtime/server/roster.js';
import { removeDir, startServer, USERS, type Running } from '../client/fixture.js';

/** A client of alice that records the roster pushes it gets and answers them (§2.1.6: a result). */
interface Resource {
  readonly client: XmppClient;
  readonly jid: string;
  readonly pushes: XmlElement[];
}

let running: Running;
const started: XmppClient[] = [];

async function connect(resource: string): Promise<Resource> {
  const client = createClient({
    jid: `alice@localhost/${resource}`,
    password: USERS.alice,
    host: '127.0.0.1',
    port: running.port,
    tls: { ca: running.certPem },
  });
  const pushes: XmlElement[] = [];
  client.handleIq(ROSTER_NS, 'query', (iq) => {
    // §2.1.6 rule 2: a push is accepted only without 'from' or from the user's own bare JID.
    const from = attr(iq, 'from');
    if (from !== undefined && from !== 'alice@localhost') throw new Error(`roster push from ${from}`);
    pushes.push(iq);
  });
  started.push(client);
  const jid = await client.start();
  return { client, jid, pushes };
}

const getRoster = (r: Resource, ver?: string) => r.client.iq(el('iq', NS.CLIENT, { type: 'get' }, el('query', ROSTER_NS, { ver })));
const rosterSet = (r: Resource, item: XmlElement) => r.client.iq(el('iq', NS.CLIENT, { type: 'set' }, el('query', ROSTER_NS, {}, item)));
const itemsOf = (iq: XmlElement) => childElements(child(iq, 'query', ROSTER_NS)!);
/** A ping round trip: everything the server wrote before its answer has arrived. */
const settle = (r: Resource) => r.client.iq(el('iq', NS.CLIENT, { type: 'get', to: 'localhost' }, el('ping', NS.PING)));

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('RFC 6121 §2 rosters over real sockets', () => {
  beforeAll(async () => {
    running = await startServer();
  });
  afterAll(async () => {
    for (const c of started) await c.stop().catch(() => undefined);
    await running.stop();
    removeDir(running.dataDir);
  });

  it('RFC 6121 §2.2 / §2.3.2 / §2.5.2: A and B requested the roster and get every push; C never did and gets none; the roster survives a restart; §2.6.3 interim pushes', async () => {
    const a = await connect('a');
    const b = await connect('b');
    const c = await connect('c');

    // §2.1.4: a new account's roster is empty, with a version (§2.6.3).
    const first = await getRoster(a);
    expect(attr(first, 'type')).toBe('result');
    expect(itemsOf(first)).toEqual([]);
    const ver0 = attr(child(first, 'query', ROSTER_NS)!, 'ver')!;
    expect(ver0).toBeTruthy();
    expect(itemsOf(await getRoster(b))).toEqual([]);

    // §2.3.2: A adds an item → result to A, a push to A and to B (interested), none to C.
    const added = await rosterSet(a, el('item', ROSTER_NS, { jid: 'nurse@example.com', name: 'Nurse' }, el('group', ROSTER_NS, {}, 'Servants')));
    expect(attr(added, 'type')).toBe('result');
    await until(() => a.pushes.length === 1 && b.pushes.length === 1);
    for (const [r, push] of [[a, a.pushes[0]!], [b, b.pushes[0]!]] as const) {
      expect(attr(push, 'type')).toBe('set');
      expect(attr(push, 'to')).toBe(r.jid);
      expect(attr(push, 'from')).toBeUndefined();
      expect(itemsOf(push)).toEqual([
        el('item', ROSTER_NS, { jid: 'nurse@example.com', name: 'Nurse', subscription: 'none' }, el('group', ROSTER_NS, {}, 'Servants')),
      ]);
    }
    const ver1 = attr(child(a.pushes[0]!, 'query', ROSTER_NS)!, 'ver')!;
    expect(ver1).not.toBe(ver0);

    // §2.3.3: an error reaches the requester only and pushes nothing.
    await expect(rosterSet(b, el('item', ROSTER_NS, { jid: 'nurse@example.com' }, el('group', ROSTER_NS, {}, '')))).rejects.toMatchObject({ condition: 'not-acceptable' });

    // §2.5.2: B removes it → a push with subscription='remove' to A and B.
    expect(attr(await rosterSet(b, el('item', ROSTER_NS, { jid: 'mother@example.com' })), 'type')).toBe('result');
    expect(attr(await rosterSet(b, el('item', ROSTER_NS, { jid: 'nurse@example.com', subscription: 'remove' })), 'type')).toBe('result');
    await until(() => a.pushes.length === 3 && b.pushes.length === 3);
    expect(itemsOf(b.pushes[2]!)).toEqual([el('item', ROSTER_NS, { jid: 'nurse@example.com', subscription: 'remove' })]);
    expect(itemsOf(a.pushes[2]!)).toEqual(itemsOf(b.pushes[2]!));
    // §2.5.3: removing it again → item-not-found.
    await expect(rosterSet(a, el('item', ROSTER_NS, { jid: 'nurse@example.com', subscription: 'remove' }))).rejects.toMatchObject({ condition: 'item-not-found' });

    // C never requested the roster: no push at all, though it was online the whole time.
    await settle(c);
    expect(c.pushes).toEqual([]);
    expect(a.pushes.length).toBe(3);
    expect(b.pushes.length).toBe(3);

    // §2.6.3: the version of the last push is current → an empty result, no pushes.
    const lastVer = attr(child(b.pushes[2]!, 'query', ROSTER_NS)!, 'ver')!;
    const cached = await getRoster(c, lastVer);
    expect(childElements(cached)).toEqual([]);
    const full = await getRoster(c, ver1);
    expect(itemsOf(full).map((i) => attr(i, 'jid'))).toEqual(['mother@example.com']);

    // Restart the server on the same data directory: the roster and its version are kept.
    for (const r of [a, b, c]) await r.client.stop();
    await running.stop();
    running = await startServer({}, running.dataDir);
    const again = await connect('again');
    const after = await getRoster(again);
    expect(itemsOf(after)).toEqual([el('item', ROSTER_NS, { jid: 'mother@example.com', subscription: 'none' })]);
    expect(attr(child(after, 'query', ROSTER_NS)!, 'ver')).toBe(lastVer);
    expect(running.server.rosters.get('alice')).toEqual({ version: lastVer, items: [{ jid: 'mother@example.com', subscription: 'none', approved: false, groups: [] }] });
    expect(childElements(await getRoster(again, lastVer))).toEqual([]);

    // §2.6.3 interim pushes: a resource whose cache is at lastVer, two items added since (fewer than the three items).
    await rosterSet(again, el('item', ROSTER_NS, { jid: 'x@example.com' }));
    await rosterSet(again, el('item', ROSTER_NS, { jid: 'y@example.com' }));
    const late = await connect('late');
    expect(childElements(await getRoster(late, lastVer))).toEqual([]); // the empty IQ-result
    await until(() => late.pushes.length === 2);
    expect(late.pushes.map((p) => attr(itemsOf(p)[0]!, 'jid'))).toEqual(['x@example.com', 'y@example.com']);
    expect(attr(child(late.pushes[1]!, 'query', ROSTER_NS)!, 'ver')).toBe(attr(child(again.pushes.at(-1)!, 'query', ROSTER_NS)!, 'ver'));
  });

  it('RFC 6121 §2.6.1: the roster versioning stream feature is advertised after authentication', async () => {
    const client = createClient({ jid: 'bob@localhost', password: USERS.bob, host: '127.0.0.1', port: running.port, tls: { ca: running.certPem } });
    started.push(client);
    const read: string[] = [];
    client.on('wire', (w) => {
      if (w.direction === 'in') read.push(w.text);
    });
    await client.start();
    const wire = read.join('');
    // Only in the features after authentication, with <bind/> (as Prosody does): the feature is about the user's roster.
    const features = [...wire.matchAll(/<stream:features>(.*?)<\/stream:features>/gs)].map((m) => m[1]!);
    expect(features.length).toBeGreaterThanOrEqual(2); // STARTTLS, SASL, then bind
    for (const before of features.slice(0, -1)) expect(before).not.toContain(ROSTERVER_NS);
    const last = features.at(-1)!;
    expect(last).toContain('urn:ietf:params:xml:ns:xmpp-bind');
    expect(last).toMatch(new RegExp(`<ver xmlns=['"]${ROSTERVER_NS}['"]/>`));
  });
});
