/**
 * RFC 6121 §4 presence on the server, for local accounts: broadcast of available and
 * unavailable presence to the user's subscribers and own resources (§4.2.2, §4.4.2, §4.5.2),
 * the current presence of the user's contacts on initial presence (§4.2.2, answered locally,
 * §4.3.1 last paragraph), directed presence (§4.6), probes (§4.3.2, §4.6.6), inbound presence
 * for local accounts (§4.2.3, §8.5.2.1.2, §8.5.2.2.2, §8.5.3), and the unavailable presence
 * the server generates when a stream ends on any path (§4.5.2). Subscription stanzas go to
 * subscriptions.ts. Pure over `PresenceHost`: deliveries out, in the order they are written.
 *
 * Choices where RFC 6121 leaves one:
 * - Contacts on this server are not probed (§4.3.1: "does not need to"): on initial presence
 *   the new resource gets the last presence of each available resource of every contact it is
 *   subscribed to and that has the user as subscriber (the §4.3.2 rule 4 answer), and of the
 *   user's own other available resources (§4.2.2: implicitly subscribed to itself); addressed
 *   to the new resource alone, since the others have it already. A contact with no available
 *   resource gives no answer (§4.3.2 rule 3 SHOULD, "not mandatory"): the client starts from
 *   "unavailable" anyway. Contacts elsewhere get a probe from the bare JID (§4.3.1), to
 *   `PresenceHost.remote`.
 * - A probe from an entity without a subscription (and without directed presence, §4.6.6) is
 *   answered "unsubscribed" from the contact's bare JID (§4.3.2 rule 1), the same answer for an
 *   account that does not exist (§8.5.1 option b), so a probe cannot tell them apart.
 * - A presence with more than one <priority/> or a value that is not an integer in
 *   -128..+127 (§4.7.2.3 MUSTs) gets `<bad-request/>` (RFC 6120 §8.3.3.1) and changes nothing:
 *   the server cannot tell what the client meant.
 * - Presence with neither 'to' nor an availability 'type' (a subscription type, a probe,
 *   an error) has no recipient: dropped.
 * - A resource that sends unavailable without being available, and with nobody to tell
 *   (no directed presence), causes nothing.
 */
import { stanzaErrorReply } from '../../machines/conditions.js';
import { bare, formatJid, parseJid, type Jid } from '../../machines/jid.js';
import { NS } from '../../machines/ns.js';
import { attr, childElements, el, text, withAttrs, type XmlElement } from '../../machines/xml.js';
import type { RosterItem } from '../store/roster.js';
import type { Delivery } from './delivery.js';
import { destinationOf } from './destination.js';
import { deliverOffline } from './offline.js';
import type { PresenceHost, ResourcePresence } from './presence-host.js';
import * as subscriptions from './subscriptions.js';

const localpart = (bareJid: string): string => bareJid.slice(0, bareJid.indexOf('@'));
/** §4.2.2 / §4.4.2 / §4.5.2: the contact is subscribed to the user's presence. */
const isSubscriber = (item: RosterItem | undefined) => item?.subscription === 'from' || item?.subscription === 'both';
/** §4.2.2 / §4.3.1: the user is subscribed to the contact's presence. */
const subscribedTo = (item: RosterItem) => item.subscription === 'to' || item.subscription === 'both';

