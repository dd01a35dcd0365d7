/**
 * One `receivingDialback` machine per domain pair (XEP-0220 §2.2.1, multiplexing §2.6), run
 * as a child of the stream machine. The pair machine emits its commands (`send`, `verify`,
 * `pairAuthorized`, ...) to whoever listens; this wrapper is that listener and hands each
 * command to the stream machine as a PAIR_COMMAND event, which turns it into a stream command
 * and updates the pair table. The pair machine shares the stream machine's system, so its
 * dialback timeout runs on the same clock (a SimulatedClock in tests and the simulator).
 */
import { createActor, fromCallback, type EventObject } from 'xstate';
import { receivingDialback } from '../../dialback/receiving.js';
import type { ReceivingDialbackEvent, ReceivingDialbackInput } from '../../dialback/types.js';
import type { PairCommandEvent } from './types.js';

export interface PairInput {
  /** The pair key ("from to"). */
  readonly pair: string;
  readonly dialback: ReceivingDialbackInput;
}

/** The child's id in the stream machine: one per pair key. */
export function pairActorId(pair: string): string {
  return `dialback:${pair}`;
}

export const pairDialback = fromCallback<EventObject, PairInput>(({ input, self, sendBack, receive }) => {
  const machine = createActor(receivingDialback, { input: input.dialback, parent: self });
  machine.on('*', (command) => sendBack({ type: 'PAIR_COMMAND', pair: input.pair, command } satisfies PairCommandEvent));
  receive((event) => {
    // Only the pair machine's own events; its completion notice (xstate.done.actor) is not one.
    if (!event.type.startsWith('xstate.')) machine.send(event as ReceivingDialbackEvent);
  });
  machine.start();
  // Stopped with the stream (or after its verdict, when it is final already): the stream is
  // gone for the pair, which ends it without a word (a child actor cannot be stopped directly).
  return () => {
    if (machine.getSnapshot().status === 'active') machine.send({ type: 'STREAM_LOST' });
  };
});
