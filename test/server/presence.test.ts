/**
 * The pure presence logic (runtime/server/presence.ts, subscriptions.ts, messages.ts,
 * offline.ts) over real stores in a temporary file and a PresenceHost whose connected
 * resources are a Map: RFC 6121 §3, §4 and §8.5 without sockets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bare, formatJid, parseJid } from '../../machines/jid.js';
import { NS } from '../../machines/ns.js';
import { attr, child, el, type XmlElement } from '../../machines/xml.js';
import type { Delivery } from '../../runtime/server/delivery.js';
import { messageToAccount, messageType } from '../../runtime/server/messages.js';
import { DELAY_NS, deliverOffline, storeOffline } from '../../runtime/server/offline.js';
import { createPresence, priorityOf, type Presence } from '../../runtime/server/presence.js';
import { newResourcePresence, type PresenceHost, type ResourcePresence } from '../../runtime/server/presence-host.js';
import { openAccountStore } from '../../runtime/store/accounts.js';
import { openOfflineStore, type OfflineStore } from '../../runtime/store/offline.js';
import { openRosterStore, type RosterStore } from '../../runtime/store/roster.js';
import { openSubscriptionRequestStore, type SubscriptionRequestStore } from '../../runtime/store/subscription-requests.js';

const D = 'im.example.com';
const JULIET = `juliet@${D}`;
const ROMEO = `romeo@${D}`;

let dir: string;
let rosters: RosterStore;
let requests: SubscriptionRequestStore;
let offline: OfflineStore;
let connected: Map<string, ResourcePresence>;
let interested: Set<string>;
let remote: XmlElement[];
let host: PresenceHost;
let presence: Presence;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xmppkit-presence-'));
  const file = join(dir, 'accounts.sqlite');
  const accounts = openAccountStore({ file, iterations: 4096 });
  for (const u of ['juliet', 'romeo', 'nurse']) accounts.add(u, 'pw');
  accounts.close();
  rosters = openRosterStore({ file });
  requests = openSubscriptionRequestStore({ file });
  offline = openOfflineStore({ file });
  connected = new Map();
  interested = new Set();
  remote = [];
  host = {
    domain: D,
    accountExists: (l) => ['juliet', 'romeo', 'nurse'].includes(l),
    resources: (b) => [...connected.keys()].filter((f) => formatJid(bare(parseJid(f)!)) === b),
    resource: (f) => connected.get(f),
    isInterested: (f) => interested.has(f),
    rosters,
    requests,
    offline: { store: offline, limit: 2 },
    remote: (s) => {
      remote.push(s);
      return [];
    },
    now: () => new Date('2026-01-02T03:04:05.678Z'),
  };
  presence = createPresence(host);
});
afterEach(() => {
  rosters.close();
  requests.close();
  offline.close();
  rmSync(dir, { recursive: true, force: true });
});

const connect = (full: string, opts: { interested?: boolean } = {}) => {
  connected.set(full, newResourcePresence());
  if (opts.interested) interested.add(full);
  return full;
};
/** A stanza from the client `from` as the stream machine stamps it (bare JID for subscription types, RFC 6120 §8.1.2.1). */
const fromClient = (from: string, attrs: Record<string, string | undefined>, ...children: XmlElement[]): Delivery[] => {
  const sub = ['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed'].includes(attrs.type ?? '');
  const stamped = sub ? formatJid(bare(parseJid(from)!)) : from;
  return presence.fromClient(el('presence', NS.CLIENT, { ...attrs, from: stamped }, ...children), from);
};
const brief = (ds: Delivery[]) => ds.map((d) => `${d.to} <- ${d.stanza.name} ${attr(d.stanza, 'from')}${attr(d.stanza, 'type') ? ` ${attr(d.stanza, 'type')}` : ''}`);
const subscribeBoth = () => {
  rosters.setSubscription('juliet', ROMEO, { subscription: 'both', approved: false });
  rosters.setSubscription('romeo', JULIET, { subscription: 'both', approved: false });
};

