/**
 * Offline messages on the server (RFC 6121 §8.5.2.2.1 option (a), §8.5.3.2.1): a `chat` or
 * `normal` message for an account with no available resource of non-negative priority is
 * stored (runtime/store/offline.ts), up to a per-account limit, and delivered once, with an
 * XEP-0203 <delay/>, when the user next sends initial presence; then it is deleted.
 *
 * Choices:
 * - Past the limit the sender gets `<resource-constraint/>` (RFC 6120 §8.3.3.18, type 'wait':
 *   "lacks the system resources necessary to service the request"), with a <text/> saying so:
 *   the storage is full for now and a later attempt can succeed once the user has read it,
 *   which `<service-unavailable/>` (type 'cancel', what an absent account gets) would deny.
 *   It tells nothing new: storing already showed that the account exists.
 * - Delivered to the resource whose initial presence it is, and only when its priority is
 *   non-negative (§8.5.2.1.1: never to a negative priority); otherwise the messages wait for
 *   the next one.
 * - The <delay/>'s 'from' is the server's domain (XEP-0203 §4: the entity that delayed it),
 *   'stamp' the time it was stored (UTC, XEP-0082).
 */
import { stanzaErrorReply } from '../../machines/conditions.js';
import { el, type XmlElement } from '../../machines/xml.js';
import type { Delivery } from './delivery.js';
import type { OfflineView } from './presence-host.js';

/** XEP-0203 Delayed Delivery. */
export const DELAY_NS = 'urn:xmpp:delay';

/** Default for `ServerLimits.offlineMessagesPerAccount`. */
export const DEFAULT_OFFLINE_MESSAGES_PER_ACCOUNT = 1000;

/** Store `stanza` for `username`; [] when stored, else the error to `sender`. */
export function storeOffline(offline: OfflineView, username: string, stanza: XmlElement, sender: string, now: Date): Delivery[] {
  if (offline.store.add(username, stanza, now, offline.limit)) return [];
  return [{ to: sender, stanza: stanzaErrorReply(stanza, 'resource-constraint', { text: 'offline message storage for this account is full' }) }];
}

/** XEP-0203 §3: the stored message with the time it arrived. */
export function withDelay(stanza: XmlElement, stamp: string, domain: string): XmlElement {
  return { ...stanza, children: [...stanza.children, el('delay', DELAY_NS, { from: domain, stamp })] };
}

/** The account's stored messages to `resource`, delayed, and gone from the store. */
export function deliverOffline(offline: OfflineView, username: string, resource: string, domain: string): Delivery[] {
  return offline.store.take(username).map((m) => ({ to: resource, stanza: withDelay(m.stanza, m.stamp, domain) }));
}
