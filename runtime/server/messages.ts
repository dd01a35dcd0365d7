/**
 * RFC 6121 §8.5.2 / §8.5.3.2.1: a message for an existing local account, addressed to its
 * bare JID or to a full JID that is not connected, by message type and the priorities
 * (§4.7.2.3) of the account's available resources. Pure over `PresenceHost`.
 *
 * Choices where RFC 6121 leaves one:
 * - `normal` and `chat` to the bare JID go to every available resource that has the highest
 *   non-negative priority (§8.5.2.1.1 option (a), "the resource or resources with the highest
 *   presence priority"): two resources at the same priority are equally "most available", and
 *   picking one of them would be arbitrary and could hide the message from the one the user
 *   is looking at. `headline` goes to all non-negative resources (MUST).
 * - A resource that is connected but not available (no initial presence yet, or unavailable
 *   sent) counts with priority 0: §8.5.2.1 applies to "available resources or connected
 *   resources", and a resource that gave no priority has priority zero (§4.7.2.3). So it
 *   shares bare-JID messages with available resources of priority 0 and loses them to higher
 *   ones. With no resource of non-negative priority the account counts as having none
 *   (§8.5.2.1.1 last paragraph, §8.5.2.2).
 * - No available resource: `normal` and `chat` are stored offline (option (a), offline.ts)
 *   when the server keeps offline messages, else `<service-unavailable/>` (option (b));
 *   `groupchat` gets `<service-unavailable/>`; `headline` and `error` are silently ignored.
 * - To a full JID that is not connected (§8.5.3.2.1): `chat` is handled as if to the bare JID;
 *   `normal` and `groupchat` get `<service-unavailable/>` (option (b): the sender learns it
 *   was not delivered, and an absent account answers the same, §8.5.1); `headline` is
 *   silently ignored (option (a): a notification nobody waits for); `error` ignored (MUST).
 * - An unknown 'type' is `normal` (RFC 6121 §5.2.2).
 */
import type { StanzaErrorCondition } from '../../machines/conditions.js';
import { formatJid, bare, type Jid } from '../../machines/jid.js';
import { attr, type XmlElement } from '../../machines/xml.js';
import type { Delivery } from './delivery.js';
import { storeOffline } from './offline.js';
import type { PresenceHost } from './presence-host.js';

const MESSAGE_TYPES = new Set(['chat', 'error', 'groupchat', 'headline', 'normal']);

/** §5.2.2: the message's type, `normal` when absent or not understood. */
export function messageType(stanza: XmlElement): string {
  const type = attr(stanza, 'type');
  return type !== undefined && MESSAGE_TYPES.has(type) ? type : 'normal';
}

/** The connected resources of `bareJid` with a non-negative priority (0 for those not available: header), with it. */
export function nonNegativeResources(host: PresenceHost, bareJid: string): { full: string; priority: number }[] {
  const out: { full: string; priority: number }[] = [];
  for (const full of host.resources(bareJid)) {
    const record = host.resource(full);
    const priority = record?.available !== undefined ? record.priority : 0;
    if (priority >= 0) out.push({ full, priority });
  }
  return out;
}

/**
 * `to`: the local account's bare JID, or a full JID of it with no connected resource.
 * `fail`: the stanza error to the sender (router.ts applies the §8.3.1 rules).
 */
export function messageToAccount(stanza: XmlElement, to: Jid, sender: string, host: PresenceHost, fail: (c: StanzaErrorCondition) => Delivery[]): Delivery[] {
  const type = messageType(stanza);
  if (type === 'error') return []; // §8.5.2.1.1, §8.5.2.2.1, §8.5.3.2.1: silently ignored
  if (to.resource !== undefined && type !== 'chat') return type === 'headline' ? [] : fail('service-unavailable'); // §8.5.3.2.1
  if (type === 'groupchat') return fail('service-unavailable'); // §8.5.2.1.1 / §8.5.2.2.1: MUST return an error
  const bareTo = formatJid(bare(to));
  const candidates = nonNegativeResources(host, bareTo);
  if (candidates.length > 0) {
    // In all cases the 'to' is left as addressed (§8.5.2.1.1 "MUST NOT rewrite").
    if (type === 'headline') return candidates.map((c) => ({ to: c.full, stanza }));
    const top = Math.max(...candidates.map((c) => c.priority));
    return candidates.filter((c) => c.priority === top).map((c) => ({ to: c.full, stanza }));
  }
  if (type === 'headline') return []; // §8.5.2.2.1: silently ignored
  // §8.5.2.2.1: normal / chat with no available resource.
  if (host.offline === undefined) return fail('service-unavailable');
  return storeOffline(host.offline, to.local!, stanza, sender, host.now());
}
