/**
 * A client's connection lifecycle: the life of an application's "be online" across many
 * streams, RFC 6120 §3.3 (reconnection), §4.9.3.19 (see-other-host) and §4.3.5 (nothing
 * sent before the stream is negotiated). Each stream in it is an initiating entity machine
 * (../initiating) that the runtime runs on the connection this machine asks for.
 *
 *   idle ── START ──▶ connecting ─┬─ tcp           §3: the TCP connection is being opened
 *                                 └─ negotiating   §4-§7: a stream runs on it
 *                    online                        §7.6.1 bound; §4.3.5 the queue flushed
 *                    waiting                       §3.3 back-off before the next attempt
 *                    stopping                      §4.4 our close sent, waiting for the end
 *                    stopped (final)
 *
 * Choices where the RFC leaves them (each cited where it is made):
 *  - a `<see-other-host/>` is followed at once, at most MAX_REDIRECTS times in a row;
 *  - a reconnection after an outage goes to the configured host again, never to a redirect
 *    target (that was where the service sent us then, not its entry point);
 *  - only outcomes that a retry can cure are retried (./transient.ts);
 *  - stanzas sent while not online wait in a bounded queue, written in order once online:
 *    the stream machine itself drops them (§4.3.5), so an application needs not watch.
 * Pure: events in, ConnectionCommands out (emitted in the order the runtime performs them);
 * the only timer is the back-off, an XState delay.
 */
import { assign, enqueueActions, setup } from 'xstate';
import { backoffDelay } from './backoff.js';
import { isTransient } from './transient.js';
import type { ConnectionCommand, ConnectionContext, ConnectionEvent, ConnectionInput } from './types.js';

/** §4.9.3.19: "abort the connection attempt after a certain number of successive redirects (e.g., at least 2 but no more than 5)". Choice: 3. */
export const MAX_REDIRECTS = 3;

type Ended = Extract<ConnectionEvent, { type: 'ENDED' }>;
const endedOf = (e: ConnectionEvent): Ended | undefined => (e.type === 'ENDED' ? e : undefined);

export const connectionSetup = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
    emitted: {} as ConnectionCommand,
  },
  delays: {
    /** The back-off chosen when the outage began (scheduleRetry). */
    retryDelay: ({ context }) => context.retryDelayMs,
  },
  guards: {
    /** §4.9.3.19: the server named another host, and the run of redirects is not used up. */
    mayFollowRedirect: ({ context, event }) => {
      const e = endedOf(event);
      return e?.redirect !== undefined && e.outcome.kind === 'error-received' && e.outcome.condition === 'see-other-host' && context.redirects < MAX_REDIRECTS;
    },
    /** §3.3: reconnection is wanted, can cure this outcome, and attempts remain. */
    mayReconnect: ({ context, event }) => {
      const e = endedOf(event);
      const backoff = context.input.reconnect;
      return e !== undefined && backoff !== undefined && isTransient(e.outcome) && context.attempts < backoff.maxAttempts;
    },
    queueHasRoom: ({ context }) => context.queue.length < context.input.maxQueued,
  },
  actions: {
    connect: enqueueActions(({ context, enqueue }) => enqueue.emit({ type: 'connect', ...context.target })),
    abort: enqueueActions(({ enqueue }) => enqueue.emit({ type: 'abort' })),
    closeStream: enqueueActions(({ enqueue }) => enqueue.emit({ type: 'closeStream' })),
    enqueueStanza: assign({ queue: ({ context, event }) => (event.type === 'SEND' ? [...context.queue, event.stanza] : context.queue) }),
    write: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'SEND') enqueue.emit({ type: 'write', stanza: event.stanza });
    }),
    /** §4.3.5: negotiation is complete; what waited goes first, in order, then the application hears. */
    goOnline: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ONLINE') return;
      for (const stanza of context.queue) enqueue.emit({ type: 'write', stanza });
      // §3.3: a connection that worked ends the outage; the next one starts at the first window.
      enqueue.assign({ queue: [], attempts: 0, redirects: 0 });
      enqueue.emit({ type: 'online', jid: event.jid });
    }),
    /** A stream ended: remember and announce it. */
    recordEnd: enqueueActions(({ event, enqueue }) => {
      const e = endedOf(event);
      if (!e) return;
      enqueue.assign({ lastOutcome: e.outcome });
      enqueue.emit({ type: 'offline', outcome: e.outcome });
    }),
    /** Anything but a clean close is a failure the application hears of. */
    reportFailure: enqueueActions(({ event, enqueue }) => {
      const e = endedOf(event);
      if (e && !(e.outcome.kind === 'closed' && e.outcome.condition === undefined)) enqueue.emit({ type: 'failed', outcome: e.outcome });
    }),
    followRedirect: enqueueActions(({ context, event, enqueue }) => {
      const to = endedOf(event)?.redirect;
      if (!to) return;
      const count = context.redirects + 1;
      enqueue.assign({ target: to, redirects: count });
      enqueue.emit({ type: 'redirected', ...to, count });
    }),
    /** The run of successive redirects is over; the next connection goes to the configured host. */
    goHome: assign({ target: ({ context }) => context.input.home, redirects: 0 }),
    scheduleRetry: enqueueActions(({ context, event, enqueue }) => {
      const e = endedOf(event);
      const backoff = context.input.reconnect;
      if (!e || !backoff) return;
      const delayMs = backoffDelay(context.attempts, backoff, context.input.random);
      const attempt = context.attempts + 1;
      enqueue.assign({ attempts: attempt, retryDelayMs: delayMs });
      enqueue.emit({ type: 'reconnecting', attempt, delayMs, after: e.outcome });
    }),
    stoppedByApplication: enqueueActions(({ context, enqueue }) => enqueue.emit({ type: 'stopped', reason: 'stopped', outcome: context.lastOutcome })),
    gaveUp: enqueueActions(({ context, event, enqueue }) =>
      enqueue.emit({ type: 'stopped', reason: 'gave-up', outcome: endedOf(event)?.outcome ?? context.lastOutcome }),
    ),
  },
});