describe('RFC 6121 §4.7.2.3 priority', () => {
  it('absent → 0; -128..127; more than one, not an integer, or out of range → invalid', () => {
    const p = (...values: string[]) => el('presence', NS.CLIENT, {}, ...values.map((v) => el('priority', NS.CLIENT, {}, v)));
    expect(priorityOf(p())).toBe(0);
    expect(priorityOf(p('-128'))).toBe(-128);
    expect(priorityOf(p('+127'))).toBe(127);
    for (const bad of [p('128'), p('-129'), p('1.5'), p('high'), p(''), p('1', '2')]) expect(priorityOf(bad)).toBeUndefined();
  });
});

describe('RFC 6121 §4 presence', () => {
  it('RFC 6121 §4.2.2: initial presence to subscribers and own resources; the contact\'s current presence back to the new resource only', () => {
    subscribeBoth();
    const r = connect(`${ROMEO}/orchard`);
    fromClient(r, {});
    const other = connect(`${JULIET}/chamber`);
    fromClient(other, {}, el('show', NS.CLIENT, {}, 'away'));
    const j = connect(`${JULIET}/balcony`);
    expect(brief(fromClient(j, {}))).toEqual([
      `${r} <- presence ${j}`, // to romeo (subscriber), delivered to his available resource
      `${other} <- presence ${j}`,
      `${j} <- presence ${j}`, // the sender included
      `${j} <- presence ${r}`, // romeo's current presence (§4.3.2 rule 4, answered locally)
      `${j} <- presence ${other}`, // juliet's own other resource
    ]);
    // A subsequent update (§4.4.2) is no initial presence: no presence comes back.
    expect(brief(fromClient(j, {}, el('show', NS.CLIENT, {}, 'chat')))).toEqual([`${r} <- presence ${j}`, `${other} <- presence ${j}`, `${j} <- presence ${j}`]);
  });

  it('RFC 6121 §4.2.2: a contact with subscription "to" only is not sent the user\'s presence; a remote subscriber gets it through the remote route, a remote contact a probe from the bare JID', () => {
    rosters.setSubscription('juliet', ROMEO, { subscription: 'to', approved: false });
    rosters.setSubscription('juliet', 'benvolio@example.net', { subscription: 'both', approved: false });
    const r = connect(`${ROMEO}/orchard`);
    const j = connect(`${JULIET}/balcony`);
    expect(brief(fromClient(j, {}))).toEqual([`${j} <- presence ${j}`]);
    expect(remote.map((s) => [attr(s, 'to'), attr(s, 'from'), attr(s, 'type')])).toEqual([
      ['benvolio@example.net', j, undefined],
      ['benvolio@example.net', JULIET, 'probe'],
    ]);
    expect(connected.get(r)!.available).toBeUndefined();
  });

  it('RFC 6121 §4.5.2 / §4.6.3: a stream that ends sends unavailable to subscribers, directed entities and the other resources; the record is cleared', () => {
    subscribeBoth();
    const r = connect(`${ROMEO}/orchard`);
    fromClient(r, {});
    const n = connect(`nurse@${D}/kitchen`);
    const j = connect(`${JULIET}/balcony`);
    const other = connect(`${JULIET}/chamber`);
    fromClient(other, {});
    fromClient(j, {});
    expect(brief(fromClient(j, { to: `nurse@${D}/kitchen` }))).toEqual([`${n} <- presence ${j}`]); // directed, delivered to a connected resource
    const record = connected.get(j)!;
    expect([...record.directed]).toEqual([`nurse@${D}/kitchen`]);
    connected.delete(j);
    expect(brief(presence.ended(j, record))).toEqual([`${r} <- presence ${j} unavailable`, `${n} <- presence ${j} unavailable`, `${other} <- presence ${j} unavailable`]);
    expect(record.available).toBeUndefined();
    expect(record.directed.size).toBe(0);
    expect(presence.ended(j, record)).toEqual([]); // once
  });

  it('RFC 6121 §4.6.3 rule 1: directed presence to a subscriber is not remembered; directed unavailable removes the entity', () => {
    subscribeBoth();
    const j = connect(`${JULIET}/balcony`);
    fromClient(j, {});
    fromClient(j, { to: ROMEO });
    fromClient(j, { to: `nurse@${D}` });
    expect([...connected.get(j)!.directed]).toEqual([`nurse@${D}`]);
    fromClient(j, { to: `nurse@${D}`, type: 'unavailable' });
    expect(connected.get(j)!.directed.size).toBe(0);
  });

  it('RFC 6121 §8.5.2.2.2 / §8.5.3.2.2 / §8.5.1: presence to an account with no available resource, a gone resource or no account is dropped', () => {
    const r = connect(`${ROMEO}/orchard`); // connected, not available
    const j = connect(`${JULIET}/balcony`);
    expect(fromClient(j, { to: ROMEO })).toEqual([]);
    expect(fromClient(j, { to: `${ROMEO}/gone` })).toEqual([]);
    expect(fromClient(j, { to: `ghost@${D}` })).toEqual([]);
    expect(brief(fromClient(j, { to: r }))).toEqual([`${r} <- presence ${j}`]); // §8.5.3.1: a connected resource that matches
  });

  it('RFC 6121 §4.3.2: probes: rule 1 "unsubscribed" from the bare JID (absent accounts alike); rule 4 the full XML of each available resource; a full JID probe gets mere presence', () => {
    rosters.setSubscription('romeo', JULIET, { subscription: 'from', approved: false });
    const r1 = connect(`${ROMEO}/orchard`);
    fromClient(r1, {}, el('status', NS.CLIENT, {}, 'sighing'));
    const j = connect(`${JULIET}/balcony`);
    const answers = fromClient(j, { to: ROMEO, type: 'probe', id: 'p1' });
    expect(brief(answers)).toEqual([`${j} <- presence ${r1}`]);
    expect(child(answers[0]!.stanza, 'status')).toBeDefined();
    const full = fromClient(j, { to: r1, type: 'probe' });
    expect(full.map((d) => d.stanza.children.length)).toEqual([0]);
    // The nurse is not subscribed: "unsubscribed" reaches the nurse's server, whose machine ignores it (§3.2.3 "Otherwise").
    const n = connect(`nurse@${D}/kitchen`);
    fromClient(n, {});
    expect(fromClient(n, { to: ROMEO, type: 'probe' })).toEqual([]);
    expect(fromClient(n, { to: `ghost@${D}`, type: 'probe' })).toEqual([]);
  });

  it('RFC 6120 §8.3.3.1: an invalid priority gets <bad-request/> and changes nothing', () => {
    const j = connect(`${JULIET}/balcony`);
    const out = fromClient(j, { id: 'x' }, el('priority', NS.CLIENT, {}, '500'));
    expect(out).toHaveLength(1);
    expect(attr(out[0]!.stanza, 'type')).toBe('error');
    expect(child(child(out[0]!.stanza, 'error')!, 'bad-request', NS.STANZAS)).toBeDefined();
    expect(connected.get(j)!.available).toBeUndefined();
  });
});

