/**
 * RFC 6121 §2 roster management without sockets: the validation of a roster set (roster.ts),
 * and get / add / update / delete / versioning through the router with a real SQLite roster
 * store — the result to the requester, the pushes to the interested resources (§2.2) only.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { attr, child, childElements, el, text, type XmlElement } from '../../machines/xml.js';
import {
  DEFAULT_ROSTER_LIMITS,
  parseRosterSet,
  removalSideEffects,
  rosterRequest,
  ROSTER_NS,
} from '../../runtime/server/roster.js';
import { route, type Delivery, type RouterView } from '../../runtime/server/router.js';
import { answerIq } from '../../runtime/server/server-iq.js';
import type { RosterItem } from '../../runtime/store/roster.js';
import { stanzaError } from './client.js';
import { testRosters, type TestRosters } from './roster-fixture.js';

const DOMAIN = 'example.com';
const BARE = 'juliet@example.com';
const BALCONY = 'juliet@example.com/balcony';
const CHAMBER = 'juliet@example.com/chamber';
const GARDEN = 'juliet@example.com/garden';
const ROMEO = 'romeo@example.com/orchard';

const item = (attrs: Record<string, string | undefined>, ...groups: string[]) =>
  el('item', ROSTER_NS, attrs, ...groups.map((g) => el('group', ROSTER_NS, {}, g)));
const query = (...items: XmlElement[]) => el('query', ROSTER_NS, {}, ...items);
const set = (...items: XmlElement[]) => parseRosterSet(query(...items));

describe('RFC 6121 §2.1.5 / §2.3.3 roster set validation (roster.ts)', () => {
  it('RFC 6121 §2.3.3 bad-request 1 / §2.1.5 rule 1: more than one <item/> → bad-request; none at all too', () => {
    expect(set(item({ jid: 'nurse@example.com' }), item({ jid: 'mother@example.com' }))).toEqual({ kind: 'error', condition: 'bad-request' });
    expect(set()).toEqual({ kind: 'error', condition: 'bad-request' });
  });

  it('RFC 6121 §2.3.3 bad-request 2: duplicate groups → bad-request, compared like resourceparts (NFC, case kept)', () => {
    expect(set(item({ jid: 'nurse@example.com', name: 'Nurse' }, 'Servants', 'Servants'))).toEqual({ kind: 'error', condition: 'bad-request' });
    expect(set(item({ jid: 'nurse@example.com' }, 'Caf\u00e9', 'Cafe\u0301'))).toEqual({ kind: 'error', condition: 'bad-request' });
    expect(set(item({ jid: 'nurse@example.com' }, 'Friends', 'friends'))).toMatchObject({ kind: 'update', groups: ['Friends', 'friends'] });
  });

  it('RFC 6121 §2.3.3 not-acceptable 1: a name longer than the server-configured limit', () => {
    const limits = { ...DEFAULT_ROSTER_LIMITS, maxNameBytes: 8 };
    expect(parseRosterSet(query(item({ jid: 'nurse@example.com', name: 'x'.repeat(9) })), limits)).toEqual({ kind: 'error', condition: 'not-acceptable' });
    expect(parseRosterSet(query(item({ jid: 'nurse@example.com', name: 'x'.repeat(8) })), limits)).toMatchObject({ kind: 'update', name: 'x'.repeat(8) });
    expect(parseRosterSet(query(item({ jid: 'nurse@example.com', name: '\u00e9'.repeat(5) })), limits)).toEqual({ kind: 'error', condition: 'not-acceptable' }); // octets, not characters
    expect(set(item({ jid: 'nurse@example.com', name: 'x'.repeat(1024) }))).toEqual({ kind: 'error', condition: 'not-acceptable' }); // default 1023
  });

  it('RFC 6121 §2.3.3 not-acceptable 2 and 3: an empty <group/>, a group longer than the limit', () => {
    expect(set(item({ jid: 'nurse@example.com', name: 'Nurse' }, ''))).toEqual({ kind: 'error', condition: 'not-acceptable' });
    expect(set(item({ jid: 'nurse@example.com' }, 'g'.repeat(1024)))).toEqual({ kind: 'error', condition: 'not-acceptable' });
    expect(set(item({ jid: 'nurse@example.com' }, 'g'.repeat(1023)))).toMatchObject({ kind: 'update', groups: ['g'.repeat(1023)] });
  });

  it('RFC 6121 §2.1.2.3: the jid is REQUIRED (bad-request), must be a JID (RFC 6120 §8.3.3.8 jid-malformed), and is stored prepared', () => {
    expect(set(item({ name: 'Nurse' }))).toEqual({ kind: 'error', condition: 'bad-request' });
    expect(set(item({ jid: 'nurse@@example.com' }))).toEqual({ kind: 'error', condition: 'jid-malformed' });
    expect(set(item({ jid: '' }))).toEqual({ kind: 'error', condition: 'jid-malformed' });
    expect(set(item({ jid: 'Nurse@Example.COM' }))).toEqual({ kind: 'update', jid: 'nurse@example.com', groups: [] });
  });

  it('RFC 6121 §2.1.2.5 / §2.1.5 rule 2: subscription other than "remove" is ignored, and so are ask and approved (§2.1.2.1, §2.1.2.2)', () => {
    expect(set(item({ jid: 'nurse@example.com', subscription: 'both', ask: 'subscribe', approved: 'true' }, 'Servants'))).toEqual({
      kind: 'update',
      jid: 'nurse@example.com',
      groups: ['Servants'],
    });
    expect(set(item({ jid: 'nurse@example.com', subscription: 'remove' }))).toEqual({ kind: 'remove', jid: 'nurse@example.com' });
  });

  it('RFC 6121 §2.4.1: an empty name is no name; no <group/> is no group; groups keep their order', () => {
    expect(set(item({ jid: 'romeo@example.net', name: '' }))).toEqual({ kind: 'update', jid: 'romeo@example.net', groups: [] });
    expect(set(item({ jid: 'romeo@example.net', name: 'Romeo' }, 'Lovers', 'Friends'))).toEqual({
      kind: 'update',
      jid: 'romeo@example.net',
      name: 'Romeo',
      groups: ['Lovers', 'Friends'],
    });
  });

  it('RFC 6121 §2.5.2: deleting an item asks for unsubscribe (to), unsubscribed (from), both (both), nothing (none)', () => {
    const removed = (subscription: RosterItem['subscription']): RosterItem => ({ jid: 'nurse@example.com', subscription, approved: false, groups: [] });
    expect(removalSideEffects(removed('none'))).toEqual([]);
    expect(removalSideEffects({ ...removed('none'), ask: 'subscribe' })).toEqual([]);
    expect(removalSideEffects(removed('to'))).toEqual([{ type: 'unsubscribe', to: 'nurse@example.com' }]);
    expect(removalSideEffects(removed('from'))).toEqual([{ type: 'unsubscribed', to: 'nurse@example.com' }]);
    expect(removalSideEffects(removed('both'))).toEqual([
      { type: 'unsubscribe', to: 'nurse@example.com' },
      { type: 'unsubscribed', to: 'nurse@example.com' },
    ]);
  });
});

describe('RFC 6121 §2 roster IQs through the router, real store', () => {
  let rosters: TestRosters;
  let online: string[];
  let view: RouterView;
  beforeEach(() => {
    rosters = testRosters();
    online = [BALCONY, CHAMBER, GARDEN, ROMEO];
    view = {
      domain: DOMAIN,
      accountExists: (l) => l === 'juliet' || l === 'romeo',
      resources: (bare) => online.filter((j) => j.startsWith(`${bare}/`)),
      hasPresenceSession: () => false,
      roster: rosters.view,
    };
  });
  afterEach(() => rosters.close());

  const iq = (from: string, type: string, payload: XmlElement, to?: string, id = 'r1') => el('iq', NS.CLIENT, { from, to, id, type }, payload);
  const get = (from: string, attrs: Record<string, string> = {}, to?: string) => route(iq(from, 'get', el('query', ROSTER_NS, attrs), to), view);
  const rosterSet = (from: string, it: XmlElement, to?: string) => route(iq(from, 'set', query(it), to, 'rs1'), view);
  const rosterOf = (d: Delivery) => child(d.stanza, 'query', ROSTER_NS)!;
  const onlyError = (out: Delivery[], from = BALCONY) => {
    expect(out).toHaveLength(1);
    expect(out[0]!.to).toBe(from);
    return stanzaError(out[0]!.stanza);
  };

  it('RFC 6121 §2.1.4 / §2.2: a new account gets an empty roster (a <query/> with no <item/>, never an error), with ver (§2.6.3)', () => {
    const out = get(BALCONY);
    expect(out).toHaveLength(1);
    expect(out[0]!.stanza).toEqual(
      el('iq', NS.CLIENT, { id: 'r1', to: BALCONY, type: 'result' }, el('query', ROSTER_NS, { ver: rosters.store.version('juliet') })),
    );
    expect(rosters.interested).toEqual(new Set([BALCONY]));
  });

  it('RFC 6121 §2.3.2: add → the result to the requester first, then a push to every interested resource (the requester included), none to the others', () => {
    get(BALCONY);
    get(CHAMBER); // GARDEN never asked for the roster
    const out = rosterSet(BALCONY, item({ jid: 'nurse@example.com', name: 'Nurse' }, 'Servants'));
    expect(out.map((d) => d.to)).toEqual([BALCONY, BALCONY, CHAMBER]);
    expect(out[0]!.stanza).toEqual(el('iq', NS.CLIENT, { id: 'rs1', to: BALCONY, type: 'result' })); // §2.3.2: an empty result
    const version = rosters.store.version('juliet');
    for (const push of out.slice(1)) {
      // §2.1.6: type set, one item, no 'from' (implicitly the user's bare JID); §2.6.3: with the new version.
      expect(push.stanza).toEqual(
        el(
          'iq',
          NS.CLIENT,
          { type: 'set', id: `push-${version}`, to: push.to },
          el('query', ROSTER_NS, { ver: version }, item({ jid: 'nurse@example.com', name: 'Nurse', subscription: 'none' }, 'Servants')),
        ),
      );
    }
    expect(rosters.store.get('juliet').items).toEqual([{ jid: 'nurse@example.com', name: 'Nurse', subscription: 'none', approved: false, groups: ['Servants'] }]);
  });

  it('RFC 6121 §2.2: a resource that never requested the roster gets no pushes, even for its own set (it still gets the result)', () => {
    get(CHAMBER);
    const out = rosterSet(GARDEN, item({ jid: 'nurse@example.com' }));
    expect(out.map((d) => [d.to, attr(d.stanza, 'type')])).toEqual([
      [GARDEN, 'result'],
      [CHAMBER, 'set'],
    ]);
  });

  it('RFC 6121 §2.2: pushes go to the account\'s interested resources only, never to another account\'s', () => {
    get(BALCONY);
    route(iq(ROMEO, 'get', el('query', ROSTER_NS)), view);
    expect(rosterSet(BALCONY, item({ jid: 'nurse@example.com' })).map((d) => d.to)).toEqual([BALCONY, BALCONY]);
  });

  it('RFC 6121 §2.2 / §2.1.4: the roster result has every item in full (name, subscription, ask, approved, groups)', () => {
    rosters.store.setSubscription('juliet', 'romeo@example.net', { subscription: 'both', approved: false });
    rosterSet(BALCONY, item({ jid: 'romeo@example.net', name: 'Romeo' }, 'Friends'));
    rosters.store.setSubscription('juliet', 'mercutio@example.com', { subscription: 'none', ask: 'subscribe', approved: true });
    const [result] = get(BALCONY);
    expect(childElements(rosterOf(result!))).toEqual([
      item({ jid: 'romeo@example.net', name: 'Romeo', subscription: 'both' }, 'Friends'),
      item({ jid: 'mercutio@example.com', subscription: 'none', ask: 'subscribe', approved: 'true' }),
    ]);
  });

  it('RFC 6121 §2.4: an update replaces name and groups exactly, keeps the subscription state, and is pushed as stored', () => {
    get(BALCONY);
    rosters.store.setSubscription('juliet', 'romeo@example.net', { subscription: 'to', approved: false });
    rosterSet(BALCONY, item({ jid: 'romeo@example.net', name: 'Romeo' }, 'Friends', 'Lovers'));
    const out = rosterSet(BALCONY, item({ jid: 'romeo@example.net', name: '', subscription: 'none' }));
    expect(childElements(rosterOf(out[1]!))).toEqual([item({ jid: 'romeo@example.net', subscription: 'to' })]);
    expect(rosters.store.item('juliet', 'romeo@example.net')).toEqual({ jid: 'romeo@example.net', subscription: 'to', approved: false, groups: [] });
  });

  it('RFC 6121 §2.5.2: delete → result, then a push with subscription="remove"; the item is gone', () => {
    get(BALCONY);
    get(CHAMBER);
    rosterSet(BALCONY, item({ jid: 'nurse@example.com', name: 'Nurse' }, 'Servants'));
    const out = rosterSet(CHAMBER, item({ jid: 'nurse@example.com', subscription: 'remove' }));
    expect(out.map((d) => [d.to, attr(d.stanza, 'type')])).toEqual([
      [CHAMBER, 'result'],
      [BALCONY, 'set'],
      [CHAMBER, 'set'],
    ]);
    expect(childElements(rosterOf(out[1]!))).toEqual([el('item', ROSTER_NS, { jid: 'nurse@example.com', subscription: 'remove' })]);
    expect(attr(rosterOf(out[1]!), 'ver')).toBe(rosters.store.version('juliet'));
    expect(rosters.store.get('juliet').items).toEqual([]);
  });

  it('RFC 6121 §2.5.2 hook: deleting an item with a mutual subscription returns unsubscribe + unsubscribed for the contact, as data', () => {
    rosters.store.setSubscription('juliet', 'nurse@example.com', { subscription: 'both', approved: false });
    const outcome = rosterRequest('set', query(item({ jid: 'nurse@example.com', subscription: 'remove' })), 'juliet', rosters.store);
    expect(outcome).toMatchObject({ kind: 'result', subscriptionEffects: [{ type: 'unsubscribe', to: 'nurse@example.com' }, { type: 'unsubscribed', to: 'nurse@example.com' }] });
    // server-iq.ts passes them on with the answer (for the subscription logic of RFC 6121 §3).
    rosters.store.setSubscription('juliet', 'nurse@example.com', { subscription: 'from', approved: false });
    const answer = answerIq('set', query(item({ jid: 'nurse@example.com', subscription: 'remove' })), { kind: 'account', self: true }, { username: 'juliet', store: rosters.store });
    expect(answer).toMatchObject({ kind: 'result', roster: { subscriptionEffects: [{ type: 'unsubscribed', to: 'nurse@example.com' }] } });
  });

  it('RFC 6121 §2.5.3: deleting an item that is not on the roster → item-not-found, no push, no new version', () => {
    get(BALCONY);
    const before = rosters.store.version('juliet');
    expect(onlyError(rosterSet(BALCONY, item({ jid: 'nobody@example.com', subscription: 'remove' })))).toEqual({ condition: 'item-not-found', type: 'cancel' });
    expect(rosters.store.version('juliet')).toBe(before);
  });

  it('RFC 6121 §2.3.3: every error case of a set → its error to the requester only; nothing stored, nothing pushed', () => {
    get(BALCONY);
    get(CHAMBER);
    const before = rosters.store.get('juliet');
    const cases: [XmlElement, string, string][] = [
      [query(item({ jid: 'nurse@example.com' }), item({ jid: 'mother@example.com' })), 'bad-request', 'modify'],
      [query(item({ jid: 'nurse@example.com' }, 'Servants', 'Servants')), 'bad-request', 'modify'],
      [query(item({ jid: 'nurse@example.com', name: 'n'.repeat(2000) })), 'not-acceptable', 'modify'],
      [query(item({ jid: 'nurse@example.com' }, '')), 'not-acceptable', 'modify'],
      [query(item({ jid: 'nurse@example.com' }, 'g'.repeat(2000))), 'not-acceptable', 'modify'],
      [query(item({ jid: 'a@b@c' })), 'jid-malformed', 'modify'],
    ];
    for (const [payload, condition, type] of cases) {
      expect(onlyError(route(iq(BALCONY, 'set', payload), view)), condition).toEqual({ condition, type });
    }
    expect(rosters.store.get('juliet')).toEqual(before);
  });

  it('RFC 6121 §2.3.3 forbidden: a roster set (or get) to another account\'s bare JID, existing or not; that roster is untouched', () => {
    const romeoBefore = rosters.store.get('romeo');
    expect(onlyError(rosterSet(BALCONY, item({ jid: 'nurse@example.com' }), 'romeo@example.com'))).toEqual({ condition: 'forbidden', type: 'auth' });
    expect(onlyError(rosterSet(BALCONY, item({ jid: 'nurse@example.com' }), 'nobody@example.com'))).toEqual({ condition: 'forbidden', type: 'auth' });
    expect(onlyError(get(BALCONY, {}, 'romeo@example.com'))).toEqual({ condition: 'forbidden', type: 'auth' });
    expect(rosters.store.get('romeo')).toEqual(romeoBefore);
    expect(rosters.store.get('juliet').items).toEqual([]);
    expect(rosters.interested.size).toBe(0); // a refused get does not make the resource interested
  });

  it('RFC 6121 §2.1.5: a set to the own bare JID is the user\'s own roster set (result from the bare JID)', () => {
    get(BALCONY);
    const out = rosterSet(BALCONY, item({ jid: 'nurse@example.com' }), BARE);
    expect(out.map((d) => [d.to, attr(d.stanza, 'type'), attr(d.stanza, 'from')])).toEqual([
      [BALCONY, 'result', BARE],
      [BALCONY, 'set', undefined],
    ]);
  });

  it('RFC 6121 §2.3.3 Interoperability Note (choice): an item for the user\'s own bare JID is stored, not refused', () => {
    expect(attr(rosterSet(BALCONY, item({ jid: BARE }))[0]!.stanza, 'type')).toBe('result');
    expect(rosters.store.item('juliet', BARE)).toBeDefined();
  });

  it('RFC 6121 §2.6.3: a get with the current ver → an empty IQ-result (no <query/>) and no pushes; ver="" or another roster\'s → the complete roster', () => {
    rosterSet(BALCONY, item({ jid: 'nurse@example.com' }));
    const [first] = get(BALCONY, { ver: '' }); // §2.6.2: bootstrap
    const ver = attr(rosterOf(first!), 'ver')!;
    expect(childElements(rosterOf(first!))).toHaveLength(1);
    const current = get(CHAMBER, { ver });
    expect(current).toEqual([{ to: CHAMBER, stanza: el('iq', NS.CLIENT, { id: 'r1', to: CHAMBER, type: 'result' }) }]);
    expect(rosters.interested.has(CHAMBER)).toBe(true); // still an interested resource
    expect(childElements(rosterOf(get(CHAMBER, { ver: 'not-ours' })[0]!))).toHaveLength(1);
    expect(childElements(rosterOf(get(CHAMBER, { ver: rosters.store.version('romeo') })[0]!))).toHaveLength(1);
  });

  it('RFC 6121 §2.6.3: an older ver → the empty IQ-result, then one interim push per changed item (final state, deletions too) to the requester alone', () => {
    for (const jid of ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com']) rosterSet(BALCONY, item({ jid }));
    const cached = rosters.store.version('juliet');
    get(CHAMBER); // an interested resource that must not see the interim pushes
    rosterSet(BALCONY, item({ jid: 'b@example.com', name: 'B1' }));
    rosterSet(BALCONY, item({ jid: 'b@example.com', name: 'B2' }));
    rosterSet(BALCONY, item({ jid: 'c@example.com', subscription: 'remove' }));
    const out = route(iq(GARDEN, 'get', el('query', ROSTER_NS, { ver: cached }), undefined, 'g1'), view);
    expect(out.map((d) => d.to)).toEqual([GARDEN, GARDEN, GARDEN]);
    expect(out[0]!.stanza).toEqual(el('iq', NS.CLIENT, { id: 'g1', to: GARDEN, type: 'result' })); // §2.6.3: not an empty <query/>
    expect(out.slice(1).map((d) => childElements(rosterOf(d)))).toEqual([
      [item({ jid: 'b@example.com', name: 'B2', subscription: 'none' })],
      [el('item', ROSTER_NS, { jid: 'c@example.com', subscription: 'remove' })],
    ]);
    // In order of modification, each with its own version, the last one current; ids unique per request.
    const versions = out.slice(1).map((d) => attr(rosterOf(d), 'ver')!);
    expect(versions[1]).toBe(rosters.store.version('juliet'));
    expect(versions[0]).not.toBe(versions[1]);
    expect(out.slice(1).map((d) => [attr(d.stanza, 'type'), attr(d.stanza, 'id')])).toEqual(versions.map((v) => ['set', `interim-${v}-g1`]));
    expect(rosters.interested.has(GARDEN)).toBe(true);
  });

  it('RFC 6121 §2.6.3 (1): when the changes are not fewer than the items, the complete roster is smaller: no interim pushes', () => {
    rosterSet(BALCONY, item({ jid: 'a@example.com' }));
    const cached = rosters.store.version('juliet');
    rosterSet(BALCONY, item({ jid: 'b@example.com' }));
    rosterSet(BALCONY, item({ jid: 'a@example.com', subscription: 'remove' }));
    const out = get(GARDEN, { ver: cached });
    expect(out).toHaveLength(1);
    expect(childElements(rosterOf(out[0]!)).map((i) => attr(i, 'jid'))).toEqual(['b@example.com']);
    expect(attr(rosterOf(out[0]!), 'ver')).toBe(rosters.store.version('juliet'));
  });

  it('RFC 6121 §2.6.3: pushes occur in order of modification, each with a unique version', () => {
    get(BALCONY);
    const versions = ['a@example.com', 'b@example.com', 'a@example.com'].map((jid) => attr(rosterOf(rosterSet(BALCONY, item({ jid }))[1]!), 'ver'));
    versions.push(attr(rosterOf(rosterSet(BALCONY, item({ jid: 'a@example.com', subscription: 'remove' }))[1]!), 'ver'));
    expect(new Set(versions).size).toBe(4);
    expect(versions.at(-1)).toBe(rosters.store.version('juliet'));
  });

  it('RFC 6121 §2.1.6 Implementation Note / RFC 6120 §10.3.3 rule 3: the client\'s result or error to a push is not answered', () => {
    get(BALCONY);
    rosterSet(BALCONY, item({ jid: 'nurse@example.com' }));
    expect(route(el('iq', NS.CLIENT, { from: BALCONY, id: 'push-x', type: 'result' }), view)).toEqual([]);
    expect(route(el('iq', NS.CLIENT, { from: BALCONY, id: 'push-x', type: 'error' }, el('error', NS.CLIENT, { type: 'cancel' })), view)).toEqual([]);
  });

  it('RFC 6121 §2.2: a host that keeps no rosters (no RouterView.roster) answers roster IQs <service-unavailable/>', () => {
    const { roster: _roster, ...bareView } = view;
    expect(stanzaError(route(iq(BALCONY, 'get', el('query', ROSTER_NS)), bareView)[0]!.stanza).condition).toBe('service-unavailable');
    expect(stanzaError(route(iq(BALCONY, 'set', query(item({ jid: 'n@example.com' }))), bareView)[0]!.stanza).condition).toBe('service-unavailable');
  });

  it('RFC 6121 §2.1.2.6: group texts are stored and returned unmodified (spaces, case, non-ASCII)', () => {
    rosterSet(BALCONY, item({ jid: 'nurse@example.com' }, '  Servants ', 'Ca\u0301fe', 'ÄÖÜ'));
    const [result] = get(BALCONY);
    expect(childElements(childElements(rosterOf(result!))[0]!).map(text)).toEqual(['  Servants ', 'Ca\u0301fe', 'ÄÖÜ']);
  });
});