const queueWhileOffline = {
  guard: 'queueHasRoom',
  actions: 'enqueueStanza',
  meta: { rfc: '6120 §4.3.5' },
  description: 'Not online: the stanza waits (the stream machine would drop it); a full queue refuses it',
} as const;

/** How a stream's end is answered, wherever it ends before the application stopped it. */
const afterStreamEnd = [
  {
    guard: 'mayFollowRedirect',
    target: '#clientConnection.connecting',
    reenter: true,
    actions: ['recordEnd', 'followRedirect'],
    meta: { rfc: '6120 §4.9.3.19' },
    description: '<see-other-host/>: connect where the server says, at once (an instruction, not an outage)',
  },
  {
    guard: 'mayReconnect',
    target: '#clientConnection.waiting',
    actions: ['recordEnd', 'reportFailure', 'goHome', 'scheduleRetry'],
    meta: { rfc: '6120 §3.3' },
    description: 'An outage a retry can cure: wait an unpredictable, increasing time, then reconnect',
  },
  {
    target: '#clientConnection.stopped',
    actions: ['recordEnd', 'reportFailure', 'goHome', 'gaveUp'],
    meta: { rfc: '6120 §3.3' },
    description: 'No reconnection wanted, none can help, or the attempts are used up: stay offline',
  },
] as const;

export const clientConnectionMachine = connectionSetup.createMachine({
  id: 'clientConnection',
  meta: { rfc: '6120 §3.3', summary: "A client's connection lifecycle: reconnection, redirects and the pre-online queue, around one stream at a time" },
  context: ({ input }): ConnectionContext => ({
    input,
    target: input.home,
    redirects: 0,
    attempts: 0,
    retryDelayMs: 0,
    queue: [],
    lastOutcome: undefined,
  }),
  initial: 'idle',
  states: {
    idle: {
      meta: { rfc: '6120 §3', summary: 'Created; nothing connected yet' },
      on: {
        START: { target: 'connecting', meta: { rfc: '6120 §3, §3.2' }, description: 'Connect: to the configured host, or to the candidates the runtime finds by DNS SRV for the JID domain (§3.2)' },
        SEND: queueWhileOffline,
        STOP: { target: 'stopped', actions: 'stoppedByApplication', meta: { rfc: '6120 §4.4' }, description: 'No stream to close' },
      },
    },
    connecting: {
      meta: { rfc: '6120 §3', summary: 'One connection attempt: TCP, then a stream on it' },
      entry: 'connect',
      initial: 'tcp',
      on: {
        SEND: queueWhileOffline,
        ENDED: afterStreamEnd,
      },
      states: {
        tcp: {
          meta: { rfc: '6120 §3', summary: 'Opening the TCP connection' },
          on: {
            CONNECTED: { target: 'negotiating', meta: { rfc: '6120 §4.2' }, description: 'TCP is up: the stream machine opens a stream on it' },
            STOP: {
              target: '#clientConnection.stopped',
              actions: ['abort', 'stoppedByApplication'],
              meta: { rfc: '6120 §4.4' },
              description: 'No stream yet: abandon the connection attempt',
            },
          },
        },
        negotiating: {
          meta: { rfc: '6120 §4.3', summary: 'The stream negotiates TLS, SASL and a resource' },
          on: {
            ONLINE: { target: '#clientConnection.online', actions: 'goOnline', meta: { rfc: '6120 §7.6.1' }, description: 'Bound: the queued stanzas are written, in order (§4.3.5)' },
            STOP: { target: '#clientConnection.stopping', actions: 'closeStream', meta: { rfc: '6120 §4.4' }, description: 'Close the stream being negotiated' },
          },
        },
      },
    },
    online: {
      meta: { rfc: '6120 §7.6.1', summary: 'Bound: stanzas flow (§8)' },
      on: {
        SEND: { actions: 'write', meta: { rfc: '6120 §8' }, description: 'Written to the stream now' },
        STOP: { target: 'stopping', actions: 'closeStream', meta: { rfc: '6120 §4.4' }, description: 'Close gracefully: our closing tag, then the server\'s' },
        ENDED: afterStreamEnd,
      },
    },
    waiting: {
      meta: { rfc: '6120 §3.3', summary: 'Backing off before the next connection attempt' },
      after: { retryDelay: { target: 'connecting', meta: { rfc: '6120 §3.3' }, description: 'The back-off is over: reconnect' } },
      on: {
        START: { target: 'connecting', meta: { rfc: '6120 §3.3' }, description: 'The application asks now: reconnect without waiting' },
        SEND: queueWhileOffline,
        STOP: { target: 'stopped', actions: 'stoppedByApplication', meta: { rfc: '6120 §4.4' }, description: 'No stream to close; no reconnection' },
      },
    },
    stopping: {
      meta: { rfc: '6120 §4.4', summary: 'Our closing tag sent; the stream machine finishes the handshake' },
      on: {
        ENDED: { target: 'stopped', actions: ['recordEnd', 'stoppedByApplication'], meta: { rfc: '6120 §4.4' }, description: 'Closed: no reconnection after a stop' },
      },
    },
    stopped: {
      type: 'final',
      meta: { rfc: '6120 §4.4', summary: 'Done: a stopped client does not come back (create a new one)' },
    },
  },
});

export type ClientConnectionMachine = typeof clientConnectionMachine;
