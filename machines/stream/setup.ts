/**
 * What every stream machine is set up with: the rules both ends of a stream obey, as XState
 * implementations (RFC 6120 §4.4 closing, §4.6 liveness timers and probes, the outcome
 * reported at the end). A stream machine starts from `streamSetup(...)` and `.extend()`s it
 * with its own guards and actions, so a new stream machine (a server-to-server role, say)
 * gets these by construction and ./states.ts can name them knowing they exist.
 */
import { assign, enqueueActions, setup, type AnyActorLogic, type EventObject } from 'xstate';
import type { Command, StreamHeader, StreamOutcome } from '../protocol.js';
import { outcome, streamDelays, streamGuards, streamOutput, type StreamContext } from './outcome.js';

/** What the shared actions read and write besides StreamContext. */
export interface SharedStreamContext extends StreamContext {
  readonly peer: StreamHeader | undefined;
  readonly pingId: string | undefined;
}

/** How a machine says our stream is open (a closing tag is owed), and what closing it sets. */
export interface StreamOpenness<C> {
  readonly isOpen: (context: C) => boolean;
  readonly closed: Partial<C>;
}

/** The commands the shared actions emit: every stream machine's command set includes them. */
export type SharedCommand = Extract<Command, { type: 'closeStream' | 'closeSocket' | 'ended' | 'sendWhitespace' }>;

/**
 * `Emitted`: the machine's command set, the client-to-server contract's `Command` unless the
 * machine has its own (a server-to-server role). It must include SharedCommand, which a
 * type parameter cannot require, so the shared actions state it with `as Emitted`.
 */
export function streamSetup<C extends SharedStreamContext, E extends EventObject, I, Emitted extends EventObject = Command, Actors extends Record<string, AnyActorLogic> = {}>(
  open: StreamOpenness<C>,
  /** Child actor logic the machine spawns by name (a server stream's dialback pairs). */
  actors: Actors = {} as Actors,
) {
  const shared = (command: SharedCommand) => command as unknown as Emitted;
  return setup({
    actors,
    types: { context: {} as C, events: {} as E, input: {} as I, emitted: {} as Emitted, output: {} as StreamOutcome },
    delays: streamDelays,
    guards: streamGuards,
    actions: {
      /** §4.7: the peer's current header (forgotten on every restart, §4.3.3). */
      rememberHeader: assign(({ event }) => ({ peer: event.type === 'HEADER' ? (event as unknown as { header: StreamHeader }).header : undefined }) as Partial<C>),
      /** §4.4 step 4 for the peer that closed first: our reciprocal tag, then TCP. */
      answerClose: enqueueActions(({ context, enqueue }) => {
        if (open.isOpen(context)) enqueue.emit(shared({ type: 'closeStream' }));
        enqueue.emit(shared({ type: 'closeSocket' }));
        enqueue.assign({ ...open.closed, outcome: outcome('closed', '6120 §4.4') } as Partial<C>);
      }),
      closeSocket: enqueueActions(({ enqueue }) => enqueue.emit(shared({ type: 'closeSocket' }))),
      recordOutcome: assign((_, params: StreamOutcome) => ({ outcome: params }) as Partial<C>),
      /** The final state's entry: the outcome, once. */
      emitEnded: enqueueActions(({ context, enqueue }) => {
        enqueue.emit(shared({ type: 'ended', outcome: streamOutput({ context }) }));
      }),
      /** §4.6.2: the answer to our ping arrived. */
      consumePingReply: assign(() => ({ pingId: undefined }) as Partial<C>),
      /** §4.6.1: a whitespace keepalive. */
      sendWhitespace: enqueueActions(({ enqueue }) => enqueue.emit(shared({ type: 'sendWhitespace' }))),
    },
  });
}