describe('RFC 6121 §3 subscriptions through the machine', () => {
  it('RFC 6121 §3.1.2-§3.1.6: request, held while offline (§3.1.3 rule 4) and redelivered on initial presence, approval with roster pushes and presence', () => {
    const j = connect(`${JULIET}/balcony`, { interested: true });
    fromClient(j, {});
    expect(brief(fromClient(j, { to: ROMEO, type: 'subscribe' }))).toEqual([`${j} <- iq undefined set`]); // romeo offline: held
    expect(rosters.item('juliet', ROMEO)).toMatchObject({ subscription: 'none', ask: 'subscribe' });
    expect(requests.has('romeo', JULIET)).toBe(true);
    expect(rosters.item('romeo', JULIET)).toBeUndefined();

    const r = connect(`${ROMEO}/orchard`, { interested: true });
    const online = brief(fromClient(r, {}));
    expect(online).toContain(`${r} <- presence ${JULIET} subscribe`); // redelivered
    expect(brief(fromClient(r, { to: JULIET, type: 'subscribed' }))).toEqual([
      `${j} <- presence ${ROMEO} subscribed`, // §3.1.6 to juliet's interested resource
      `${j} <- iq undefined set`, // her push: subscription 'to'
      `${r} <- iq undefined set`, // his push: subscription 'from'
      `${j} <- presence ${r}`, // §3.1.5: romeo's current presence
    ]);
    expect(rosters.item('juliet', ROMEO)?.subscription).toBe('to');
    expect(rosters.item('romeo', JULIET)?.subscription).toBe('from');
    expect(requests.has('romeo', JULIET)).toBe(false);
  });

  it('RFC 6121 §3.4 pre-approval: stored as approved, answered at once on the request; §3.2 cancel sends unavailable first', () => {
    const r = connect(`${ROMEO}/orchard`, { interested: true });
    fromClient(r, {});
    fromClient(r, { to: JULIET, type: 'subscribed' });
    expect(rosters.item('romeo', JULIET)).toMatchObject({ subscription: 'none', approved: true });
    const j = connect(`${JULIET}/balcony`, { interested: true }); // §3.1.6: the approval goes to interested resources
    fromClient(j, {});
    const out = brief(fromClient(j, { to: ROMEO, type: 'subscribe' }));
    expect(out).toContain(`${j} <- presence ${ROMEO} subscribed`);
    expect(out).toContain(`${j} <- presence ${r}`);
    expect(rosters.item('romeo', JULIET)).toMatchObject({ subscription: 'from', approved: false });
    expect(rosters.item('juliet', ROMEO)?.subscription).toBe('to');
    // §3.2.2: romeo cancels juliet's subscription: she gets his unavailable presence, then the cancellation.
    const cancel = brief(fromClient(r, { to: JULIET, type: 'unsubscribed' }));
    expect(cancel.slice(0, 2)).toEqual([`${j} <- presence ${r} unavailable`, `${j} <- presence ${ROMEO} unsubscribed`]);
    expect(rosters.item('juliet', ROMEO)?.subscription).toBe('none');
  });

  it('RFC 6121 §4.2.2, §8.5.1: a subscription stanza to the own bare JID or to an absent account changes nothing', () => {
    const j = connect(`${JULIET}/balcony`);
    expect(fromClient(j, { to: JULIET, type: 'subscribe' })).toEqual([]);
    expect(rosters.item('juliet', JULIET)).toBeUndefined();
    fromClient(j, { to: `ghost@${D}`, type: 'subscribe' });
    expect(rosters.item('juliet', `ghost@${D}`)).toMatchObject({ ask: 'subscribe' }); // her side records her request (§3.1.2)
  });
});

