/**
 * RFC 6121 presence subscriptions: one (user, contact) pair as the user's server sees it, as
 * an XState machine. Pure and sans-IO: the eight subscription stanzas in (§A.2 outbound from
 * the user, §A.3 inbound from the contact) and AVAILABLE (a resource of the user's came online,
 * for §3.1.3 rule 4 and §3.1.2), commands out (./types.ts), in the order §3 says.
 *
 * Flat states named exactly as §A.1 names them ("None + Pending Out+In"), not two parallel
 * regions (to: no | pending out | yes, from: no | pending in | yes), though the nine states are
 * exactly those 3 × 3 pairs (./states.ts HALVES): the RFC reasons in whole states, its tables
 * have one row per whole state, and what the server does on a row depends on both halves (the
 * roster push carries the item as a whole, §3.1.6 step 2). So every row of Tables 2-9 is one
 * transition here (two where the pre-approval flag splits it, §3.4.2), and a reader checks the
 * diagram against the appendix row by row.
 *
 * The rows' ROUTE? / DELIVER? and NEW STATE come from ./tables.ts; the §3 text adds the rest.
 * Where §3 and the appendix differ, the appendix's row decides (it is the complete rule,
 * §3: "Complete details regarding subscription states can be found under Appendix A"), and the
 * transition's description says so.
 *
 * Choices where RFC 6121 leaves one:
 * - Roster pushes (§2.1.6) only when the item's attributes change: a "no state change" row
 *   pushes nothing, nor does a change of the "Pending In" half alone, which the roster never
 *   shows (§A.1 items 3, 4, 6), so denying a request pushes no item the contact may not have.
 * - Pre-approval (§3.4, OPTIONAL) is supported; the runtime must advertise it (§3.4 stream
 *   feature). Once it has answered a request the flag is dropped (§3.4.2 Implementation Note).
 * - Only the subscription request is held for a user with no available resource (§3.1.3 rule
 *   4, MUST); approvals, cancellations and unsubscribes are not (their Implementation Notes: MAY).
 * - No "unavailable" acknowledgement of a request from the contact's bare JID (§3.1.3 rule 3: MAY).
 * - A pre-approved request is answered in every state that can hold the flag ("None",
 *   "None + Pending Out", "To"), as §3.4.2 requires, though §A.3.1 [1] names only "None".
 */
import { assign, emit, setup } from 'xstate';
import { HALVES, stateOf, SUBSCRIPTION_STATES, subscriptionAttribute, type SubscriptionState } from './states.js';
import { INBOUND, OUTBOUND, type Row, type SubscriptionStanza, type Table } from './tables.js';
import type { Recipients, SubscriptionCommand, SubscriptionContext, SubscriptionEvent, SubscriptionInput } from './types.js';

export const subscriptionSetup = setup({
  types: { context: {} as SubscriptionContext, events: {} as SubscriptionEvent, input: {} as SubscriptionInput, emitted: {} as SubscriptionCommand },
  guards: {
    /** §3.4.2: the 'approved' flag is set. */
    preApproved: ({ context }) => context.approved,
  },
  actions: {
    /** To the contact, stamped with the user's bare JID (§3 Implementation Note). */
    route: emit(({ context }, p: { presence: SubscriptionStanza; onBehalf?: true }) => ({
      type: 'route' as const,
      presence: p.presence,
      from: context.user,
      to: context.contact,
      ...(p.onBehalf && { onBehalf: true as const }),
    })),
    deliver: emit(({ context }, p: { presence: SubscriptionStanza; recipients: Recipients; hold: boolean }) => ({
      type: 'deliver' as const,
      presence: p.presence,
      from: context.contact,
      to: context.user,
      recipients: p.recipients,
      hold: p.hold,
    })),
    forgetRequest: emit(({ context }) => ({ type: 'forgetRequest' as const, from: context.contact, to: context.user })),
    redeliverRequest: emit(({ context }) => ({ type: 'redeliverRequest' as const, from: context.contact, to: context.user })),
    /** §2.1.6: the item as it is in `state` (the transition's target) with the flag as now set. */
    rosterPush: emit(({ context }, p: { state: SubscriptionState }) => ({
      type: 'rosterPush' as const,
      to: context.user,
      item: { jid: context.contact, ...subscriptionAttribute(p.state, context.approved) },
    })),
    sendPresence: emit(({ context }, p: { presence: 'current' | 'unavailable' }) => ({
      type: 'sendPresence' as const,
      presence: p.presence,
      from: context.user,
      to: context.contact,
    })),
    /** §3.4.2 rules 3-4: note the pre-approval. */
    preApprove: assign({ approved: true }),
    /**
     * §3.2.2 rule 2: cancel it; §3.4.2 Implementation Note: once it has answered a request,
     * keeping it or not is the server's choice. This one drops it: in "From" or "Both" the
     * flag could never matter again, and the roster shows no 'approved' there (§3.4 Note).
     */
    dropPreApproval: assign({ approved: false }),
  },
});

