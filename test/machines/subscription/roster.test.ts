/**
 * RFC 6121 §A.1 states as roster items (§2.1.2: 'subscription', 'ask', 'approved') and back:
 * the server stores the item and its note of a pending request, and resumes the machine from them.
 */
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  canBePreApproved,
  hasPendingIn,
  resumeSubscription,
  stateFromRosterItem,
  SUBSCRIPTION_STATES,
  subscriptionAttribute,
  subscriptionMachine,
  type RosterSubscription,
  type SubscriptionState,
} from '../../../machines/subscription/index.js';
import { JULIET, ROMEO } from './harness.js';

/** §A.1 items 1-9, "this is reflected in the user's roster by ...". */
const A1: readonly (readonly [SubscriptionState, RosterSubscription])[] = [
  ['None', { subscription: 'none' }],
  ['None + Pending Out', { subscription: 'none', ask: 'subscribe' }],
  ['None + Pending In', { subscription: 'none' }],
  ['None + Pending Out+In', { subscription: 'none', ask: 'subscribe' }],
  ['To', { subscription: 'to' }],
  ['To + Pending In', { subscription: 'to' }],
  ['From', { subscription: 'from' }],
  ['From + Pending Out', { subscription: 'from', ask: 'subscribe' }],
  ['Both', { subscription: 'both' }],
];

describe('RFC 6121 §A.1 states in the roster (§2.1.2)', () => {
  for (const [state, attrs] of A1) {
    it(`§A.1 "${state}" is subscription='${attrs.subscription}'${attrs.ask ? ` ask='${attrs.ask}'` : ''}`, () => {
      expect(subscriptionAttribute(state)).toEqual(attrs);
    });
  }

  it('§2.1.2.1: approved=\'true\' shows only where a pre-approval can be noted ("None", "None + Pending Out", "To", §3.4.2)', () => {
    expect(SUBSCRIPTION_STATES.filter(canBePreApproved)).toEqual(['None', 'None + Pending Out', 'To']);
    for (const s of SUBSCRIPTION_STATES) expect(subscriptionAttribute(s, true).approved === true).toBe(canBePreApproved(s));
  });

  it('round trip: every state and flag, stored as attributes and the pending-request note, reads back as itself', () => {
    for (const state of SUBSCRIPTION_STATES) {
      for (const approved of canBePreApproved(state) ? [false, true] : [false]) {
        const stored = { ...subscriptionAttribute(state, approved), pendingIn: hasPendingIn(state) };
        expect(stateFromRosterItem(stored), `${state} approved=${approved}`).toEqual({ state, approved });
      }
    }
  });

  it('reads what a roster row can hold: no item or no attribute is "None" (§A.1 Note, §2.1.2.5), \'true\' as text, impossible combinations reduced', () => {
    expect(stateFromRosterItem({})).toEqual({ state: 'None', approved: false });
    expect(stateFromRosterItem({ subscription: 'none', approved: 'true' })).toEqual({ state: 'None', approved: true });
    expect(stateFromRosterItem({ subscription: 'remove' })).toEqual({ state: 'None', approved: false });
    expect(stateFromRosterItem({ subscription: 'both', ask: 'subscribe' }).state).toBe('Both');
    expect(stateFromRosterItem({ subscription: 'from', pendingIn: true, approved: true })).toEqual({ state: 'From', approved: false });
    expect(stateFromRosterItem({ subscription: 'none', pendingIn: true, approved: true })).toEqual({ state: 'None + Pending In', approved: false });
  });

  it('resumes the machine from a stored item (resolveState) and carries on as §A.3.3 says', () => {
    const snapshot = resumeSubscription({ user: ROMEO, contact: JULIET }, { subscription: 'from', ask: 'subscribe' });
    const actor = createActor(subscriptionMachine, { input: { user: ROMEO, contact: JULIET }, snapshot }).start();
    expect(actor.getSnapshot().value).toBe('From + Pending Out');
    actor.send({ type: 'IN_SUBSCRIBED' });
    expect(actor.getSnapshot().value).toBe('Both');
    expect(actor.getSnapshot().context).toEqual({ user: ROMEO, contact: JULIET, approved: false });
  });

  it('a fresh pair starts in "None" (§A.1 Implementation Note: a contact not in the roster)', () => {
    const actor = createActor(subscriptionMachine, { input: { user: ROMEO, contact: JULIET } }).start();
    expect(actor.getSnapshot().value).toBe('None');
    expect(actor.getSnapshot().context.approved).toBe(false);
  });
});
