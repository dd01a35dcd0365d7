/**
 * RFC 6121 §2 roster management, the server's side, pure apart from the store it is given:
 * what a roster get or set from the user means (the answer, the roster push, the subscription
 * side effects of a delete). Who may ask (§2.3.3 <forbidden/>) is decided before this, in
 * server-iq.ts; to whom pushes go (the interested resources, §2.2) in router.ts.
 *
 * Choices where §2 leaves one:
 * - Limits (§2.3.3 not-acceptable: "a server-configured limit"): 'name' and each <group/>
 *   at most 1023 UTF-8 octets by default, the limit RFC 7622 sets for each part of a JID.
 * - Duplicate groups (§2.3.3 bad-request 2) are compared as RFC 6121 suggests, like
 *   resourceparts (machines/jid.ts prepareResource: NFC, no case folding).
 * - An <item/> without 'jid' (§2.1.2.3: REQUIRED) is <bad-request/>; a 'jid' that is not a JID
 *   is RFC 6120 §8.3.3.8 <jid-malformed/>. The item is stored under the prepared JID, so one
 *   contact is one item however the client spelled it (§2.1.2: "a unique roster item"). A full
 *   JID is accepted like a bare one: §2.1.2.3 asks for a JID, not for a bare JID.
 * - An item for the user's own bare JID is accepted and stored: §2.3.3 defines no error for
 *   it (its Interoperability Note only reports that "some servers" say <not-allowed/>), and
 *   §2 says the server SHOULD store what the user adds.
 * - 'subscription' other than "remove", 'ask' and 'approved' in a set are ignored (§2.1.5 rule
 *   2, §2.1.2.1, §2.1.2.2: the client MUST NOT send them; the server MUST ignore the former,
 *   and ignoring is the robust answer to the latter too): a roster set never changes the
 *   subscription state, and a new item starts at 'none'.
 * - A get's <item/> children (§2.1.3: MUST NOT be there) are ignored, as Prosody does.
 * - Versioning (§2.6) is on: every result and push carries 'ver'. For a get with 'ver',
 *   §2.6.3 allows the complete roster or an empty result followed by interim pushes, and says
 *   which it SHOULD be: the empty result and one interim push per item changed since that
 *   version (to the requester only: the other resources had the live pushes), unless the
 *   complete roster is smaller (here: unless there are at least as many changes as items) or
 *   the version cannot be associated with one the store can bring forward (another roster's,
 *   unparsable, or older than the deletions it remembers, runtime/store/roster.ts) — then
 *   the complete roster. A get with the current 'ver' is the empty result and nothing else.
 */
import type { StanzaErrorCondition } from '../../machines/conditions.js';
import { formatJid, parseJid, prepareResource } from '../../machines/jid.js';
import { NS } from '../../machines/ns.js';
import { attr, childElements, el, text, type XmlElement } from '../../machines/xml.js';
import type { Modified, Roster, RosterChange, RosterItem } from '../store/roster.js';

export const ROSTER_NS = 'jabber:iq:roster';
/** RFC 6121 §2.6.1: the stream feature of a server that supports roster versioning. */
export const ROSTERVER_NS = 'urn:xmpp:features:rosterver';

/** §2.3.3 "server-configured limit"s, in UTF-8 octets. */
export interface RosterLimits {
  readonly maxNameBytes: number;
  readonly maxGroupBytes: number;
}
export const DEFAULT_ROSTER_LIMITS: RosterLimits = { maxNameBytes: 1023, maxGroupBytes: 1023 };

/** What the roster logic needs of the store (runtime/store/roster.ts RosterStore has it), by account localpart. */
export interface RosterAccess {
  get(username: string): Roster;
  set(username: string, jid: string, fields: { readonly name?: string; readonly groups: readonly string[] }): Modified<RosterItem>;
  remove(username: string, jid: string): Modified<RosterItem> | undefined;
  changesSince(username: string, version: string): readonly RosterChange[] | undefined;
}

/** A roster set, validated (§2.1.5, §2.3.3): add/update an item (§2.3, §2.4) or delete it (§2.5). */
export type RosterSet =
  | { readonly kind: 'update'; readonly jid: string; readonly name?: string; readonly groups: readonly string[] }
  | { readonly kind: 'remove'; readonly jid: string };