type Action =
  | { type: 'route'; params: { presence: SubscriptionStanza; onBehalf?: true } }
  | { type: 'deliver'; params: { presence: SubscriptionStanza; recipients: Recipients; hold: boolean } }
  | { type: 'forgetRequest' }
  | { type: 'redeliverRequest' }
  | { type: 'rosterPush'; params: { state: SubscriptionState } }
  | { type: 'sendPresence'; params: { presence: 'current' | 'unavailable' } }
  | { type: 'preApprove' }
  | { type: 'dropPreApproval' };

interface Transition {
  target?: SubscriptionState;
  guard?: 'preApproved';
  actions: Action[];
  meta: { rfc: string };
  description: string;
}

const route = (presence: SubscriptionStanza, onBehalf = false): Action => ({ type: 'route', params: { presence, ...(onBehalf && { onBehalf: true as const }) } });
const deliver = (presence: SubscriptionStanza, recipients: Recipients, hold = false): Action => ({ type: 'deliver', params: { presence, recipients, hold } });
const push = (state: SubscriptionState): Action => ({ type: 'rosterPush', params: { state } });
const sendPresence = (presence: 'current' | 'unavailable'): Action => ({ type: 'sendPresence', params: { presence } });
const forgetRequest: Action = { type: 'forgetRequest' };

/** One row's transition: `meta.rfc` names the table (and the §3 text it follows), the description the row. */
function rowTransition(table: Table, state: SubscriptionState, t: { target?: SubscriptionState; guard?: 'preApproved'; actions: Action[]; rfc?: string; why: string }): Transition {
  const row: Row = table.rows[state];
  const column = table.section.startsWith('§A.2') ? 'route' : 'deliver';
  return {
    ...(t.target !== undefined && t.target !== state && { target: t.target }),
    ...(t.guard !== undefined && { guard: t.guard }),
    actions: t.actions,
    meta: { rfc: `6121 ${table.section}${t.rfc ? `, ${t.rfc}` : ''}` },
    description: `${table.table}, "${state}": ${column} ${row.requirement}, ${row.newState === 'no state change' || row.newState === 'pre-approval' ? row.newState : `→ "${row.newState}"`}. ${t.why}`,
  };
}

/** The row's new state, the existing one for "no state change" and "pre-approval". */
function next(table: Table, state: SubscriptionState): SubscriptionState {
  const n = table.rows[state].newState;
  return n === 'no state change' || n === 'pre-approval' ? state : n;
}

/** The item's roster attributes changed (so a roster push is owed, §2.1.6): the flag aside, "Pending In" never shows. */
function itemChanges(from: SubscriptionState, to: SubscriptionState): boolean {
  const a = subscriptionAttribute(from);
  const b = subscriptionAttribute(to);
  return a.subscription !== b.subscription || a.ask !== b.ask;
}

/** §A.2.1 Subscribe, §3.1.2: the user asks for the contact's presence. */
function outSubscribe(state: SubscriptionState): Transition {
  const table = OUTBOUND.subscribe;
  const target = next(table, state);
  if (target !== state) {
    return rowTransition(table, state, {
      target,
      actions: [route('subscribe'), push(target)],
      rfc: '§3.1.2',
      why: 'Route the request to the contact, then push the item with ask=\'subscribe\' ([1]) to the interested resources (§3.1.2).',
    });
  }
  return rowTransition(table, state, {
    actions: [route('subscribe')],
    rfc: '§3.1.2',
    why:
      HALVES[state].to === 'yes'
        ? 'Route it (the contact\'s server answers "subscribed" at once, §3.1.3 rule 2); the item is unchanged, so no roster push.'
        : 'Route it again (a repeated request, as §3.1.2 has the server resend one); the item is unchanged, so no roster push.',
  });
}

