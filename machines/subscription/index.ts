/**
 * RFC 6121 presence subscriptions (§3, Appendix A): the per-contact machine, the §A.1 states
 * and their roster attributes (§2.1.2), and the appendix tables it is built from.
 */
import { subscriptionMachine } from './machine.js';
import { stateFromRosterItem, type StoredSubscription } from './states.js';
import type { SubscriptionInput } from './types.js';

export { subscriptionMachine, subscriptionSetup, type SubscriptionMachine } from './machine.js';
export {
  HALVES,
  SUBSCRIPTION_STATES,
  canBePreApproved,
  hasPendingIn,
  isSubscriptionState,
  stateFromRosterItem,
  stateOf,
  subscriptionAttribute,
  type FromHalf,
  type Halves,
  type RosterSubscription,
  type StoredSubscription,
  type SubscriptionState,
  type SubscriptionValue,
  type ToHalf,
} from './states.js';
export { INBOUND, OUTBOUND, type NewState, type Requirement, type Row, type SubscriptionStanza, type Table } from './tables.js';
export {
  subscriptionEvent,
  type AvailableEvent,
  type InboundEvent,
  type OutboundEvent,
  type Recipients,
  type SubscriptionCommand,
  type SubscriptionContext,
  type SubscriptionEvent,
  type SubscriptionInput,
} from './types.js';

/**
 * The machine's snapshot for a pair as stored (roster item attributes and the pending-request
 * note), to start an actor from: `createActor(subscriptionMachine, { input, snapshot })`.
 */
export function resumeSubscription(pair: SubscriptionInput, stored: StoredSubscription) {
  const { state, approved } = stateFromRosterItem(stored);
  return subscriptionMachine.resolveState({ value: state, context: { user: pair.user, contact: pair.contact, approved } });
}
