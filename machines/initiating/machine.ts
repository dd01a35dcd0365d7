/**
 * The initiating entity of a client-to-server stream (the client side), RFC 6120 §4-§8.
 *
 * Pure and sans-IO: ClientStreamEvents in, Commands out (emitted in the order the runtime
 * must perform them). Every transition carries `meta.rfc`; grep for a section to find it.
 *
 *   starting                                            input check (a JID with a localpart)
 *   open ─┬─ negotiating ─┬─ awaitingStreamHeader      §4.2 our header sent; §4.3.3 restarts
 *         │               ├─ awaitingFeatures          §4.3.2
 *         │               ├─ tlsNegotiation            §5 (<starttls/> sent, then the handshake)
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
 *
 * Stanzas before `online`: SEND events that arrive before the stream is bound are dropped
 * (§4.3.5: the initiating entity MUST NOT send stanzas before negotiation completes; §7.1:
 * nor before a resource is bound). The machine keeps no queue, so that its context stays
 * bounded; the runtime holds the application's stanzas until it sees the `online` command.
 */
import { and, not } from 'xstate';
import { outcome, streamOutput } from '../stream/outcome.js';
import { closedState, closingState, connectionLost, establishedState, gracefulClose, initiatingTlsNegotiation, negotiationTimeouts, peerStreamError, pingReplyConsumed, streamRules, unexpectedElement } from '../stream/states.js';
import { identityOf, responseHeaderProblem } from './header.js';
import { initiatingEntitySetup, unexpectedElementError } from './setup.js';
import type { InitiatingEntityContext as Ctx } from './types.js';

/** The stream errors cited for a server's stream error: the conditions only a server sends (§4.9.3). */
const SERVER_STREAM_ERRORS = '6120 §4.9.1.1, §4.9.3.3, §4.9.3.5, §4.9.3.6, §4.9.3.8, §4.9.3.9, §4.9.3.11, §4.9.3.15, §4.9.3.16, §4.9.3.17, §4.9.3.19, §4.9.3.20, §4.9.3.25';