describe('RFC 6121 §8.5.2 messages to a bare JID, offline storage', () => {
  const message = (to: string, type?: string, id = 'm') => el('message', NS.CLIENT, { from: `nurse@${D}/kitchen`, to, type, id }, el('body', NS.CLIENT, {}, 'hi'));
  const fail = (c: string) => [{ to: 'ERR', stanza: el('error', NS.CLIENT, { condition: c }) }];
  const deliver = (to: string, type?: string) => messageToAccount(message(to, type), parseJid(to)!, `nurse@${D}/kitchen`, host, fail as never).map((d) => (d.to === 'ERR' ? `error ${attr(d.stanza, 'condition')}` : d.to));
  const available = (full: string, priority: number) => {
    connect(full);
    connected.get(full)!.available = el('presence', NS.CLIENT, { from: full });
    connected.get(full)!.priority = priority;
  };

  it('RFC 6121 §5.2.2: absent or unknown type is normal', () => {
    expect(messageType(message(JULIET))).toBe('normal');
    expect(messageType(message(JULIET, 'bogus'))).toBe('normal');
  });

  it('RFC 6121 §8.5.2.1.1: highest non-negative priority (all at it); headline to every non-negative; never negative; groupchat refused, error ignored', () => {
    available(`${JULIET}/a`, 5);
    available(`${JULIET}/b`, 5);
    available(`${JULIET}/c`, 0);
    available(`${JULIET}/d`, -1);
    expect(deliver(JULIET, 'chat')).toEqual([`${JULIET}/a`, `${JULIET}/b`]);
    expect(deliver(JULIET)).toEqual([`${JULIET}/a`, `${JULIET}/b`]);
    expect(deliver(JULIET, 'headline')).toEqual([`${JULIET}/a`, `${JULIET}/b`, `${JULIET}/c`]);
    expect(deliver(JULIET, 'groupchat')).toEqual(['error service-unavailable']);
    expect(deliver(JULIET, 'error')).toEqual([]);
    // §8.5.3.2.1: a gone full JID: chat as the bare JID; normal/groupchat refused; headline ignored.
    expect(deliver(`${JULIET}/gone`, 'chat')).toEqual([`${JULIET}/a`, `${JULIET}/b`]);
    expect(deliver(`${JULIET}/gone`)).toEqual(['error service-unavailable']);
    expect(deliver(`${JULIET}/gone`, 'headline')).toEqual([]);
  });

  it('RFC 6121 §8.5.2.1, §4.7.2.3: a connected resource without presence counts with priority 0', () => {
    connect(`${JULIET}/quiet`);
    available(`${JULIET}/neg`, -5);
    expect(deliver(JULIET)).toEqual([`${JULIET}/quiet`]);
    available(`${JULIET}/one`, 1);
    expect(deliver(JULIET)).toEqual([`${JULIET}/one`]);
  });

  it('RFC 6121 §8.5.2.2.1: only negative resources or none: chat/normal stored up to the limit, then <resource-constraint/>; headline ignored', () => {
    available(`${JULIET}/neg`, -1);
    expect(deliver(JULIET, 'chat')).toEqual([]);
    expect(deliver(JULIET)).toEqual([]);
    expect(deliver(JULIET, 'headline')).toEqual([]);
    expect(offline.count('juliet')).toBe(2);
    const over = storeOffline(host.offline!, 'juliet', message(JULIET, 'chat', 'over'), `nurse@${D}/kitchen`, host.now());
    expect(over.map((d) => [d.to, attr(d.stanza, 'type'), attr(d.stanza, 'id')])).toEqual([[`nurse@${D}/kitchen`, 'error', 'over']]);
    expect(child(child(over[0]!.stanza, 'error')!, 'resource-constraint', NS.STANZAS)).toBeDefined();
    expect(attr(child(over[0]!.stanza, 'error')!, 'type')).toBe('wait');
    const delivered = deliverOffline(host.offline!, 'juliet', `${JULIET}/new`, D);
    expect(delivered.map((d) => [d.to, attr(child(d.stanza, 'delay', DELAY_NS)!, 'stamp'), attr(child(d.stanza, 'delay', DELAY_NS)!, 'from')])).toEqual([
      [`${JULIET}/new`, '2026-01-02T03:04:05.678Z', D],
      [`${JULIET}/new`, '2026-01-02T03:04:05.678Z', D],
    ]);
    expect(offline.count('juliet')).toBe(0);
  });

  it('RFC 6121 §8.5.2.2.1: offline messages come with initial presence of non-negative priority, not with a negative one', () => {
    storeOffline(host.offline!, 'juliet', message(JULIET, 'chat'), `nurse@${D}/kitchen`, host.now());
    const neg = connect(`${JULIET}/neg`);
    expect(fromClient(neg, {}, el('priority', NS.CLIENT, {}, '-1')).filter((d) => d.stanza.name === 'message')).toEqual([]);
    const j = connect(`${JULIET}/balcony`);
    expect(fromClient(j, {}).filter((d) => d.stanza.name === 'message').map((d) => d.to)).toEqual([j]);
  });
});