/** §4.7.2.3: the priority a presence gives (0 without one), or undefined when it breaks the MUSTs. */
export function priorityOf(presence: XmlElement): number | undefined {
  const priorities = childElements(presence).filter((c) => c.name === 'priority' && c.xmlns === NS.CLIENT);
  if (priorities.length === 0) return 0;
  if (priorities.length > 1) return undefined; // "MUST NOT contain more than one"
  const value = text(priorities[0]!).trim();
  if (!/^[+-]?\d{1,3}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= -128 && n <= 127 ? n : undefined;
}

export interface Presence {
  /** A presence stanza from a local user's connected resource `sender` (its full JID), 'from' stamped. */
  fromClient(stanza: XmlElement, sender: string): Delivery[];
  /**
   * The stream of `sender` ended, on any path (closing handshake, stream error, silent peer,
   * conflict, shutdown): the unavailable presence the server owes for it (§4.5.2 "MUST NOT
   * depend on receiving unavailable presence"), from `record` (the ended session's own, since
   * a successor may already hold the full JID).
   */
  ended(sender: string, record: ResourcePresence): Delivery[];
  /** Local delivery or remote route of a stanza whose 'from' is set (destination.ts decides). */
  routeTo(stanza: XmlElement): Delivery[];
}

export function createPresence(host: PresenceHost): Presence {
  const ctx: subscriptions.SubscriptionContext = { host, routeTo };

  function routeTo(stanza: XmlElement): Delivery[] {
    const to = parseJid(attr(stanza, 'to') ?? '');
    if (to === undefined) return [];
    if (destinationOf(to, host.domain) === 'remote') return host.remote(stanza);
    if (to.local === undefined) return []; // presence to the server itself: nothing to do with it (RFC 6120 §10.5.1)
    return inbound(stanza, to);
  }

  /** A presence stanza for a local account (§4.2.3, §4.4.3, §4.5.3, §8.5.2 / §8.5.3 presence rules). */
  function inbound(stanza: XmlElement, to: Jid): Delivery[] {
    const type = attr(stanza, 'type');
    if (type !== undefined && subscriptions.SUBSCRIPTION_TYPES.has(type)) return subscriptions.inbound(ctx, stanza);
    if (type === 'probe') return probe(stanza, to);
    if (!host.accountExists(to.local!)) return []; // §8.5.1: silently ignored
    const bareTo = formatJid(bare(to));
    let recipients: readonly string[];
    if (to.resource !== undefined) {
      // §8.5.3.1: the connected resource that matches; §8.5.3.2.2: none → silently ignored.
      const full = formatJid(to);
      recipients = host.resources(bareTo).includes(full) ? [full] : [];
    } else if (type === undefined || type === 'unavailable') {
      // §8.5.2.1.2: to all available resources (without rewriting 'to'); §8.5.2.2.2: none → ignored.
      recipients = host.resources(bareTo).filter((full) => host.resource(full)?.available !== undefined);
    } else {
      recipients = []; // a presence error to a bare JID: nobody asked
    }
    if (type === 'unavailable') {
      // §4.6.1: SHOULD remove an entity that sends unavailable presence from the directed list.
      const from = attr(stanza, 'from');
      for (const full of recipients) if (from !== undefined) host.resource(full)?.directed.delete(from);
    }
    return recipients.map((full) => ({ to: full, stanza }));
  }

  /** §4.3.2 / §4.6.6: a probe to a local account, answered by the server. */
  function probe(stanza: XmlElement, to: Jid): Delivery[] {
    const prober = attr(stanza, 'from');
    const proberJid = parseJid(prober ?? '');
    if (prober === undefined || proberJid === undefined) return [];
    const contact = formatJid(bare(to));
    const item = host.accountExists(to.local!) ? host.rosters.item(to.local!, formatJid(bare(proberJid))) : undefined;
    const id = attr(stanza, 'id');
    if (!isSubscriber(item)) {
      // §4.6.6: no subscription, but directed presence to the prober from the probed full JID: mere presence of that resource.
      if (to.resource !== undefined) {
        const full = formatJid(to);
        const record = host.resources(contact).includes(full) ? host.resource(full) : undefined;
        if (record !== undefined && (record.directed.has(prober) || record.directed.has(formatJid(bare(proberJid))))) {
          return routeTo(el('presence', NS.CLIENT, { from: full, to: prober, id, type: record.available === undefined ? 'unavailable' : undefined }));
        }
      }
      // §4.3.2 rule 1 / §8.5.1 (b): "unsubscribed" from the contact's bare JID (a full JID would leak presence).
      return routeTo(el('presence', NS.CLIENT, { from: contact, to: prober, id, type: 'unsubscribed' }));
    }
    if (to.resource !== undefined) {
      // §4.3.2: a full-JID probe learns of that resource only, and only that it is available.
      const full = formatJid(to);
      if (!host.resources(contact).includes(full) || host.resource(full)?.available === undefined) return [];
      return routeTo(el('presence', NS.CLIENT, { from: full, to: prober, id }));
    }
    // §4.3.2 rule 4: the full XML of each available resource's last presence; rule 3 (none): no answer (header).
    return currentPresence(contact, prober).flatMap(routeTo);
  }

  /** The last presence of each of `bareJid`'s available resources, addressed to `to`. */
  function currentPresence(bareJid: string, to: string, except?: string): XmlElement[] {
    const out: XmlElement[] = [];
    for (const full of host.resources(bareJid)) {
      const last = host.resource(full)?.available;
      if (last !== undefined && full !== except) out.push(withAttrs(last, { to }));
    }
    return out;
  }

  /** §4.2.2 / §4.4.2: available presence without 'to' from `sender`. */
  function broadcastAvailable(stanza: XmlElement, sender: string, userBare: string, record: ResourcePresence): Delivery[] {
    const priority = priorityOf(stanza);
    if (priority === undefined) return [{ to: sender, stanza: stanzaErrorReply(stanza, 'bad-request', { from: userBare }) }];
    const initial = record.available === undefined;
    record.available = stanza;
    record.priority = priority;
    const roster = host.rosters.get(localpart(userBare)).items;
    const out: Delivery[] = [];
    // §4.2.2 / §4.4.2: the full XML to every subscriber ("from" or "both")...
    for (const item of roster) if (isSubscriber(item)) out.push(...routeTo(withAttrs(stanza, { to: item.jid })));
    // ... and to all of the user's available resources, the sender included.
    for (const full of host.resources(userBare)) {
      if (host.resource(full)?.available !== undefined) out.push({ to: full, stanza: withAttrs(stanza, { to: full }) });
    }
    if (!initial) return out;
    // §4.2.2 / §4.3: the contacts' current presence (see header), then the user's own other resources'.
    for (const item of roster) {
      if (!subscribedTo(item)) continue;
      const contact = parseJid(item.jid);
      if (contact === undefined || contact.resource !== undefined) continue;
      if (destinationOf(contact, host.domain) === 'remote') {
        out.push(...host.remote(el('presence', NS.CLIENT, { from: userBare, to: item.jid, type: 'probe' })));
        continue;
      }
      if (contact.local === undefined || !host.accountExists(contact.local)) continue;
      if (!isSubscriber(host.rosters.item(contact.local, userBare))) continue; // §4.3.2 rule 1: not entitled
      for (const p of currentPresence(item.jid, sender)) out.push({ to: sender, stanza: p });
    }
    for (const p of currentPresence(userBare, sender, sender)) out.push({ to: sender, stanza: p });
    // §3.1.3 rule 4 / §3.1.2: held requests redelivered, unanswered ones resent.
    out.push(...subscriptions.available(ctx, userBare, sender));
    // RFC 6121 §8.5.2.2.1 (a): the messages stored while the user was away, once (offline.ts: not to a negative priority).
    if (host.offline !== undefined && priority >= 0) out.push(...deliverOffline(host.offline, localpart(userBare), sender, host.domain));
    return out;
  }

  /**
   * §4.5.2 / §4.6.3 rule 2: unavailable presence from `sender` (the client's own stanza, or one
   * the server generates) to its subscribers, to the entities that got directed presence from
   * it, and to the user's available resources (`echo`: the sender too, when it sent it itself).
   */
  function broadcastUnavailable(stanza: XmlElement, sender: string, userBare: string, record: ResourcePresence, echo: boolean): Delivery[] {
    const wasAvailable = record.available !== undefined;
    if (!wasAvailable && record.directed.size === 0) return [];
    record.available = undefined;
    record.priority = 0;
    const out: Delivery[] = [];
    const subscribers = new Set<string>();
    if (wasAvailable) {
      for (const item of host.rosters.get(localpart(userBare)).items) {
        if (!isSubscriber(item)) continue;
        subscribers.add(item.jid);
        out.push(...routeTo(withAttrs(stanza, { to: item.jid })));
      }
    }
    // §4.6.3 rule 2: the directed-presence entities the broadcast did not reach.
    for (const entity of record.directed) {
      const jid = parseJid(entity);
      if (jid !== undefined && !subscribers.has(formatJid(bare(jid)))) out.push(...routeTo(withAttrs(stanza, { to: entity })));
    }
    record.directed.clear();
    if (wasAvailable) {
      for (const full of host.resources(userBare)) {
        if (full === sender ? echo : host.resource(full)?.available !== undefined) out.push({ to: full, stanza: withAttrs(stanza, { to: full }) });
      }
    }
    return out;
  }

  /** §4.6.3: directed available or unavailable presence from `sender` to `to`. */
  function directed(stanza: XmlElement, to: Jid, userBare: string, record: ResourcePresence): Delivery[] {
    const entity = formatJid(to);
    const item = to.local === undefined || formatJid(bare(to)) === userBare ? undefined : host.rosters.item(localpart(userBare), formatJid(bare(to)));
    // Rule 1: a subscriber is handled by the broadcasts; rules 2-3: anyone else is remembered until unavailable.
    if (!isSubscriber(item) && formatJid(bare(to)) !== userBare) {
      if (attr(stanza, 'type') === 'unavailable') record.directed.delete(entity);
      else record.directed.add(entity);
    }
    return routeTo(stanza);
  }

  return {
    routeTo,
    fromClient(stanza, sender) {
      const senderJid = parseJid(sender);
      const record = host.resource(sender);
      if (senderJid === undefined || record === undefined) return [];
      const userBare = formatJid(bare(senderJid));
      const type = attr(stanza, 'type');
      const toText = attr(stanza, 'to');
      if (toText === undefined) {
        if (type === undefined) return broadcastAvailable(stanza, sender, userBare, record);
        if (type === 'unavailable') return broadcastUnavailable(stanza, sender, userBare, record, true);
        return []; // see header
      }
      const to = parseJid(toText);
      if (to === undefined) return [];
      if (type !== undefined && subscriptions.SUBSCRIPTION_TYPES.has(type)) return subscriptions.outbound(ctx, stanza, userBare);
      if (type === undefined || type === 'unavailable') return directed(stanza, to, userBare, record);
      return routeTo(stanza); // probe (answered where it arrives) or error
    },
    ended(sender, record) {
      const senderJid = parseJid(sender);
      if (senderJid === undefined) return [];
      // §4.5.2: "the server MUST generate the unavailable presence broadcast on the user's behalf".
      const unavailable = el('presence', NS.CLIENT, { from: sender, type: 'unavailable' });
      return broadcastUnavailable(unavailable, sender, formatJid(bare(senderJid)), record, false);
    },
  };
}
