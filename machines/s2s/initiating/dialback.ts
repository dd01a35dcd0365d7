/**
 * The `originatingDialback` machine of our domain pair (XEP-0220 §2.1.1), run as a child of
 * the stream machine, as the receiving server runs its pairs (../receiving/dialback.ts). The
 * pair machine emits its commands (`send`, `pairAuthorized`, `pairRejected`, `pairFailed`) to
 * whoever listens; this wrapper is that listener and hands each one to the stream machine as
 * a PAIR_COMMAND event. It shares the stream machine's system, so its dialback timeout runs
 * on the same clock (a SimulatedClock in tests and the simulator).
 */
import { createActor, fromCallback, type EventObject } from 'xstate';
import { originatingDialback } from '../../dialback/originating.js';
import type { OriginatingDialbackEvent, OriginatingDialbackInput } from '../../dialback/types.js';
import type { PairCommandEvent } from './types.js';

export interface PairInput {
  /** The pair key ("from to"). */
  readonly pair: string;
  readonly dialback: OriginatingDialbackInput;
}

/** The child's id in the stream machine. */
export function pairActorId(pair: string): string {
  return `dialback:${pair}`;
}

export const pairDialback = fromCallback<EventObject, PairInput>(({ input, self, sendBack, receive }) => {
  const machine = createActor(originatingDialback, { input: input.dialback, parent: self });
  machine.on('*', (command) => sendBack({ type: 'PAIR_COMMAND', pair: input.pair, command } satisfies PairCommandEvent));
  receive((event) => {
    // Only the pair machine's own events; its completion notice (xstate.done.actor) is not one.
    if (!event.type.startsWith('xstate.')) machine.send(event as OriginatingDialbackEvent);
  });
  machine.start();
  // Stopped with the stream: the pair's verdict will not come (§2.1.1, as a dialback error).
  return () => {
    if (machine.getSnapshot().status === 'active') machine.send({ type: 'STREAM_LOST' });
  };
});
