/**
 * The outgoing route to a remote domain, RFC 6120 §10.4: one machine per (local domain,
 * remote domain) pair, between the router, which hands it stanzas, and the s2s runtime,
 * which resolves the domain (§13.9.2), connects and negotiates a stream (§5, §6 or XEP-0220)
 * when asked, and reports how far it got.
 *
 *   idle ── SEND ──▶ connecting ─┬─ resolving     §13.9.2 DNS and TCP: no stream yet
 *                                └─ negotiating   §4.2-§6: a stream runs on the connection
 *                    authenticated                §10.4.1 the queue flushed; stanzas written at once
 *                    closing                      §4.6.3 idle: our closing tag sent (§4.4)
 *                    waiting                      §3.3 back-off after a failed attempt
 *                    stopping                     §4.4 shutdown: our closing tag sent
 *                    stopped (final)
 *
 * What it guarantees: every stanza the router hands over ends in exactly one `write` or
 * exactly one `bounce` (§10.4.3 "MUST return an error to the sender"), never both and never
 * twice; stanzas are written in the order they were handed over, over one stream at a time
 * (§10.1 item 3); nothing is written before the stream is authenticated (§4.3.5), nor after
 * our closing tag (§4.4).
 *
 * Choices where the RFC leaves them (each cited where it is made):
 *  - the queue is bounded by input.maxQueued; one more stanza is bounced at once with
 *    `<resource-constraint/>` (§8.3.3.18): a server has no application to refuse a send to,
 *    and §10.4.3 forbids losing it silently;
 *  - a stanza already written when the stream ends is not sent again: RFC 6120 promises no
 *    delivery over a stream that breaks (§3.4 "can result in undelivered stanzas"), and the
 *    route cannot know which written stanzas the peer processed, so re-sending could deliver
 *    one twice. The cure is XEP-0198 (Stream Management acks and resumption), not this model;
 *  - after a failure, stanzas sent during the back-off are bounced at once with the failure's
 *    condition rather than held: the back-off can last minutes (its window grows to `max`), the
 *    sender learns now, and §8.3.3.17's type 'wait' tells it to try later. The first stanza
 *    after the back-off starts the next attempt; `retry.maxAttempts` is not used, because a
 *    route never gives up on a domain for good (each stanza is a new reason to try);
 *  - after a stream is authenticated the attempt counter starts over (a stream that worked
 *    ended the outage, as for a client, §3.3), and a stream that ended after authentication is
 *    no failure: the next stanza connects at once;
 *  - an authenticated stream idle for input.timeouts.idleClose is closed with the §4.4
 *    handshake (§4.6.3 leaves idle handling to the server); stanzas sent while it closes wait
 *    for the next stream, opened as soon as the old one has ended (§10.1: one output stream).
 * Pure: events in, RouteCommands out (emitted in the order the runtime performs them); the
 * timers are XState delays.
 */
import { assign, enqueueActions, setup } from 'xstate';
import { backoffDelay } from '../../connection/backoff.js';
import type { RouteCommand, RouteContext, RouteEvent, RouteFailureCondition, RouteInput } from './types.js';

/** How a failure is recorded: the condition when the event gives none, the reason when it says none. */
interface FailureParams {
  readonly condition?: RouteFailureCondition;
  readonly reason: string;
}

export const routeSetup = setup({
  types: {
    context: {} as RouteContext,
    events: {} as RouteEvent,
    input: {} as RouteInput,
    emitted: {} as RouteCommand,
  },
  delays: {
    connectTimeout: ({ context }) => context.input.timeouts.connect,
    idleTimeout: ({ context }) => context.input.timeouts.idleClose,
    /** The back-off chosen when the attempt failed (scheduleRetry). */
    retryDelay: ({ context }) => context.retryDelayMs,
  },
  guards: {
    queueHasRoom: ({ context }) => context.queue.length < context.input.maxQueued,
    hasQueued: ({ context }) => context.queue.length > 0,
  },
  actions: {
    connect: enqueueActions(({ context, enqueue }) => enqueue.emit({ type: 'connect', local: context.input.local, remote: context.input.remote })),
    abort: enqueueActions(({ enqueue }) => enqueue.emit({ type: 'abort' })),
    closeStream: enqueueActions(({ enqueue }) => enqueue.emit({ type: 'closeStream' })),
    enqueueStanza: assign({ queue: ({ context, event }) => (event.type === 'SEND' ? [...context.queue, event.stanza] : context.queue) }),
    write: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'SEND') enqueue.emit({ type: 'write', stanza: event.stanza });
    }),
    /** §4.3.5, §10.1: authenticated; what waited goes first, in the order it came. */
    flush: enqueueActions(({ context, enqueue }) => {
      for (const stanza of context.queue) enqueue.emit({ type: 'write', stanza });
      enqueue.assign({ queue: [], attempts: 0, lastFailure: undefined });
    }),
    /** §8.3.3.18: the queue is full; the sender hears at once. */
    bounceFull: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'SEND') enqueue.emit({ type: 'bounce', stanza: event.stanza, condition: 'resource-constraint', text: 'too many stanzas wait for the stream to this domain' });
    }),
    /** Why the attempt (or the route) ends: FAILED says it; otherwise `params`. */
    recordFailure: assign({
      lastFailure: ({ event }, params: FailureParams) => ({
        condition: params.condition ?? (event.type === 'FAILED' ? event.condition : 'remote-server-timeout'),
        reason: (event.type === 'FAILED' || event.type === 'ENDED' ? event.reason : undefined) ?? params.reason,
      }),
    }),
    /** §10.4.3: every queued stanza is returned to its sender, once, with the recorded failure. */
    bounceQueued: enqueueActions(({ context, enqueue }) => {
      const f = context.lastFailure;
      if (!f) return;
      for (const stanza of context.queue) enqueue.emit({ type: 'bounce', stanza, condition: f.condition, text: f.reason });
      enqueue.assign({ queue: [] });
    }),
    /** A stanza that cannot wait (back-off, shutdown): returned at once with the recorded failure. */
    bounceNow: enqueueActions(({ context, event, enqueue }) => {
      const f = context.lastFailure;
      if (event.type === 'SEND' && f) enqueue.emit({ type: 'bounce', stanza: event.stanza, condition: f.condition, text: f.reason });
    }),
    /** §3.3's back-off: the next attempt waits an increasing, random time. */
    scheduleRetry: enqueueActions(({ context, enqueue }) => {
      const f = context.lastFailure;
      if (!f) return;
      const delayMs = backoffDelay(context.attempts, context.input.retry, context.input.random);
      const attempt = context.attempts + 1;
      enqueue.assign({ attempts: attempt, retryDelayMs: delayMs });
      enqueue.emit({ type: 'backingOff', attempt, delayMs, condition: f.condition, reason: f.reason });
    }),
    announceStopped: enqueueActions(({ enqueue }) => enqueue.emit({ type: 'stopped' })),
  },
});

