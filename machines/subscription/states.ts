/**
 * The nine subscription states of RFC 6121 §A.1, from the user's side of one (user, contact)
 * pair, and how they show in a roster item (§2.1.2: 'subscription', 'ask', 'approved').
 *
 * Each state is a pair of halves: whether the user has the contact's presence ("to": no,
 * pending out, yes) and whether the contact has the user's ("from": no, pending in, yes).
 * The nine states are exactly the 3 × 3 pairs, which is why the names below read as one half
 * plus the other ("From + Pending Out" = from yes, to pending out).
 */

/** RFC 6121 §A.1, spelled as the RFC spells them in A.1 and in the tables of A.2 and A.3. */
export const SUBSCRIPTION_STATES = [
  'None',
  'None + Pending Out',
  'None + Pending In',
  'None + Pending Out+In',
  'To',
  'To + Pending In',
  'From',
  'From + Pending Out',
  'Both',
] as const;

export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

/** The user's access to the contact's presence. */
export type ToHalf = 'no' | 'pendingOut' | 'yes';
/** The contact's access to the user's presence. */
export type FromHalf = 'no' | 'pendingIn' | 'yes';

export interface Halves {
  readonly to: ToHalf;
  readonly from: FromHalf;
}

/** §A.1 items 1-9 as halves. */
export const HALVES: Readonly<Record<SubscriptionState, Halves>> = {
  None: { to: 'no', from: 'no' },
  'None + Pending Out': { to: 'pendingOut', from: 'no' },
  'None + Pending In': { to: 'no', from: 'pendingIn' },
  'None + Pending Out+In': { to: 'pendingOut', from: 'pendingIn' },
  To: { to: 'yes', from: 'no' },
  'To + Pending In': { to: 'yes', from: 'pendingIn' },
  From: { to: 'no', from: 'yes' },
  'From + Pending Out': { to: 'pendingOut', from: 'yes' },
  Both: { to: 'yes', from: 'yes' },
};

export function stateOf(halves: Halves): SubscriptionState {
  const found = SUBSCRIPTION_STATES.find((s) => HALVES[s].to === halves.to && HALVES[s].from === halves.from);
  if (found === undefined) throw new Error(`no RFC 6121 §A.1 state for to=${halves.to} from=${halves.from}`);
  return found;
}

export function isSubscriptionState(x: unknown): x is SubscriptionState {
  return typeof x === 'string' && (SUBSCRIPTION_STATES as readonly string[]).includes(x);
}

/** §2.1.2.5 'subscription' values (a roster result or push; 'remove' is a roster set's, not a state). */
export type SubscriptionValue = 'none' | 'to' | 'from' | 'both';

/** A roster item's subscription-related attributes, as a server sends them (§2.1.2.1, §2.1.2.2, §2.1.2.5). */
export interface RosterSubscription {
  readonly subscription: SubscriptionValue;
  /** §2.1.2.2: present exactly in the "Pending Out" states. */
  readonly ask?: 'subscribe';
  /** §2.1.2.1: present when the user has pre-approved the contact's request (§3.4). */
  readonly approved?: true;
}

/**
 * §A.1 items 1-9 as the roster shows them. "Pending In" never shows (items 3, 4 and 6 name
 * only 'subscription' and 'ask'): the server notes the inbound request beside the roster, and
 * a client learns of it from the delivered request itself, not from its roster.
 */
export function subscriptionAttribute(state: SubscriptionState, approved = false): RosterSubscription {
  const { to, from } = HALVES[state];
  const subscription: SubscriptionValue = to === 'yes' ? (from === 'yes' ? 'both' : 'to') : from === 'yes' ? 'from' : 'none';
  return {
    subscription,
    ...(to === 'pendingOut' && { ask: 'subscribe' as const }),
    ...(approved && canBePreApproved(state) && { approved: true as const }),
  };
}

/**
 * §3.4.2 rules 3 and 4: a pre-approval is noted only where the contact has neither a
 * subscription nor a pending request ("None", "None + Pending Out", "To"). Rule 1 ignores it
 * when the contact already has a subscription, and rule 2 turns it into a real approval when
 * a request is pending, so 'approved' never coexists with a "From" or "Pending In" half.
 */
export function canBePreApproved(state: SubscriptionState): boolean {
  return HALVES[state].from === 'no';
}

/** What the server stores for the pair: the roster item's attributes and its note of a pending inbound request. */
export interface StoredSubscription {
  /** Absent when the contact is not in the roster: §A.1 counts that as "None". */
  readonly subscription?: string;
  readonly ask?: string;
  readonly approved?: boolean | string;
  /**
   * §A.1 item 3, §3.1.3 rule 4: the server's note that the contact's subscription request
   * awaits the user's answer. The roster cannot say it, so it is stored beside the item.
   */
  readonly pendingIn?: boolean;
}

/**
 * The §A.1 state and pre-approval flag that stored attributes stand for, for resuming the
 * machine (`resumeSubscription`). Values other than §2.1.2's are read as their absence (§2.1.2.5:
 * a missing 'subscription' means "none"); combinations no state has are reduced the same way
 * the machine would never produce them: 'ask' with a subscription to the contact (no state
 * "To + Pending Out") is dropped, a "Pending In" note beside a subscription from the contact
 * is dropped (§3.1.3 rule 2 answers such requests at once), and so is 'approved' there (above).
 */
export function stateFromRosterItem(item: StoredSubscription): { state: SubscriptionState; approved: boolean } {
  const sub = item.subscription ?? 'none';
  const hasTo = sub === 'to' || sub === 'both';
  const hasFrom = sub === 'from' || sub === 'both';
  const to: ToHalf = hasTo ? 'yes' : item.ask === 'subscribe' ? 'pendingOut' : 'no';
  const from: FromHalf = hasFrom ? 'yes' : item.pendingIn === true ? 'pendingIn' : 'no';
  const state = stateOf({ to, from });
  const approved = (item.approved === true || item.approved === 'true') && canBePreApproved(state);
  return { state, approved };
}

/** The note `stateFromRosterItem` reads back: true in the three "Pending In" states. */
export function hasPendingIn(state: SubscriptionState): boolean {
  return HALVES[state].from === 'pendingIn';
}
