/**
 * A small stream-like machine with every statechart feature the documentation generator
 * must handle: nesting, a parallel state, string and composed guards, named and numeric
 * `after` delays, `always`, a transition on the root, `onDone`, final states, self-loops (targetless and re-entering),
 * `emit` actions, and `meta.rfc` / `meta.summary` on states and transitions.
 * It is not a model of anything; the section numbers only give the labels something to show.
 */
import { and, assign, emit, not, setup } from 'xstate';

export const fixtureMachine = setup({
  types: {
    context: {} as { attempts: number },
    events: {} as
      | { type: 'HEADER' }
      | { type: 'ELEMENT'; ok: boolean }
      | { type: 'KEEPALIVE' }
      | { type: 'PING' }
      | { type: 'CLOSE' }
      | { type: 'STREAM_CLOSE' }
      | { type: 'SOCKET_CLOSED' },
    emitted: {} as { type: 'send'; what: string } | { type: 'closeSocket' },
  },
  guards: {
    elementOk: ({ event }) => event.type === 'ELEMENT' && event.ok,
    tooManyAttempts: ({ context }) => context.attempts >= 3,
    tlsRequired: () => false,
  },
  delays: {
    idleTimeout: 30_000,
    closeWait: ({ context }) => 1000 * (context.attempts + 1),
  },
}).createMachine({
  id: 'fixture',
  initial: 'connecting',
  context: { attempts: 0 },
  meta: { rfc: '6120 §4', summary: 'fixture' },
  on: { SOCKET_CLOSED: { target: '.closed', meta: { rfc: '6120 §4.6.1' } } },
  states: {
    connecting: {
      meta: { rfc: '6120 §4.2', summary: 'waiting for the peer header' },
      on: {
        HEADER: { target: 'negotiating', meta: { rfc: '6120 §4.2' }, actions: emit({ type: 'send', what: 'features' }) },
      },
      after: { idleTimeout: { target: 'closed', meta: { rfc: '6120 §4.6.3' } } },
    },
    negotiating: {
      meta: { rfc: '6120 §4.3', summary: 'stream features' },
      initial: 'tls',
      states: {
        tls: {
          meta: { rfc: '6120 §5.4' },
          on: {
            ELEMENT: [
              { target: 'sasl', guard: 'elementOk', meta: { rfc: '6120 §5.4.3.3' } },
              { target: '#fixture.closed', guard: not('tlsRequired'), meta: { rfc: '6120 §5.4.2.2' } },
            ],
          },
        },
        sasl: {
          meta: { rfc: '6120 §6.4', summary: 'authentication exchange' },
          on: {
            ELEMENT: [
              { target: 'done', guard: 'elementOk', meta: { rfc: '6120 §6.4.6' } },
              {
                target: '#fixture.closed',
                guard: and(['tooManyAttempts', not('elementOk')]),
                meta: { rfc: '6120 §6.4.5' },
                actions: emit({ type: 'closeSocket' }),
              },
              { actions: assign({ attempts: ({ context }) => context.attempts + 1 }), meta: { rfc: '6120 §6.5' } },
            ],
          },
        },
        done: { type: 'final', meta: { rfc: '6120 §4.3.5' } },
      },
      onDone: { target: 'open', meta: { rfc: '6120 §4.3.5' } },
    },
    open: {
      type: 'parallel',
      meta: { rfc: '6120 §4.6', summary: 'bound stream' },
      on: { CLOSE: { target: 'closing', meta: { rfc: '6120 §4.4' } } },
      states: {
        traffic: {
          initial: 'idle-wait',
          states: {
            'idle-wait': {
              on: { KEEPALIVE: { target: 'idle-wait', reenter: true, meta: { rfc: '6120 §4.6.1' } } },
              after: { idleTimeout: { target: 'probing', meta: { rfc: '6120 §4.6.3' } } },
            },
            probing: {
              on: { ELEMENT: { target: 'idle-wait', meta: { rfc: '6120 §4.6.2' } } },
              after: { 5000: { target: '#fixture.closed', meta: { rfc: 'XEP-0199 §4.2' } } },
            },
          },
        },
        stanzas: {
          initial: 'ready',
          states: {
            ready: {
              on: { PING: { meta: { rfc: '6120 §8.2.3' }, actions: emit({ type: 'send', what: 'pong' }) } },
            },
          },
        },
      },
    },
    closing: {
      meta: { rfc: '6120 §4.4' },
      always: { target: 'closed', guard: 'tooManyAttempts', meta: { rfc: '6120 §4.4' } },
      on: { STREAM_CLOSE: { target: 'closed', meta: { rfc: '6120 §4.4' } } },
      after: { closeWait: { target: 'closed', meta: { rfc: '6120 §4.4' } } },
    },
    closed: { type: 'final', meta: { rfc: '6120 §4.4', summary: 'stream and TCP closed' } },
  },
});