/** §10.4.2: a stanza for a domain whose stream is not usable yet waits, up to the bound. */
const queueOrBounce = [
  { guard: 'queueHasRoom', actions: 'enqueueStanza', meta: { rfc: '6120 §10.4.2, §4.3.5' }, description: 'No usable stream yet: the stanza waits for it' },
  { actions: 'bounceFull', meta: { rfc: '6120 §8.3.3.18, §10.4.3' }, description: 'The queue is full: bounced at once with <resource-constraint/>' },
] as const;

/** The attempt failed before authentication: bounce what waited (§10.4.3) and back off (§3.3). */
const attemptFailed = (condition: RouteFailureCondition | undefined, reason: string) =>
  [{ type: 'recordFailure', params: { ...(condition && { condition }), reason } }, 'bounceQueued', 'scheduleRetry'] as const;

/** The server shuts down: what waits is bounced with <remote-server-timeout/> (type 'wait': try again later). */
const SHUTDOWN = { type: 'recordFailure', params: { condition: 'remote-server-timeout', reason: 'the server is shutting down' } } as const;

export const s2sRouteMachine = routeSetup.createMachine({
  id: 's2sRoute',
  meta: { rfc: '6120 §10.4', summary: 'The outgoing route to one remote domain: queue while negotiating, flush once authenticated, bounce on failure' },
  context: ({ input }): RouteContext => ({ input, queue: [], attempts: 0, retryDelayMs: 0, lastFailure: undefined }),
  initial: 'idle',
  states: {
    idle: {
      meta: { rfc: '6120 §10.4.2', summary: 'No stream to the remote domain' },
      on: {
        SEND: [
          {
            guard: 'queueHasRoom',
            target: 'connecting',
            actions: 'enqueueStanza',
            meta: { rfc: '6120 §10.4.2' },
            description: 'No existing stream: the stanza waits while one is resolved, connected and negotiated',
          },
          // Only with maxQueued < 1 (resolveRoutePolicy refuses it): even then nothing is lost.
          queueOrBounce[1],
        ],
        STOP: { target: 'stopped', actions: 'announceStopped', meta: { rfc: '6120 §4.4' }, description: 'No stream to close, nothing queued' },
      },
    },
    connecting: {
      meta: { rfc: '6120 §10.4.2', summary: 'One attempt: resolve the domain, connect, negotiate and authenticate a stream' },
      entry: 'connect',
      initial: 'resolving',
      after: {
        connectTimeout: {
          target: 'waiting',
          actions: ['abort', ...attemptFailed('remote-server-timeout', 'no authenticated stream within the connect timeout')],
          meta: { rfc: '6120 §8.3.3.17, §10.4.3' },
          description: 'Not authenticated within a reasonable time: abandon the attempt, bounce with <remote-server-timeout/>, back off',
        },
      },
      on: {
        SEND: queueOrBounce,
        ENDED: {
          target: 'waiting',
          actions: attemptFailed('remote-server-timeout', 'the stream ended before it was authenticated'),
          meta: { rfc: '6120 §10.4.3, §8.3.3.17' },
          description: 'The stream ended before authentication: streams could not be negotiated',
        },
        STOP: { target: 'stopped', actions: ['abort', SHUTDOWN, 'bounceQueued', 'announceStopped'], meta: { rfc: '6120 §10.4.3' }, description: 'Shutdown: abandon the attempt and bounce what waited' },
      },
      states: {
        resolving: {
          meta: { rfc: '6120 §13.9.2', summary: 'Resolving the domain and opening TCP' },
          on: {
            CONNECTED: { target: 'negotiating', meta: { rfc: '6120 §4.2, §13.9.2' }, description: 'Resolved and connected: a stream negotiates on the connection' },
            FAILED: {
              target: '#s2sRoute.waiting',
              actions: attemptFailed(undefined, 'the remote domain could not be reached'),
              meta: { rfc: '6120 §10.4.3, §8.3.3.16, §8.3.3.17' },
              description: 'Resolution failed (<remote-server-not-found/>) or nothing answered: bounce with the condition reported, back off',
            },
          },
        },
        negotiating: {
          meta: { rfc: '6120 §4.3', summary: 'The stream negotiates TLS and authentication (SASL or Server Dialback)' },
          on: {
            AUTHENTICATED: {
              target: '#s2sRoute.authenticated',
              actions: 'flush',
              meta: { rfc: '6120 §10.4.2, §4.3.5, §10.1' },
              description: 'Authenticated: the queued stanzas are written, in order',
            },
            FAILED: {
              target: '#s2sRoute.waiting',
              // §10.4.3: "If resolution succeeds but streams cannot be negotiated, the stanza error MUST be <remote-server-timeout/>",
              // whatever the runtime reported: past CONNECTED the domain was resolved.
              actions: attemptFailed('remote-server-timeout', 'the stream could not be negotiated'),
              meta: { rfc: '6120 §10.4.3, §8.3.3.17' },
              description: 'Negotiation failed: bounce with <remote-server-timeout/>, back off',
            },
          },
        },
      },
    },
    authenticated: {
      meta: { rfc: '6120 §10.4.1', summary: 'An authenticated stream to the remote domain: stanzas are written at once' },
      after: {
        idleTimeout: {
          target: 'closing',
          actions: 'closeStream',
          meta: { rfc: '6120 §4.6.3, §4.4' },
          description: 'No stanza for idleClose: close the stream with the closing handshake',
        },
      },
      on: {
        SEND: {
          target: 'authenticated',
          reenter: true,
          actions: 'write',
          meta: { rfc: '6120 §10.4.1' },
          description: 'Written to the existing stream now (the idle timer starts over)',
        },
        ENDED: {
          target: 'idle',
          meta: { rfc: '6120 §3.4, §10.4.2' },
          description: 'The stream ended: what was written is not sent again (no duplicates; XEP-0198 would be the cure); the next stanza connects anew',
        },
        STOP: { target: 'stopping', actions: [SHUTDOWN, 'closeStream'], meta: { rfc: '6120 §4.4' }, description: 'Shutdown: close the stream gracefully' },
      },
    },
    closing: {
      meta: { rfc: '6120 §4.4', summary: 'Idle: our closing tag sent, waiting for the stream to end' },
      on: {
        SEND: queueOrBounce.map((t) => ({ ...t, meta: { rfc: `${t.meta.rfc}, §4.4` }, description: `${t.description} (nothing may follow our closing tag)` })),
        ENDED: [
          {
            guard: 'hasQueued',
            target: 'connecting',
            meta: { rfc: '6120 §10.4.2, §10.1' },
            description: 'Stanzas came while it closed: a new stream, now that the old one has ended (one output stream at a time)',
          },
          { target: 'idle', meta: { rfc: '6120 §4.4' }, description: 'Closed; nothing waits' },
        ],
        STOP: { target: 'stopping', actions: [SHUTDOWN, 'bounceQueued'], meta: { rfc: '6120 §4.4, §10.4.3' }, description: 'Shutdown: the close is under way; bounce what waited' },
      },
    },
    waiting: {
      meta: { rfc: '6120 §3.3', summary: 'Backing off after a failed attempt' },
      after: { retryDelay: { target: 'idle', meta: { rfc: '6120 §3.3' }, description: 'The back-off is over: the next stanza starts a new attempt' } },
      on: {
        SEND: { actions: 'bounceNow', meta: { rfc: '6120 §10.4.3, §3.3' }, description: 'Backing off: bounced at once with the condition of the failure' },
        STOP: { target: 'stopped', actions: 'announceStopped', meta: { rfc: '6120 §4.4' }, description: 'No stream, nothing queued' },
      },
    },
    stopping: {
      meta: { rfc: '6120 §4.4', summary: 'Shutdown: our closing tag sent, waiting for the stream to end' },
      on: {
        SEND: { actions: 'bounceNow', meta: { rfc: '6120 §10.4.3, §4.4' }, description: 'Nothing may follow our closing tag: bounced at once' },
        ENDED: { target: 'stopped', actions: 'announceStopped', meta: { rfc: '6120 §4.4' }, description: 'Closed: the route is done' },
      },
    },
    stopped: {
      type: 'final',
      meta: { rfc: '6120 §4.4', summary: 'Done: no stream, nothing queued, none to come' },
    },
  },
});

export type S2sRouteMachine = typeof s2sRouteMachine;
