/**
 * The subscription machine's contract: one (user, contact) pair as the user's server sees it.
 * Events are the four subscription stanzas in each direction (RFC 6121 §3, §A.2, §A.3);
 * commands are what the server must then do, in the order it must do them.
 */
import type { RosterSubscription } from './states.js';
import type { SubscriptionStanza } from './tables.js';

export type { SubscriptionStanza } from './tables.js';

/** §A.2: from one of the user's resources, addressed to the contact. */
export type OutboundEvent = { type: 'OUT_SUBSCRIBE' } | { type: 'OUT_UNSUBSCRIBE' } | { type: 'OUT_SUBSCRIBED' } | { type: 'OUT_UNSUBSCRIBED' };
/** §A.3: from the contact (its server stamped its bare JID), addressed to the user. */
export type InboundEvent = { type: 'IN_SUBSCRIBE' } | { type: 'IN_UNSUBSCRIBE' } | { type: 'IN_SUBSCRIBED' } | { type: 'IN_UNSUBSCRIBED' };
/**
 * One of the user's resources became available (sent initial presence, §4.2): the moment to
 * deliver a held request again (§3.1.3 rule 4) and to resend the user's own (§3.1.2).
 */
export type AvailableEvent = { type: 'AVAILABLE' };
export type SubscriptionEvent = OutboundEvent | InboundEvent | AvailableEvent;

/** The event for a subscription stanza in a direction: ('in', 'subscribed') → 'IN_SUBSCRIBED'. */
export function subscriptionEvent(direction: 'in' | 'out', presence: SubscriptionStanza): SubscriptionEvent {
  return { type: `${direction === 'in' ? 'IN' : 'OUT'}_${presence.toUpperCase()}` } as SubscriptionEvent;
}

/** Which of the user's resources get an inbound stanza (§3.1 Implementation Note). */
export type Recipients = 'available' | 'interested';

export type SubscriptionCommand =
  /**
   * Locally deliver or remotely route a presence stanza of this type to the contact's bare JID,
   * stamped with the user's bare JID (§3 Implementation Note). `onBehalf`: the server generates
   * it for the user (an auto-reply, or the resent request of §3.1.2); otherwise it is the user's
   * own stanza, passed on.
   */
  | { readonly type: 'route'; readonly presence: SubscriptionStanza; readonly from: string; readonly to: string; readonly onBehalf?: true }
  /**
   * Deliver the contact's stanza to the user's available or interested resources. `hold`:
   * with no available resource, keep it (one per contact) and deliver it whenever one becomes
   * available, until the user answers (§3.1.3 rule 4); else deliver to whoever is there now.
   */
  | { readonly type: 'deliver'; readonly presence: SubscriptionStanza; readonly from: string; readonly to: string; readonly recipients: Recipients; readonly hold: boolean }
  /** Deliver the held subscription request from the contact to the user's available resources again (§3.1.3 rule 4). */
  | { readonly type: 'redeliverRequest'; readonly from: string; readonly to: string }
  /** The held subscription request from the contact is answered or withdrawn: drop it (§3.1.3 rule 4, §3.3.3). */
  | { readonly type: 'forgetRequest'; readonly from: string; readonly to: string }
  /** §2.1.6: push the contact's roster item, as it now is, to the user's interested resources. */
  | { readonly type: 'rosterPush'; readonly to: string; readonly item: { readonly jid: string } & RosterSubscription }
  /**
   * Send presence from each of the user's available resources to the contact: their current
   * presence once the contact may see it (§3.1.5), 'unavailable' when it no longer may
   * (§3.2.2, §3.3.3 step 3).
   */
  | { readonly type: 'sendPresence'; readonly presence: 'current' | 'unavailable'; readonly from: string; readonly to: string };

export interface SubscriptionInput {
  /** The user's bare JID <user@domainpart>. */
  readonly user: string;
  /** The contact's bare JID <contact@domainpart>. */
  readonly contact: string;
}

export interface SubscriptionContext extends SubscriptionInput {
  /** §2.1.2.1, §3.4: the user pre-approved the contact's subscription request. */
  readonly approved: boolean;
}