/** §2.1.6: the one item (and version) to push to every interested resource. */
export interface RosterPush {
  readonly item: XmlElement;
  readonly version: string;
}

/**
 * §2.5.2: presence the user's server MUST send to the contact when an item is deleted.
 * Returned as data: sending it belongs to the presence-subscription logic (RFC 6121 §3).
 */
export interface SubscriptionSideEffect {
  readonly type: 'unsubscribe' | 'unsubscribed';
  /** The contact (the removed item's JID). */
  readonly to: string;
}

export type RosterOutcome =
  | { readonly kind: 'error'; readonly condition: StanzaErrorCondition }
  | {
      readonly kind: 'result';
      /** The roster result (§2.1.4); absent for the empty result of a set (§2.3.2) or a current 'ver' (§2.6.3). */
      readonly payload?: XmlElement;
      /** §2.2: the requesting resource asked for the roster, so it is now an interested resource. */
      readonly interested: boolean;
      readonly push?: RosterPush;
      /** §2.6.3: interim pushes to the requester alone, after the empty result, in order of modification. */
      readonly interimPushes?: readonly RosterPush[];
      /** §2.5.2, to be carried out by the subscription logic; empty otherwise. */
      readonly subscriptionEffects: readonly SubscriptionSideEffect[];
    };

const octets = (s: string): number => Buffer.byteLength(s, 'utf8');
const fail = (condition: StanzaErrorCondition): { kind: 'error'; condition: StanzaErrorCondition } => ({ kind: 'error', condition });

/** §2.1.5 / §2.3.3 / §2.4.3 / §2.1.2: the roster set in `query`, or the stanza error it gets. */
export function parseRosterSet(query: XmlElement, limits: RosterLimits = DEFAULT_ROSTER_LIMITS): RosterSet | { kind: 'error'; condition: StanzaErrorCondition } {
  const items = childElements(query).filter((c) => c.name === 'item' && c.xmlns === ROSTER_NS);
  // §2.1.5 rule 1: one and only one <item/>; §2.3.3 bad-request 1 names "more than one", none is no set at all.
  if (items.length !== 1) return fail('bad-request');
  const item = items[0]!;
  const jidText = attr(item, 'jid');
  if (jidText === undefined) return fail('bad-request'); // §2.1.2.3: REQUIRED
  const jid = parseJid(jidText);
  if (jid === undefined) return fail('jid-malformed'); // RFC 6120 §8.3.3.8
  const prepared = formatJid(jid);
  // §2.1.2.5 / §2.1.5 rule 2: "remove" is the only 'subscription' value a set may carry; the rest is ignored.
  if (attr(item, 'subscription') === 'remove') return { kind: 'remove', jid: prepared };

  const name = attr(item, 'name');
  if (name !== undefined && octets(name) > limits.maxNameBytes) return fail('not-acceptable'); // §2.3.3 not-acceptable 1
  const groups: string[] = [];
  const seen = new Set<string>();
  let duplicate = false;
  for (const g of childElements(item)) {
    if (g.name !== 'group' || g.xmlns !== ROSTER_NS) continue;
    const value = text(g);
    if (value.length === 0) return fail('not-acceptable'); // §2.3.3 not-acceptable 2
    if (octets(value) > limits.maxGroupBytes) return fail('not-acceptable'); // §2.3.3 not-acceptable 3
    const key = prepareResource(value) ?? value;
    if (seen.has(key)) duplicate = true;
    seen.add(key);
    groups.push(value);
  }
  if (duplicate) return fail('bad-request'); // §2.3.3 bad-request 2
  // §2.4.1 Implementation Note: an empty 'name' is no 'name'.
  return { kind: 'update', jid: prepared, ...(name !== undefined && name !== '' ? { name } : {}), groups };
}

/** §2.1.2: an item as the server returns it in results and pushes. */
export function itemElement(item: RosterItem): XmlElement {
  return el(
    'item',
    ROSTER_NS,
    {
      jid: item.jid,
      name: item.name,
      subscription: item.subscription, // §2.1.2.5: always given, 'none' included, as in the §2.3.2 example
      ask: item.ask, // §2.1.2.2: SHOULD be included for "Pending Out"
      approved: item.approved ? 'true' : undefined, // §2.1.2.1: SHOULD inform of pre-approval; false is the default
    },
    ...item.groups.map((g) => el('group', ROSTER_NS, {}, g)),
  );
}