export const initiatingEntityMachine = initiatingEntitySetup.createMachine({
  id: 'initiatingEntity',
  meta: { rfc: '6120 §4', summary: 'Initiating entity (client) of a client-to-server XML stream' },
  context: ({ input }): Ctx => ({
    input,
    identity: identityOf(input.jid),
    peer: undefined,
    streamOpen: false,
    secured: input.secure === true,
    authenticated: false,
    mechanism: undefined,
    sasl: undefined,
    saslStep: undefined,
    bindId: undefined,
    bindResource: undefined,
    bindRetried: false,
    boundJid: undefined,
    pingId: undefined,
    outcome: undefined,
  }),
  initial: 'starting',
  states: {
    starting: {
      meta: { rfc: '6120 §4.7.2', summary: 'Transient: the input JID must name an account (localpart@domainpart)' },
      always: [
        {
          guard: 'identityMissing',
          target: 'closed',
          actions: {
            type: 'recordOutcome',
            params: outcome('closed', '6120 §4.7.2', 'jid-malformed', 'input.jid is not a JID with a localpart (RFC 7622 §3)'),
          },
          meta: { rfc: '6120 §4.7.2' },
          description: "No 'to' domain and no SASL user name (§6.3.7) can be derived: end before connecting.",
        },
        {
          target: 'open',
          meta: { rfc: '6120 §4.2, §4.7.1, §4.7.2, §4.7.4, §4.7.5' },
          description: "Open the stream: our initial header (entry of awaitingStreamHeader) with 'to', 'version' 1.0, 'xml:lang', and 'from' when already secured.",
        },
      ],
    },
    open: {
      meta: { rfc: '6120 §4.1', summary: 'The stream is open in both directions' },
      initial: 'negotiating',
      on: {
        // §4.6.1 SOCKET_CLOSED, WRITE_FAILED; §5.4.3.2 TLS_FAILED, whose reason (e.g. the certificate check's) the application sees.
        ...connectionLost(({ event }: { event: { reason?: string } }) => outcome('tls-failed', '6120 §5.4.3.2', undefined, event.reason)),
        ...streamRules('server', { unexpectedHeader: 'A response header where no restart is due.' }), // §4.4 step 4, §4.9.3 from §11, §4.9.3.1
        CLOSE: gracefulClose('The application ends the session: our closing tag, then wait for the server\'s.'),
        SEND: {
          meta: { rfc: '6120 §4.3.5' },
          description: 'Before the stream is bound no stanza may be sent (§4.3.5, §7.1): dropped; the runtime queues until online.',
        },
        ELEMENT: [
          peerStreamError(
            'closed',
            SERVER_STREAM_ERRORS,
            'The server sent a stream error (any of §4.9.3; the cited ones only a server sends) and closed its stream; the condition (for see-other-host the host, §4.9.3.19) goes into the outcome.',
          ),
          unexpectedElement('closing', unexpectedElementError, '6120 §4.9.3.24, §4.9.3.10', 'An element this state does not accept: unsupported-stanza-type (invalid-namespace for a jabber:server stanza, §4.9.3.10).'),
        ],
      },
      states: {
        negotiating: {
          meta: { rfc: '6120 §4.3', summary: 'Stream negotiation: from our first header until a resource is bound' },
          initial: 'awaitingStreamHeader',
          after: {
            negotiationTimeout: negotiationTimeouts(
              'initiatingEntity',
              { condition: 'connection-timeout', kind: 'timeout', rfc: '6120 §4.6.2' },
              'The server did not complete negotiation in time: it is not responding (§4.9.3.4).',
            ),
          },
          states: {
            awaitingStreamHeader: {
              meta: { rfc: '6120 §4.2', summary: 'Our initial header is written (entry); waiting for the response header' },
              entry: 'openStream',
              on: {
                HEADER: [
                  {
                    guard: 'headerInvalid',
                    target: '#initiatingEntity.closing',
                    actions: [
                      'rememberHeader',
                      { type: 'streamError', params: ({ event }) => ({ condition: responseHeaderProblem(event.header) ?? 'bad-format' }) },
                    ],
                    meta: { rfc: '6120 §4.7.5, §4.9.3.10, §4.9.3.25' },
                    description: 'No version or below 1.0 → unsupported-version (§4.9.3.25); wrong content namespace → invalid-namespace (§4.9.3.10).',
                  },
                  {
                    target: 'awaitingFeatures',
                    actions: 'rememberHeader',
                    meta: { rfc: '6120 §4.3.2' },
                    description: 'Version 1.0: the server MUST send features next. A missing id is tolerated (§4.7.3 interoperability note).',
                  },
                ],
              },
            },
            awaitingFeatures: {
              meta: { rfc: '6120 §4.3.2', summary: 'Waiting for <stream:features/>' },
              on: {
                ELEMENT: [
                  {
                    guard: 'featuresStarttls',
                    target: 'tlsNegotiation',
                    actions: 'sendStarttls',
                    meta: { rfc: '6120 §5.4.2.1, §5.3.1' },
                    description: 'STARTTLS offered (mandatory-to-negotiate when <required/> or the only feature, §5.3.1) and policy is not never: <starttls/>.',
                  },
                  {
                    guard: 'featuresTlsRefused',
                    target: '#initiatingEntity.closing',
                    actions: {
                      type: 'streamError',
                      params: { condition: 'unsupported-feature', text: 'TLS is required by the server but disabled by local policy', kind: 'tls-failed', rfc: '6120 §5.3.1' },
                    },
                    meta: { rfc: '6120 §5.3.1, §4.9.3.23' },
                    description: 'TLS is mandatory-to-negotiate and our policy is never: unsupported-feature (§4.9.3.23).',
                  },
                  {
                    guard: 'featuresTlsUnavailable',
                    target: '#initiatingEntity.closing',
                    actions: {
                      type: 'streamError',
                      params: { condition: 'policy-violation', text: 'TLS is required by local policy and STARTTLS is not offered', kind: 'tls-failed', rfc: '6120 §5.3.1' },
                    },
                    meta: { rfc: '6120 §5.3.1, §13.9.4, §4.9.3.14' },
                    description: 'Our policy requires TLS and the server does not offer it: never authenticate in the clear (§13.9.4); policy-violation (§4.9.3.14).',
                  },
                  {
                    guard: 'featuresSasl',
                    target: 'saslNegotiation',
                    actions: 'beginAuth',
                    meta: { rfc: '6120 §6.4.1, §6.3.1, §6.3.3, §13.9.4' },
                    description: 'SASL is mandatory-to-negotiate (§6.3.1): our most preferred mechanism among those offered (§6.3.3); PLAIN only when secured or allowed (§13.9.4).',
                  },
                  {
                    guard: 'featuresNoMechanism',
                    target: '#initiatingEntity.closing',
                    actions: {
                      type: 'streamError',
                      params: { condition: 'unsupported-feature', text: 'no acceptable SASL mechanism offered', kind: 'auth-failed', rfc: '6120 §6.3.1' },
                    },
                    meta: { rfc: '6120 §6.3.1, §4.9.3.23' },
                    description: 'SASL is mandatory-to-negotiate and we support none of the offered mechanisms: unsupported-feature (§4.9.3.23).',
                  },
                  {
                    guard: 'featuresBind',
                    target: 'resourceBinding',
                    actions: 'sendBind',
                    meta: { rfc: '6120 §7.4, §7.3.1, §7.6.1, §7.7.1, §8.2.3' },
                    description: 'After the SASL restart binding is mandatory-to-negotiate (§7.3.1): an IQ set with a fresh id (§7.6.1 / §7.7.1).',
                  },
                  {
                    guard: 'featuresNoBind',
                    target: '#initiatingEntity.closing',
                    actions: {
                      type: 'streamError',
                      params: { condition: 'undefined-condition', text: 'resource binding not offered after authentication', kind: 'bind-failed', rfc: '6120 §7.3.1' },
                    },
                    meta: { rfc: '6120 §7.3.1, §4.9.3.21' },
                    description: 'Binding is mandatory-to-negotiate for clients; without it no stanza can be sent (§7.1): undefined-condition (§4.9.3.21).',
                  },
                ],
              },
            },
            tlsNegotiation: initiatingTlsNegotiation(
              'initiatingEntity',
              { refused: 'the server', closes: 'the server' },
              {
                target: '#initiatingEntity.open.negotiating.awaitingStreamHeader',
                actions: 'restartAfterTls',
                meta: { rfc: '6120 §5.4.3.3, §5.3.2, §4.3.3, §4.7.1' },
                description: 'TLS is on: reset the parser, forget the old stream, send a new initial header (with from, §4.7.1).',
              },
              { SEND: { meta: { rfc: '6120 §4.3.5' }, description: 'No stanzas before negotiation completes: dropped.' } },
            ),
            saslNegotiation: {
              meta: { rfc: '6120 §6', summary: 'SASL authentication (§6.4)' },
              initial: 'evaluating',
              states: {
                evaluating: {
                  meta: { rfc: '6120 §6.4', summary: 'Transient: act on the mechanism\'s last step' },
                  always: [
                    {
                      guard: 'stepIsAuth',
                      target: 'exchanging',
                      actions: 'sendAuth',
                      meta: { rfc: '6120 §6.4.2' },
                      description: '<auth mechanism=...> with the initial response (= when empty), or none when initialResponse is false.',
                    },
                    {
                      guard: 'stepIsRespond',
                      target: 'exchanging',
                      actions: 'sendResponse',
                      meta: { rfc: '6120 §6.4.3' },
                    },
                    {
                      guard: 'stepIsAbort',
                      target: 'aborting',
                      actions: 'sendAbort',
                      meta: { rfc: '6120 §6.4.4' },
                      description: 'The challenge cannot be answered (bad base 64, bad SCRAM nonce, iteration count): <abort/>.',
                    },
                    {
                      guard: 'stepIsVerified',
                      target: '#initiatingEntity.open.negotiating.awaitingStreamHeader',
                      actions: 'restartAfterSuccess',
                      meta: { rfc: '6120 §6.4.6, §6.3.2, §4.3.3' },
                      description: 'Success (SCRAM server signature verified): restart the stream without closing it (§4.3.3).',
                    },
                    {
                      guard: 'stepIsUnverified',
                      target: '#initiatingEntity.closed',
                      actions: 'rejectServer',
                      meta: { rfc: '6120 §6.4.6, §4.9.3.12' },
                      description: 'Success whose server signature does not verify (RFC 5802 §3): not-authorized stream error, close TCP at once.',
                    },
                    {
                      target: '#initiatingEntity.closing',
                      actions: 'closeUnusable',
                      meta: { rfc: '6120 §6.4.5' },
                      description: 'The mechanism cannot start with these credentials: close the stream (§4.4).',
                    },
                  ],
                },
                exchanging: {
                  meta: { rfc: '6120 §6.4.3', summary: '<auth/> or <response/> sent; waiting for challenge, success or failure' },
                  on: {
                    ELEMENT: [
                      {
                        guard: 'isChallenge',
                        target: 'evaluating',
                        actions: 'evaluateChallenge',
                        meta: { rfc: '6120 §6.4.3' },
                      },
                      {
                        guard: 'isSuccess',
                        target: 'evaluating',
                        actions: 'evaluateSuccess',
                        meta: { rfc: '6120 §6.4.6' },
                        description: 'Check the additional data (SCRAM v=, RFC 5802 §3).',
                      },
                      {
                        guard: 'isSaslFailure',
                        target: '#initiatingEntity.closing',
                        actions: 'closeAfterSaslFailure',
                        meta: { rfc: '6120 §6.4.5, §6.5.1, §6.5.2, §6.5.3, §6.5.4, §6.5.5, §6.5.6, §6.5.7, §6.5.8, §6.5.9, §6.5.10, §6.5.11' },
                        description: 'Any of the §6.5 conditions (kept in the outcome): no retry with the same credentials; close the stream.',
                      },
                    ],
                  },
                },
                aborting: {
                  meta: { rfc: '6120 §6.4.4', summary: '<abort/> sent; waiting for <failure><aborted/></failure>' },
                  on: {
                    ELEMENT: [
                      {
                        guard: 'isSaslFailure',
                        target: '#initiatingEntity.closing',
                        actions: 'closeAfterSaslFailure',
                        meta: { rfc: '6120 §6.4.4, §6.5.1' },
                        description: 'The server confirmed the abort (§6.5.1 aborted): close the stream.',
                      },
                      {
                        guard: 'isChallenge',
                        meta: { rfc: '6120 §6.4.4' },
                        description: 'A challenge sent before our abort arrived: ignored, the abort stands.',
                      },
                      {
                        guard: 'isSuccess',
                        meta: { rfc: '6120 §6.4.4' },
                        description: 'A success crossing our abort is not believed: we wait for the failure.',
                      },
                    ],
                  },
                },
              },
            },
            resourceBinding: {
              meta: { rfc: '6120 §7', summary: 'Authenticated; a resource must be bound (§7.3.1)' },
              initial: 'requested',
              states: {
                requested: {
                  meta: { rfc: '6120 §7.6.1', summary: 'Bind IQ sent; waiting for its result or error' },
                  on: {
                    ELEMENT: [
                      {
                        guard: 'bindBound',
                        target: '#initiatingEntity.open.established',
                        actions: 'goOnline',
                        meta: { rfc: '6120 §7.6.1, §7.7.1, §7.3.2, §4.3.5, §8.2.3' },
                        description:
                          'The result with our id: bound to the JID in it (the server may change the resourcepart); no restart follows (§7.3.2), negotiation is complete (§4.3.5).',
                      },
                      {
                        guard: 'bindInvalid',
                        target: '#initiatingEntity.closing',
                        actions: 'bindInvalid',
                        meta: { rfc: '6120 §7.6.1, §4.9.3.21' },
                        description: 'A result without a full JID of our account: undefined-condition stream error.',
                      },
                      {
                        guard: 'bindConflictRetry',
                        actions: 'retryBindWithoutResource',
                        meta: { rfc: '6120 §7.7.2.2, §7.6.1, §8.3.3.2' },
                        description: 'Our resourcepart is in use (<conflict/>, disallow policy): ask once for a server-generated one (§7.6).',
                      },
                      {
                        guard: 'bindError',
                        target: '#initiatingEntity.closing',
                        actions: 'closeAfterBindError',
                        meta: { rfc: '6120 §7.6.2, §7.6.2.1, §7.6.2.2, §7.7.2.1, §7.7.2.2, §8.3.3.1, §8.3.3.2, §8.3.3.10, §8.3.3.18' },
                        description:
                          'An error reply to our id: bad-request (§7.7.2.1), not-allowed (§7.6.2.2), resource-constraint (§7.6.2.1), conflict after the retry, or any other condition: close.',
                      },
                    ],
                  },
                },
              },
            },
          },
        },
        established: establishedState({
          exchanging: 'Application stanzas are written; server stanzas are delivered',
          on: {
            SEND: [
              {
                guard: 'mayWrite',
                actions: 'sendStanza',
                meta: { rfc: '6120 §8' },
                description: 'Written as given; the server stamps from (§8.1.2.1).',
              },
              {
                meta: { rfc: '6120 §4.3.5' },
                description: 'Stream, TLS and SASL elements belong to the negotiation, not to the application: dropped.',
              },
            ],
            // Every ELEMENT outcome is handled here, not left to `open`: see establishedState's region order.
            ELEMENT: [
              peerStreamError(
                '#initiatingEntity.closed',
                SERVER_STREAM_ERRORS,
                'The server sent a stream error (any of §4.9.3) and closed its stream; the condition goes into the outcome.',
              ),
              pingReplyConsumed('XEP-0199 §4.3, RFC 6120 §4.6.3, §8.2.3', 'The answer to our ping (result or error with its id): the stream is alive; not delivered.'),
              {
                guard: and(['isStanza', 'isServerPing']),
                actions: 'answerPing',
                meta: { rfc: 'XEP-0199 §4.2, RFC 6120 §8.2.3' },
                description: 'The server checks we are alive: answered with an IQ result (same id), not delivered.',
              },
              {
                guard: 'isStanza',
                actions: 'deliver',
                meta: { rfc: '6120 §8' },
                description: 'To the application. IQ get/set it does not understand are its to answer (§8.4 service-unavailable).',
              },
              {
                guard: 'isEmptyFeatures',
                meta: { rfc: '6120 §4.3.5' },
                description: 'The server MAY send an empty <features/> after negotiation: nothing to do.',
              },
              unexpectedElement('#initiatingEntity.closing', unexpectedElementError, '6120 §4.9.3.24, §4.9.3.10', 'A negotiation element after binding or an unknown element: unsupported-stanza-type (invalid-namespace for jabber:server).'),
            ],
          },
          liveness: {
            ping: {
              guard: 'pingMode',
              target: 'pinging',
              actions: 'sendPing',
              meta: { rfc: 'XEP-0199 §4.3, RFC 6120 §4.6.3, §8.2.3' },
              description: 'Check the stream (§4.6.3): an XMPP ping to the server (an IQ get with a fresh id).',
            },
            answered: 'Any element proves the server reads and writes the stream.',
            pingTimeout: {
              target: '#initiatingEntity.closing',
              actions: { type: 'streamError', params: { condition: 'connection-timeout', kind: 'timeout', rfc: '6120 §4.6.2' } },
              meta: { rfc: '6120 §4.6.2, §4.9.3.4' },
              description: 'Broken stream: no answer to the ping (§4.9.3.4).',
            },
          },
        }),
      },
    },
    // §4.4: STREAM_CLOSE (step 4), SOCKET_CLOSED, WRITE_FAILED, TLS_FAILED, closeTimeout (rule 3) → closed.
    closing: closingState('server', {
      guard: and(['gracefullyClosingBound', 'isStanza', not('isServerPing')]),
      actions: 'deliver',
      meta: { rfc: '6120 §4.4' },
      description:
        'Rule 2: keep processing what the server still sends after our graceful close (never answering). After a stream error nothing more is processed.',
    }),
    closed: closedState,
  },
  output: streamOutput,
});