/** §A.2.2 Unsubscribe, §3.3.2: the user gives up the contact's presence (or a pending request for it). */
function outUnsubscribe(state: SubscriptionState): Transition {
  const table = OUTBOUND.unsubscribe;
  const target = next(table, state);
  return rowTransition(table, state, {
    target,
    actions: [route('unsubscribe'), ...(itemChanges(state, target) ? [push(target)] : [])],
    rfc: '§3.3.2',
    why:
      target !== state
        ? 'Route it to the contact, then push the item, now without the subscription or the ask, to the interested resources (§3.3.2).'
        : 'Route it (the table\'s MUST); nothing of the user\'s side changes, so no roster push.',
  });
}

/** §A.2.3 Subscribed, §3.1.5 approval, §3.4.2 pre-approval: the user lets the contact see its presence. */
function outSubscribed(state: SubscriptionState): Transition[] {
  const table = OUTBOUND.subscribed;
  const row = table.rows[state];
  const target = next(table, state);
  if (row.newState === 'pre-approval') {
    return [
      rowTransition(table, state, {
        guard: 'preApproved',
        actions: [],
        rfc: '§3.4.2',
        why: 'Already pre-approved: nothing changes, nothing is routed (M.N.).',
      }),
      rowTransition(table, state, {
        actions: [{ type: 'preApprove' }, push(state)],
        rfc: '§3.4.2',
        why: 'No request is pending: note the pre-approval (approved=\'true\') and push the item; the stanza MUST NOT be routed (§3.4.2 rules 3-4).',
      }),
    ];
  }
  if (target !== state) {
    return [
      rowTransition(table, state, {
        target,
        actions: [route('subscribed'), forgetRequest, push(target), sendPresence('current')],
        rfc: '§3.1.5, §3.4.2',
        why: 'The contact\'s pending request is approved: route the approval, drop the held request, push the item (now with a subscription from the contact), then send the contact current presence from each available resource (§3.1.5; §3.4.2 rule 2).',
      }),
    ];
  }
  return [
    rowTransition(table, state, {
      actions: [],
      rfc: '§3.4.2',
      why: 'The contact already has a subscription: silently ignored (§3.4.2 rule 1).',
    }),
  ];
}

/** §A.2.4 Unsubscribed, §3.2.2: the user cancels the contact's subscription, denies its request, or cancels a pre-approval. */
function outUnsubscribed(state: SubscriptionState): Transition[] {
  const table = OUTBOUND.unsubscribed;
  const target = next(table, state);
  const { from } = HALVES[state];
  if (from === 'yes') {
    return [
      rowTransition(table, state, {
        target,
        actions: [sendPresence('unavailable'), route('unsubscribed'), push(target)],
        rfc: '§3.2.2',
        why: 'While the contact is still subscribed, send it unavailable presence from each of the user\'s online resources; then route the cancellation and push the item (§3.2.2 rule 3).',
      }),
    ];
  }
  if (from === 'pendingIn') {
    return [
      rowTransition(table, state, {
        target,
        actions: [route('unsubscribed'), forgetRequest],
        rfc: '§3.2.2, §3.1.4',
        why: 'Denies the contact\'s pending request (§3.1.4): route it and drop the held request. The contact never could see the user\'s presence, so no unavailable presence; the item\'s attributes do not change (Pending In never shows, and an unapproved contact has no item, §A.1 item 3), so no roster push.',
      }),
    ];
  }
  return [
    rowTransition(table, state, {
      guard: 'preApproved',
      actions: [{ type: 'dropPreApproval' }, push(state)],
      rfc: '§3.2.2, §3.4',
      why: 'Cancels the pre-approval ([1]): remove it and push the item without \'approved\'; not routed (§3.2.2 rule 2, §3.4.2 Implementation Note).',
    }),
    rowTransition(table, state, {
      actions: [],
      rfc: '§3.2.2',
      why: 'Nothing to cancel: not routed, no unavailable presence (§3.2.2 rule 1).',
    }),
  ];
}