/** §2.5.2 / §2.1.2.5: a deleted item as a push carries it. */
const removedItem = (jid: string): XmlElement => el('item', ROSTER_NS, { jid, subscription: 'remove' });

/** §2.6.3: the interim push of one change. */
function changePush(change: RosterChange): RosterPush {
  return { item: change.kind === 'item' ? itemElement(change.item) : removedItem(change.jid), version: change.version };
}

/** §2.5.2: what deleting an item in this subscription state obliges the server to send the contact. */
export function removalSideEffects(removed: RosterItem): SubscriptionSideEffect[] {
  const effects: SubscriptionSideEffect[] = [];
  // §2.5.2 item 1 (and 3): the user has a subscription to the contact.
  if (removed.subscription === 'to' || removed.subscription === 'both') effects.push({ type: 'unsubscribe', to: removed.jid });
  // §2.5.2 item 2 (and 3): the contact has a subscription to the user.
  if (removed.subscription === 'from' || removed.subscription === 'both') effects.push({ type: 'unsubscribed', to: removed.jid });
  return effects;
}

/**
 * A roster get or set from the account `username` itself (the only entity authorized,
 * §2.3.3: checked by the caller), `query` its <query xmlns='jabber:iq:roster'/>.
 */
export function rosterRequest(type: 'get' | 'set', query: XmlElement, username: string, store: RosterAccess, limits: RosterLimits = DEFAULT_ROSTER_LIMITS): RosterOutcome {
  if (type === 'get') {
    // §2.2 / §2.1.4: the roster, empty for an account that has no items (never an error).
    const roster = store.get(username);
    const ver = attr(query, 'ver');
    // §2.6.3: the client's cache is current → an empty IQ-result, and no interim pushes follow.
    if (ver !== undefined && ver === roster.version) return { kind: 'result', interested: true, subscriptionEffects: [] };
    // §2.6.3: an older version we can bring forward → the empty IQ-result, then one push per changed item.
    const changes = ver !== undefined && ver !== '' ? store.changesSince(username, ver) : undefined;
    if (changes !== undefined && changes.length < roster.items.length) {
      return { kind: 'result', interested: true, interimPushes: changes.map(changePush), subscriptionEffects: [] };
    }
    const payload = el('query', ROSTER_NS, { ver: roster.version }, ...roster.items.map(itemElement));
    return { kind: 'result', payload, interested: true, subscriptionEffects: [] };
  }
  const request = parseRosterSet(query, limits);
  if (request.kind === 'error') return request;
  if (request.kind === 'update') {
    // §2.3.2 / §2.4.2: store it, result to the requester, push the item as stored.
    const fields = { ...(request.name !== undefined ? { name: request.name } : {}), groups: request.groups };
    const { item, version } = store.set(username, request.jid, fields);
    return { kind: 'result', interested: false, push: { item: itemElement(item), version }, subscriptionEffects: [] };
  }
  // §2.5.3: deleting what is not on the roster.
  const removed = store.remove(username, request.jid);
  if (removed === undefined) return fail('item-not-found');
  // §2.5.2: push with subscription='remove'; the unsubscribe/unsubscribed to the contact are returned as data.
  return {
    kind: 'result',
    interested: false,
    push: { item: removedItem(removed.item.jid), version: removed.version },
    subscriptionEffects: removalSideEffects(removed.item),
  };
}

/**
 * §2.1.6: the roster push of `push` to the interested resource `to`. No 'from': implicitly the
 * user's bare JID, which a client MUST accept (§2.1.6 rule 2), as in the §2.3.2 example. The
 * 'id' is derived from the version, unique per roster (§2.6.3), so a live push never repeats
 * one on a stream; an interim push (§2.6.3) also names the get it answers (`requestId`), since
 * a version's change can be pushed again to a resource that asks twice.
 */
export function rosterPushStanza(push: RosterPush, to: string, requestId?: string): XmlElement {
  const id = requestId === undefined ? `push-${push.version}` : `interim-${push.version}-${requestId}`;
  return el('iq', NS.CLIENT, { type: 'set', id, to }, el('query', ROSTER_NS, { ver: push.version }, push.item));
}
