/**
 * Subscription-machine harness: an actor for one (user, contact) pair started in any §A.1
 * state, its commands recorded in order and written as short words a reader can compare with
 * RFC 6121 §3 ('route subscribe', 'push none+ask', 'deliver subscribe to available (held)').
 * And two such actors piped into each other: the user's server and the contact's server.
 */
import { createActor, type Actor } from 'xstate';
import {
  HALVES,
  stateOf,
  subscriptionEvent,
  subscriptionMachine,
  type SubscriptionCommand,
  type SubscriptionEvent,
  type SubscriptionState,
} from '../../../machines/subscription/index.js';

export const ROMEO = 'romeo@example.net';
export const JULIET = 'juliet@example.com';

export interface Side {
  readonly actor: Actor<typeof subscriptionMachine>;
  readonly all: SubscriptionCommand[];
  state(): SubscriptionState;
  approved(): boolean;
  /** Send an event, return the commands it caused. */
  step(event: SubscriptionEvent): SubscriptionCommand[];
}

/** The pair (user, contact) at the user's server, resumed in `state` (resolveState, as from a stored roster item). */
export function side(user: string, contact: string, state: SubscriptionState = 'None', approved = false): Side {
  const snapshot = subscriptionMachine.resolveState({ value: state, context: { user, contact, approved } });
  const actor = createActor(subscriptionMachine, { input: { user, contact }, snapshot });
  const all: SubscriptionCommand[] = [];
  actor.on('*', (c) => all.push(c as SubscriptionCommand));
  actor.start();
  return {
    actor,
    all,
    state: () => actor.getSnapshot().value as SubscriptionState,
    approved: () => actor.getSnapshot().context.approved,
    step(event) {
      const before = all.length;
      actor.send(event);
      return all.slice(before);
    },
  };
}

/** A command in a few words. */
export function word(c: SubscriptionCommand): string {
  switch (c.type) {
    case 'route':
      // The server's own: answers to the contact, and the resent request of §3.1.2.
      return `${c.onBehalf ? (c.presence === 'subscribe' ? 'resend' : 'reply') : 'route'} ${c.presence}`;
    case 'deliver':
      return `deliver ${c.presence} to ${c.recipients}${c.hold ? ' (held)' : ''}`;
    case 'forgetRequest':
      return 'forget request';
    case 'redeliverRequest':
      return 'redeliver request';
    case 'rosterPush':
      return `push ${c.item.subscription}${c.item.ask ? '+ask' : ''}${c.item.approved ? '+approved' : ''}`;
    case 'sendPresence':
      return `presence ${c.presence}`;
  }
}

export const words = (cs: readonly SubscriptionCommand[]): string[] => cs.map(word);

/** The same pair seen from the contact's server: the halves swap (the user's "to" is the contact's "from"). */
export function mirror(state: SubscriptionState): SubscriptionState {
  const { to, from } = HALVES[state];
  return stateOf({ to: from === 'pendingIn' ? 'pendingOut' : from, from: to === 'pendingOut' ? 'pendingIn' : to });
}

/**
 * Two servers: romeo's view of juliet and juliet's view of romeo. What one routes (the user's
 * stanzas and the server's auto-replies) arrives at the other as the inbound event, until
 * nothing more is routed. Each side's commands are recorded in order.
 */
export class Pair {
  readonly romeo: Side;
  readonly juliet: Side;
  /** Every routed stanza, in order: 'romeo→juliet subscribe'. */
  readonly wire: string[] = [];

  constructor(romeoState: SubscriptionState = 'None', julietState: SubscriptionState = mirror(romeoState)) {
    this.romeo = side(ROMEO, JULIET, romeoState);
    this.juliet = side(JULIET, ROMEO, julietState);
  }

  /** One side's client sends a stanza; pipe the routed stanzas until quiet. */
  send(who: 'romeo' | 'juliet', event: SubscriptionEvent): void {
    const queue: { to: Side; event: SubscriptionEvent }[] = [];
    const enqueue = (from: Side, cs: readonly SubscriptionCommand[]): void => {
      for (const c of cs) {
        if (c.type !== 'route') continue;
        this.wire.push(`${c.from === ROMEO ? 'romeo→juliet' : 'juliet→romeo'} ${word(c)}`);
        queue.push({ to: from === this.romeo ? this.juliet : this.romeo, event: subscriptionEvent('in', c.presence) });
      }
    };
    const first = who === 'romeo' ? this.romeo : this.juliet;
    enqueue(first, first.step(event));
    for (let hops = 0; queue.length > 0; hops++) {
      if (hops > 10) throw new Error('subscription stanzas bounce between the servers');
      const { to, event: e } = queue.shift()!;
      enqueue(to, to.step(e));
    }
  }

  /** The two ends describe the same relation: romeo's "to" half is juliet's "from" half and the other way round. */
  agree(): boolean {
    return mirror(this.romeo.state()) === this.juliet.state();
  }
}