/** §A.3.1 Subscribe, §3.1.3: the contact asks for the user's presence. */
function inSubscribe(state: SubscriptionState): Transition[] {
  const table = INBOUND.subscribe;
  const target = next(table, state);
  const { to, from } = HALVES[state];
  if (from === 'no') {
    const approvedTarget = stateOf({ to, from: 'yes' });
    return [
      rowTransition(table, state, {
        guard: 'preApproved',
        target: approvedTarget,
        actions: [route('subscribed', true), { type: 'dropPreApproval' }, push(approvedTarget), sendPresence('current')],
        rfc: '§3.4.2, §3.1.3, §3.1.5',
        why: `Pre-approved: not delivered; the server answers "subscribed" on the user's behalf and goes to "${approvedTarget}" ([1], §3.4.2, §3.1.3 rule 2), pushes the item and sends the contact current presence from each available resource, as for an approval (§3.1.5).`,
      }),
      rowTransition(table, state, {
        target,
        actions: [deliver('subscribe', 'available', true)],
        rfc: '§3.1.3',
        why: 'Deliver the request to the user\'s available resources for approval; with none available, keep it and deliver it whenever one becomes available until answered (§3.1.3 rules 1, 3, 4). No roster push: Pending In does not show, and no item is created before approval (§3.1.3 Security Warning).',
      }),
    ];
  }
  if (from === 'pendingIn') {
    return [
      rowTransition(table, state, {
        actions: [],
        rfc: '§3.1.3',
        why: 'A request from the contact is already pending and held: this one is not delivered (only one per contact, §3.1.3 rule 4).',
      }),
    ];
  }
  return [
    rowTransition(table, state, {
      actions: [route('subscribed', true)],
      rfc: '§3.1.3',
      why: 'The contact already has a subscription: not delivered; the server answers "subscribed" on the user\'s behalf ([2], §3.1.3 rule 2).',
    }),
  ];
}

/** §A.3.2 Unsubscribe, §3.3.3: the contact gives up the user's presence (or withdraws its request). */
function inUnsubscribe(state: SubscriptionState): Transition {
  const table = INBOUND.unsubscribe;
  const target = next(table, state);
  const { from } = HALVES[state];
  if (from === 'yes') {
    return rowTransition(table, state, {
      target,
      actions: [deliver('unsubscribe', 'interested'), push(target), sendPresence('unavailable'), route('unsubscribed', true)],
      rfc: '§3.3.3',
      why: 'Deliver it to the interested resources before the roster push, then push the item, send unavailable presence from each available resource to the contact (§3.3.3 steps 1-3), and answer "unsubscribed" on the user\'s behalf ([1]).',
    });
  }
  if (from === 'pendingIn') {
    return rowTransition(table, state, {
      target,
      actions: [deliver('unsubscribe', 'interested'), forgetRequest, route('unsubscribed', true)],
      rfc: '§3.3.3',
      why: 'The contact withdraws its pending request: deliver it (the table\'s MUST, where §3.3.3 would ignore it: the table decides), drop the held request (§3.3.3, last paragraph), answer "unsubscribed" on the user\'s behalf ([1]). The item\'s attributes do not change: no roster push.',
    });
  }
  return rowTransition(table, state, {
    actions: [],
    rfc: '§3.3.3',
    why: 'The contact has no subscription nor request: silently ignored (§3.3.3 "Otherwise").',
  });
}

/** §A.3.3 Subscribed, §3.1.6: the contact approves the user's request. */
function inSubscribed(state: SubscriptionState): Transition {
  const table = INBOUND.subscribed;
  const target = next(table, state);
  if (target !== state) {
    return rowTransition(table, state, {
      target,
      actions: [deliver('subscribed', 'interested'), push(target)],
      rfc: '§3.1.6',
      why: 'Deliver the approval to the interested resources, then (after it, §3.1.6 step 1) push the item with the new subscription (step 2).',
    });
  }
  return rowTransition(table, state, {
    actions: [],
    rfc: '§3.1.6',
    why: 'No request of the user\'s is pending: silently ignored, no delivery, no roster change, no push (§3.1.6 "Otherwise").',
  });
}

