/**
 * The receiving entity of a client-to-server stream (the server side), RFC 6120 §4-§8.
 *
 * Pure and sans-IO: ServerStreamEvents in, Commands out (emitted in the order the runtime
 * must perform them). Every transition carries `meta.rfc`; grep for a section to find it.
 *
 *   open ─┬─ negotiating ─┬─ awaitingStreamHeader      §4.2, §4.3.3 restarts
 *         │               ├─ tlsNegotiation            §5 (TLS required, not on yet)
 *         │               ├─ saslNegotiation           §6
 *         │               └─ resourceBinding           §7
 *         └─ established (parallel: stanzas | liveness) §8, §4.6
 *   closing                                            §4.4 (our close tag sent)
 *   closed (final)
 *
 * What is the same rule on both sides of the stream (losing the transport §4.6.1, the TLS
 * handshake's silence §5.4.3, liveness §4.6, closing §4.4) is built by ../stream/states.ts,
 * which carries those transitions' `meta.rfc`, and implemented once in ../stream/setup.ts;
 * this file places it and supplies what differs. The guards and actions named here are
 * implemented in ./setup.ts.
 */
import { and, assign, not } from 'xstate';
import { outcome, streamOutput } from '../stream/outcome.js';
import { closedState, closingState, establishedState, negotiationTimeouts, peerStreamError, pingReplyConsumed, receivingOpenRules, receivingTlsHandshake, unexpectedElement } from '../stream/states.js';
import { headerError } from './header.js';
import { receivingEntitySetup, unexpectedElementError } from './setup.js';
import type { ReceivingEntityContext as Ctx } from './types.js';