/** §A.3.4 Unsubscribed, §3.2.3: the contact cancels the user's subscription or denies the user's request. */
function inUnsubscribed(state: SubscriptionState): Transition {
  const table = INBOUND.unsubscribed;
  const target = next(table, state);
  if (target !== state) {
    return rowTransition(table, state, {
      target,
      actions: [deliver('unsubscribed', 'interested'), push(target)],
      rfc: '§3.2.3',
      why:
        HALVES[state].to === 'yes'
          ? 'Deliver the cancellation to the interested resources, then push the item (§3.2.3 steps 1-2).'
          : 'The contact denies the user\'s request: delivered and pushed as a cancellation is (the table\'s MUST, where §3.2.3\'s check names only subscription=\'to\' or \'both\').',
    });
  }
  return rowTransition(table, state, {
    actions: [],
    rfc: '§3.2.3',
    why: 'The user has neither a subscription nor a request: silently ignored (§3.2.3 "Otherwise").',
  });
}

/**
 * A resource of the user's became available. Not a row of the appendix: §3.1.3 rule 4 (a held
 * request MUST be delivered "whenever the contact creates an available resource, until the
 * contact either approves or denies the request") and §3.1.2 (a request left unanswered SHOULD
 * be resent, "e.g., whenever a new resource becomes available for the user"; this server
 * chooses exactly that moment, so a lost request costs one login, and a contact's server that
 * got it already drops the repeat, §A.3.1 "Pending In" rows). Elsewhere the event changes nothing.
 */
function available(state: SubscriptionState): Transition | undefined {
  const { to, from } = HALVES[state];
  const actions: Action[] = [...(from === 'pendingIn' ? [{ type: 'redeliverRequest' } as const] : []), ...(to === 'pendingOut' ? [route('subscribe', true)] : [])];
  if (actions.length === 0) return undefined;
  const rfc = [...(from === 'pendingIn' ? ['§3.1.3'] : []), ...(to === 'pendingOut' ? ['§3.1.2'] : [])].join(', ');
  const why = [
    ...(from === 'pendingIn' ? ['deliver the contact\'s held request to the available resources again (§3.1.3 rule 4)'] : []),
    ...(to === 'pendingOut' ? ['resend the user\'s unanswered request to the contact (§3.1.2)'] : []),
  ].join('; ');
  return { actions, meta: { rfc: `6121 ${rfc}` }, description: `"${state}", a resource of the user's became available: ${why}.` };
}

function stateNode(state: SubscriptionState) {
  const { subscription, ask } = subscriptionAttribute(state);
  return {
    meta: { rfc: '6121 §A.1', summary: `subscription='${subscription}'${ask ? ` ask='${ask}'` : ''}` },
    on: {
      OUT_SUBSCRIBE: outSubscribe(state),
      OUT_UNSUBSCRIBE: outUnsubscribe(state),
      OUT_SUBSCRIBED: outSubscribed(state),
      OUT_UNSUBSCRIBED: outUnsubscribed(state),
      IN_SUBSCRIBE: inSubscribe(state),
      IN_UNSUBSCRIBE: inUnsubscribe(state),
      IN_SUBSCRIBED: inSubscribed(state),
      IN_UNSUBSCRIBED: inUnsubscribed(state),
      ...(available(state) && { AVAILABLE: available(state) }),
    },
  };
}

export const subscriptionMachine = subscriptionSetup.createMachine({
  id: 'subscription',
  meta: { rfc: '6121 §3, §A', summary: 'Presence subscription between the user and one contact, at the user\'s server' },
  context: ({ input }): SubscriptionContext => ({ user: input.user, contact: input.contact, approved: false }),
  // §A.1 Implementation Note: "None" includes a contact not in the roster at all.
  initial: 'None',
  states: Object.fromEntries(SUBSCRIPTION_STATES.map((s) => [s, stateNode(s)])) as Record<SubscriptionState, ReturnType<typeof stateNode>>,
});

export type SubscriptionMachine = typeof subscriptionMachine;