export const receivingEntityMachine = receivingEntitySetup.createMachine({
  id: 'receivingEntity',
  meta: { rfc: '6120 §4', summary: 'Receiving entity (server) of a client-to-server XML stream' },
  context: ({ input }): Ctx => ({
    input,
    peer: undefined,
    headerSent: false,
    streamId: undefined,
    secured: input.secure === true,
    username: undefined,
    authenticated: false,
    authFailures: 0,
    bindFailures: 0,
    sasl: undefined,
    lookupUsername: undefined,
    saslStep: undefined,
    pendingBind: undefined,
    boundJid: undefined,
    pingId: undefined,
    outcome: undefined,
  }),
  initial: 'open',
  states: {
    open: {
      meta: { rfc: '6120 §4.1', summary: 'The stream is open in both directions' },
      initial: 'negotiating',
      on: {
        ...receivingOpenRules('We end the session: send our closing tag, then wait for the peer\'s.'),
        ELEMENT: [
          peerStreamError(
            'closed',
            '6120 §4.9.1.1, §4.9.3.23',
            'The peer sent a stream error (any condition; unsupported-feature, §4.9.3.23, only an initiating entity sends) and closed its stream.',
          ),
          {
            guard: 'isStarttls',
            target: 'closing',
            actions: 'tlsFailure',
            meta: { rfc: '6120 §5.4.2.2' },
            description: 'STARTTLS when it was not offered (cause 2): TLS <failure/>, close the stream and TCP.',
          },
          unexpectedElement('closing', unexpectedElementError, '6120 §4.9.3.12, §4.3.5, §6.3.1, §7.3.1, §4.9.3.10, §4.9.3.24', 'An element no state accepts: not-authorized (stanza before auth/bind §4.3.5 §7.1, negotiation element after that step), invalid-namespace (§4.9.3.10) or unsupported-stanza-type (§4.9.3.24).'),
        ],
      },
      states: {
        negotiating: {
          meta: { rfc: '6120 §4.3', summary: 'Stream negotiation: from the first header until a resource is bound' },
          initial: 'awaitingStreamHeader',
          after: {
            negotiationTimeout: negotiationTimeouts(
              'receivingEntity',
              { condition: 'connection-timeout', kind: 'timeout' },
              'Negotiation did not complete in time: the peer is not responding (§4.9.3.4).',
            ),
          },
          states: {
            awaitingStreamHeader: {
              meta: { rfc: '6120 §4.2', summary: 'Waiting for the initial stream header (first one or after a restart, §4.3.3)' },
              on: {
                HEADER: [
                  {
                    guard: 'headerInvalid',
                    target: '#receivingEntity.closing',
                    actions: [
                      'rememberHeader',
                      {
                        type: 'streamError',
                        params: ({ context, event }) => ({ condition: headerError(event.header, context.input.domain) ?? 'bad-format' }),
                      },
                    ],
                    meta: { rfc: '6120 §4.9.1.2, §4.9.1.3, §4.7.2, §4.7.5, §4.9.3.6, §4.9.3.10, §4.9.3.25' },
                    description: 'Open our stream anyway (from = our domain, §4.9.1.3), then the error: invalid-namespace, unsupported-version or host-unknown.',
                  },
                  {
                    guard: 'stageTlsRequired',
                    target: 'tlsNegotiation',
                    actions: 'openStreamWithFeatures',
                    meta: { rfc: '6120 §5.4.1, §5.3.1, §4.3.2, §4.7.1, §4.7.2, §4.7.3, §4.7.4, §4.7.5' },
                    description: 'Response header (fresh id) and features with <starttls><required/></starttls> only (§5.3.1).',
                  },
                  {
                    guard: 'stageSasl',
                    target: 'saslNegotiation',
                    actions: 'openStreamWithFeatures',
                    meta: { rfc: '6120 §6.4.1, §6.3.1, §4.3.2, §4.7.1, §4.7.2, §4.7.3, §4.7.4, §4.7.5, §13.9.4' },
                    description: 'Response header (fresh id) and features with <mechanisms/> (PLAIN only when secured, §13.9.4; and a voluntary <starttls/> when TLS is optional).',
                  },
                  {
                    target: 'resourceBinding',
                    actions: 'openStreamWithFeatures',
                    meta: { rfc: '6120 §7.4, §7.3.1, §4.3.2, §4.7.1, §4.7.2, §4.7.3, §4.7.4, §4.7.5' },
                    description: 'Restart after SASL: response header (fresh id) and features with <bind/>, the one mandatory-to-negotiate feature left (§7.3.1).',
                  },
                ],
              },
            },
            tlsNegotiation: {
              meta: { rfc: '6120 §5', summary: 'TLS is mandatory-to-negotiate and not on yet (§5.3.1)' },
              initial: 'featuresSent',
              states: {
                featuresSent: {
                  meta: { rfc: '6120 §5.4.1', summary: 'Features with required STARTTLS sent; waiting for <starttls/>' },
                  on: {
                    ELEMENT: [
                      {
                        guard: 'isStarttls',
                        target: 'handshake',
                        actions: 'proceedWithTls',
                        meta: { rfc: '6120 §5.4.2.3' },
                      },
                      {
                        guard: 'isAuth',
                        target: '#receivingEntity.open.negotiating.saslNegotiation.evaluating',
                        actions: 'evaluateAuth',
                        meta: { rfc: '6120 §6.5.4, §5.3.1' },
                        description: 'Authentication before the required TLS: answered with encryption-required.',
                      },
                      {
                        guard: 'isSaslOutOfTurn',
                        target: '#receivingEntity.open.negotiating.saslNegotiation.evaluating',
                        actions: 'failOutOfTurn',
                        meta: { rfc: '6120 §6.5.8' },
                      },
                      {
                        guard: 'isAbort',
                        target: '#receivingEntity.open.negotiating.saslNegotiation.evaluating',
                        actions: 'failOutOfTurn',
                        meta: { rfc: '6120 §6.4.4' },
                      },
                    ],
                  },
                },
                handshake: receivingTlsHandshake('receivingEntity', {
                  target: '#receivingEntity.open.negotiating.awaitingStreamHeader',
                  actions: ['restartStream', assign({ secured: true })],
                  meta: { rfc: '6120 §5.4.3.3, §5.3.2, §4.3.3' },
                  description: 'TLS is on: the stream restarts and the peer sends a new initial header.',
                }), // §5.4.3: TLS_ESTABLISHED; TLS_FAILED, SHUTDOWN, FAIL, CLOSE close TCP (§5.4.3.1); plaintext ignored (§5.4.3.3)
              },
            },
            saslNegotiation: {
              meta: { rfc: '6120 §6', summary: 'SASL authentication (§6.4)' },
              initial: 'featuresSent',
              on: {
                ELEMENT: [
                  {
                    guard: 'isAuth',
                    target: '.evaluating',
                    actions: 'evaluateAuth',
                    meta: { rfc: '6120 §6.4.2' },
                    description: 'Start a handshake; one in progress is discarded.',
                  },
                  {
                    guard: 'isAbort',
                    target: '.evaluating',
                    actions: 'failOutOfTurn',
                    meta: { rfc: '6120 §6.4.4' },
                    description: 'Abort: answered with <failure><aborted/></failure>.',
                  },
                  {
                    guard: 'isSaslOutOfTurn',
                    target: '.evaluating',
                    actions: 'failOutOfTurn',
                    meta: { rfc: '6120 §6.5.8' },
                    description: 'A <response/> with no challenge outstanding: malformed-request.',
                  },
                ],
              },
              states: {
                featuresSent: {
                  meta: { rfc: '6120 §6.4.1', summary: 'Mechanisms offered; waiting for <auth/>' },
                  on: {
                    ELEMENT: {
                      guard: and(['isStarttls', 'tlsOffered']),
                      target: '#receivingEntity.open.negotiating.tlsNegotiation.handshake',
                      actions: 'proceedWithTls',
                      meta: { rfc: '6120 §5.4.2.3' },
                      description: 'Voluntary STARTTLS (TLS optional) accepted.',
                    },
                  },
                },
                awaitingCredentials: {
                  meta: { rfc: '6120 §6.3.7', summary: 'Waiting for the account store to return the user\'s stored credentials' },
                  on: {
                    CREDENTIALS: {
                      guard: 'credentialsAwaited',
                      target: 'evaluating',
                      actions: 'evaluateCredentials',
                      meta: { rfc: '6120 §6.4.3' },
                    },
                  },
                },
                challengeSent: {
                  meta: { rfc: '6120 §6.4.3', summary: '<challenge/> sent; waiting for <response/>' },
                  on: {
                    ELEMENT: {
                      guard: 'isResponse',
                      target: 'evaluating',
                      actions: 'evaluateResponse',
                      meta: { rfc: '6120 §6.4.3' },
                    },
                  },
                },
                evaluating: {
                  meta: { rfc: '6120 §6.4', summary: 'Transient: act on the mechanism\'s last step' },
                  always: [
                    {
                      guard: 'stepIsLookup',
                      target: 'awaitingCredentials',
                      actions: 'lookupCredentials',
                      meta: { rfc: '6120 §6.3.7' },
                    },
                    {
                      guard: 'stepIsChallenge',
                      target: 'challengeSent',
                      actions: 'sendChallenge',
                      meta: { rfc: '6120 §6.4.3' },
                    },
                    {
                      guard: 'stepIsSuccess',
                      target: '#receivingEntity.open.negotiating.awaitingStreamHeader',
                      actions: 'sendSuccess',
                      meta: { rfc: '6120 §6.4.6, §6.3.2, §4.3.3' },
                      description: '<success/> (with additional data), then the stream restarts (§6.3.2).',
                    },
                    {
                      guard: 'lastAuthAttempt',
                      target: '#receivingEntity.closing',
                      actions: [
                        'sendSaslFailure',
                        { type: 'streamError', params: { condition: 'policy-violation', text: 'too many failed authentication attempts', kind: 'auth-failed' } },
                      ],
                      meta: { rfc: '6120 §6.4.5, §6.5.1, §6.5.2, §6.5.3, §6.5.4, §6.5.5, §6.5.6, §6.5.7, §6.5.8, §6.5.9, §6.5.10, §6.5.11, §4.9.3.14' },
                      description: 'The retry limit is reached: the failure (any §6.5 condition), then a <policy-violation/> stream error.',
                    },
                    {
                      guard: 'stageTlsRequired',
                      target: '#receivingEntity.open.negotiating.tlsNegotiation.featuresSent',
                      actions: 'sendSaslFailure',
                      meta: { rfc: '6120 §6.4.5, §6.5.1, §6.5.4, §6.5.7, §6.5.8, §6.5.9, §5.3.1' },
                      description:
                        'Failure while TLS is still required (aborted, encryption-required, invalid-mechanism, malformed-request or mechanism-too-weak): back to waiting for <starttls/>.',
                    },
                    {
                      target: 'featuresSent',
                      actions: 'sendSaslFailure',
                      meta: { rfc: '6120 §6.4.5, §6.5.1, §6.5.2, §6.5.3, §6.5.4, §6.5.5, §6.5.6, §6.5.7, §6.5.8, §6.5.9, §6.5.10, §6.5.11, §13.9.4' },
                      description: 'Failure with any §6.5 condition (encryption-required for PLAIN in the clear, §13.9.4); the client may retry (§6.4.5).',
                    },
                  ],
                },
              },
            },
            resourceBinding: {
              meta: { rfc: '6120 §7', summary: 'Authenticated; a resource must be bound (§7.3.1)' },
              initial: 'featuresSent',
              states: {
                featuresSent: {
                  meta: { rfc: '6120 §7.4', summary: '<bind/> offered; waiting for the bind IQ' },
                  on: {
                    ELEMENT: [
                      {
                        guard: and(['isBindRequest', 'bindRequestValid']),
                        target: 'awaitingResourceStatus',
                        actions: 'queryResource',
                        meta: { rfc: '6120 §7.6.1, §7.7.1, §8.2.3' },
                        description: 'Server-generated (§7.6) or client-submitted (§7.7) resourcepart: ask the session registry.',
                      },
                      {
                        guard: and(['isBindRequest', 'lastBindAttempt']),
                        target: '#receivingEntity.closing',
                        actions: ['sendBindError', { type: 'streamError', params: { condition: 'policy-violation', text: 'too many resource binding attempts' } }],
                        meta: { rfc: '6120 §7.7.3, §8.3.3.1, §4.9.3.14' },
                        description: 'The last allowed attempt is malformed: <bad-request/>, then a <policy-violation/> stream error.',
                      },
                      {
                        guard: 'isBindRequest',
                        actions: 'sendBindError',
                        meta: { rfc: '6120 §7.7.2.1, §8.2.3, §8.3.3.1' },
                        description: 'Malformed request or unusable resourcepart: <bad-request/> with the request\'s id.',
                      },
                    ],
                  },
                },
                awaitingResourceStatus: {
                  meta: { rfc: '6120 §7.7.2', summary: 'Waiting for the session registry\'s answer about the resourcepart' },
                  on: {
                    RESOURCE_STATUS: [
                      {
                        guard: 'bindAccepted',
                        target: '#receivingEntity.open.established',
                        actions: 'bindResource',
                        meta: { rfc: '6120 §7.7.1, §7.6.1, §7.3.2, §4.3.5, §8.2.3' },
                        description:
                          'Bound (override policy: replacing the other session, §7.7.2.2 #3); the IQ result keeps the request\'s id. No restart follows (§7.3.2): negotiation is complete (§4.3.5).',
                      },
                      {
                        guard: 'bindRegenerate',
                        actions: 'regenerateResource',
                        meta: { rfc: '6120 §7.7.2.2, §7.6' },
                        description: 'In use: a server-generated resourcepart instead (§7.7.2.2 #1, or §7.6 for our own).',
                      },
                      {
                        guard: and(['bindRefused', 'lastBindAttempt']),
                        target: '#receivingEntity.closing',
                        actions: ['sendBindError', { type: 'streamError', params: { condition: 'policy-violation', text: 'too many resource binding attempts' } }],
                        meta: { rfc: '6120 §7.7.3, §8.3.3.2, §8.3.3.6, §8.3.3.10, §8.3.3.18, §4.9.3.14' },
                        description: 'The last allowed attempt is refused: the stanza error, then a <policy-violation/> stream error.',
                      },
                      {
                        guard: 'bindRefused',
                        target: 'featuresSent',
                        actions: 'sendBindError',
                        meta: { rfc: '6120 §7.6.2, §7.6.2.1, §7.6.2.2, §7.7.2.2, §8.2.3, §8.3.3.2, §8.3.3.6, §8.3.3.10, §8.3.3.18' },
                        description:
                          'not-allowed (§7.6.2.2), resource-constraint (§7.6.2.1), conflict (§7.7.2.2 #2) or internal-server-error (generated resourceparts keep colliding), with the request\'s id.',
                      },
                    ],
                  },
                },
              },
            },
          },
        },
        established: establishedState({
          exchanging: 'Client stanzas are stamped and routed; routed stanzas are written',
          on: {
            ELEMENT: [
              peerStreamError('#receivingEntity.closed', '6120 §4.9.1.1, §4.9.3.23', 'The peer sent a stream error (any condition) and closed its stream.'),
              {
                guard: and(['isStanza', 'fromInvalid']),
                target: '#receivingEntity.closing',
                actions: { type: 'streamError', params: { condition: 'invalid-from' } },
                meta: { rfc: '6120 §4.9.3.9' },
                description: "'from' is neither the bound full JID nor the account's bare JID.",
              },
              pingReplyConsumed('XEP-0199 §4.2, RFC 6120 §4.6.3, §8.2.3', 'The answer to our ping (result or error with its id): the stream is alive; not routed.'),
              {
                guard: 'isStanza',
                actions: 'deliver',
                meta: { rfc: '6120 §8.1.2.1, §8.1.5, §4.7.4' },
                description: "Stamp 'from' with the full JID (bare for subscription presence), add the stream's xml:lang when the stanza has none (§8.1.5), and route (§10).",
              },
              {
                guard: 'isStarttls',
                target: '#receivingEntity.closing',
                actions: 'tlsFailure',
                meta: { rfc: '6120 §5.4.2.2' },
              },
              unexpectedElement('#receivingEntity.closing', unexpectedElementError, '6120 §4.9.3.24, §4.9.3.12, §4.9.3.10', 'A second bind or SASL element: not-authorized; jabber:server stanza: invalid-namespace; else unsupported-stanza-type.'),
            ],
            ROUTE_IN: {
              actions: 'writeRoutedStanza',
              meta: { rfc: '6120 §10' },
              description: 'A stanza routed to this connected resource.',
            },
            REPLACED: {
              target: '#receivingEntity.closing',
              actions: { type: 'streamError', params: { condition: 'conflict', text: 'replaced by a new session' } },
              meta: { rfc: '6120 §4.9.3.3' },
              description: 'Another session bound this full JID (§7.7.2.2 #3).',
            },
          },
          liveness: {
            ping: {
              guard: 'pingMode',
              target: 'pinging',
              actions: 'sendPing',
              meta: { rfc: 'XEP-0199 §4.2, RFC 6120 §4.6.3, §8.2.3' },
              description: 'Verify the stream before concluding the peer is idle (§4.6.3): an XMPP ping (an IQ get with a fresh id).',
            },
            answered: 'Any element proves the peer reads and writes the stream (a client that sends stanzas is not silent), not only the ping reply.',
            pingTimeout: {
              target: '#receivingEntity.closing',
              actions: { type: 'streamError', params: { condition: 'connection-timeout', kind: 'timeout' } },
              meta: { rfc: '6120 §4.6.2, §4.9.3.4' },
              description: 'Broken stream: no answer to the ping (§4.9.3.4).',
            },
          },
        }),
      },
    },
    // §4.4: STREAM_CLOSE (step 4), SOCKET_CLOSED, WRITE_FAILED, TLS_FAILED, closeTimeout (rule 3) → closed.
    closing: closingState('peer', {
      guard: and(['gracefullyClosingBound', 'isStanza', not('fromInvalid')]),
      actions: 'deliver',
      meta: { rfc: '6120 §4.4, §8.1.2.1, §8.1.5' },
      description:
        'Rule 2: keep processing what the peer still sends after our graceful close (never answering). After a stream error nothing more is processed (§4.9.3.12).',
    }),
    closed: closedState,
  },
  output: streamOutput,
});
