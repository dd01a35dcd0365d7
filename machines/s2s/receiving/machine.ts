/**
 * The receiving server of a server-to-server stream ('jabber:server'), RFC 6120 §4-§6, §8,
 * with SASL EXTERNAL as XEP-0178 §3 recommends it and Server Dialback (XEP-0220) as the
 * alternative, one pair machine per domain pair (./dialback.ts).
 *
 * Pure and sans-IO: ReceivingServerEvents in, ReceivingServerCommands out. Every transition
 * carries `meta.rfc`; grep for a section to find it.
 *
 *   open ─┬─ negotiating ─┬─ awaitingStreamHeader      §4.2, §4.7 (domains), §4.3.3 restarts
 *         │               ├─ tlsNegotiation            §5 (TLS required, not on yet)
 *         │               └─ authenticating            §6 EXTERNAL (XEP-0178 §3) | dialback (XEP-0220 §2.2)
 *         └─ established (parallel: stanzas | liveness) §8.1.1.2, §8.1.2.2, §4.6
 *   closing                                            §4.4 (our close tag sent)
 *   closed (final)
 *
 * The stream is established as soon as one domain pair is authenticated: by SASL EXTERNAL
 * (after the restart, §6.4.6) or by dialback (no restart, XEP-0220 §2.2.1). Dialback requests
 * for more pairs are taken in every state after the features, established included (§2.6).
 *
 * Choices where the documents leave one:
 * - The dialback namespace declaration on the initiating server's header (XEP-0220 §2.4.1,
 *   traditional dialback) is not looked at: StreamHeader does not carry namespace
 *   declarations. The machine answers `<db:result/>` from any peer and always announces
 *   the `urn:xmpp:features:dialback` feature when policy allows dialback (§2.4.2).
 * - A certificate that is not acceptable does not end the connection at the TLS handshake
 *   (XEP-0178 §3 step 7a): dialback may still authenticate the peer. With certificates
 *   required, the header after TLS ends the stream with `<not-authorized/>` when the
 *   certificate authenticates no domain the peer claims (step 9's "close").
 * - After SASL EXTERNAL failed (step 11b: "close ... or continue with dialback") the stream
 *   stays: the peer may retry (§6.4.5) or use dialback when allowed.
 * - No STARTTLS once a domain pair exists (the restart would discard it, §4.3.3): such a
 *   `<starttls/>` gets the TLS `<failure/>` of §5.4.2.2.
 */
import { and } from 'xstate';
import { outcome, streamOutput } from '../../stream/outcome.js';
import { closedState, closingState, establishedState, negotiationTimeouts, peerStreamError, receivingOpenRules, receivingTlsHandshake, unexpectedElement } from '../../stream/states.js';
import { headerErrorParams, receivingServerSetup, unexpectedElementError } from './setup.js';
import type { ReceivingServerContext as Ctx } from './types.js';

/** `<db:result/>` and `<db:verify/>` requests on this stream (XEP-0220 §2.2), wherever the peer may send them. */
const dialbackRequests = [
  {
    guard: 'isResultRequest',
    actions: 'startPair',
    meta: { rfc: 'XEP-0220 §2.2.1, §2.6' }, // Receiving Server handles the authorization request; Multiplexing
    description: "Step 1 for a new domain pair: its own receivingDialback checks it and asks the Authoritative Server (Step 2, the 'verify' command).",
  },
  {
    guard: 'isDuplicateResult',
    meta: { rfc: 'XEP-0220 §2.2.1' },
    description: 'Another key for a pair being verified or verified: the pending or given answer covers it; ignored.',
  },
  {
    guard: 'isVerifyRequest',
    actions: 'answerVerify',
    meta: { rfc: 'XEP-0220 §2.2.2' }, // Authoritative Server handles the verification request
    description: "Step 2 addressed to us as Authoritative Server: type='valid' or 'invalid' from our secret, item-not-found for a domain we do not host.",
  },
  {
    guard: 'isMalformedDialback',
    target: '#receivingServer.closing',
    actions: { type: 'streamError', params: { condition: 'bad-format', text: 'malformed dialback element' } },
    meta: { rfc: '6120 §4.9.3.1, XEP-0220 §2.2' },
    description: "A <db:result/> or <db:verify/> without the domains, key or 'id' it needs: XML that cannot be processed.",
  },
  {
    guard: 'isDialback',
    meta: { rfc: 'XEP-0220 §2.2, §3.1' }, // Inbound Connection (note on 'type'); Unsolicited Dialback
    description: "A dialback answer (a 'type') on an incoming stream: unsolicited without XEP-0288, ignored.",
  },
] as const;

export const receivingServerMachine = receivingServerSetup.createMachine({
  id: 'receivingServer',
  meta: { rfc: '6120 §4', summary: 'Receiving server of a server-to-server XML stream' },
  context: ({ input }): Ctx => ({
    input,
    peer: undefined,
    localDomain: undefined,
    peerDomain: undefined,
    headerSent: false,
    streamId: undefined,
    secured: input.secure === true,
    peerCertificate: input.secure === true ? input.peerCertificate : undefined,
    saslDomain: undefined,
    authFailures: 0,
    challenged: false,
    saslStep: undefined,
    authorized: [],
    verifying: [],
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
        ...receivingOpenRules('We end the stream: send our closing tag, then wait for the peer\'s.'),
        VERIFY_ANSWER: [
          {
            guard: 'verificationAwaited',
            actions: 'forwardVerification',
            meta: { rfc: 'XEP-0220 §2.1.2' }, // Receiving Server requests verification
            description: "Step 3 from the Authoritative Server: to the pair's machine, which answers the Initiating Server (Step 4).",
          },
          {
            meta: { rfc: 'XEP-0220 §3.1' },
            description: 'An answer for no pair being verified on this stream: unsolicited, ignored.',
          },
        ],
        VERIFY_FAILED: {
          guard: 'verificationAwaited',
          actions: 'forwardVerification',
          meta: { rfc: 'XEP-0220 §2.5, §2.1.2' },
          description: 'The Authoritative Server could not be asked: the pair gets a dialback error (remote-server-not-found, remote-connection-failed or remote-server-timeout).',
        },
        PAIR_COMMAND: [
          {
            guard: 'pairClosesStream',
            target: 'closing',
            actions: ['pairCommand', 'closeGracefully'],
            meta: { rfc: 'XEP-0220 §2.2.1, RFC 6120 §4.4' },
            description: "type='invalid' sent and no other pair is verified: the stream MUST be closed; the answer says why, so a plain close.",
          },
          {
            actions: 'pairCommand',
            meta: { rfc: 'XEP-0220 §2.2.1, §2.1.2, §2.5' },
            description: "A pair's Step 4 answer or dialback error is written; its Step 2 request ('verify') and verdicts go to the runtime.",
          },
        ],
        ELEMENT: [
          peerStreamError(
            'closed',
            '6120 §4.9.1.1, §4.9.3.23',
            'The peer sent a stream error (any condition) and closed its stream.',
          ),
          {
            guard: 'isStarttls',
            target: 'closing',
            actions: 'tlsFailure',
            meta: { rfc: '6120 §5.4.2.2' },
            description: 'STARTTLS when it was not offered: TLS <failure/>, close the stream and TCP.',
          },
          unexpectedElement('closing', unexpectedElementError, '6120 §4.9.3.12, §4.3.5, §6.3.1, §4.9.3.10, §4.9.3.24', 'An element no state accepts: not-authorized (a stanza before any domain pair is authenticated, a SASL element after SASL), invalid-namespace (a jabber:client stanza) or unsupported-stanza-type.'),
        ],
      },
      states: {
        negotiating: {
          meta: { rfc: '6120 §4.3', summary: 'Stream negotiation: from the first header until a domain pair is authenticated' },
          initial: 'awaitingStreamHeader',
          after: {
            negotiationTimeout: negotiationTimeouts(
              'receivingServer',
              { condition: 'connection-timeout', kind: 'timeout' },
              'Negotiation did not complete in time: the peer is not responding (§4.9.3.4).',
            ),
          },
          on: {
            ELEMENT: dialbackRequests,
            PAIR_COMMAND: {
              guard: 'pairAuthorizes',
              target: '#receivingServer.open.established',
              actions: 'pairCommand',
              meta: { rfc: 'XEP-0220 §2.2.1, RFC 6120 §4.3.5' },
              description: "Step 4 type='valid' sent: the first domain pair is authenticated, stanzas may flow (no restart with dialback).",
            },
          },
          states: {
            awaitingStreamHeader: {
              meta: { rfc: '6120 §4.2', summary: 'Waiting for the initial stream header (first one or after a restart, §4.3.3)' },
              on: {
                HEADER: [
                  {
                    guard: 'headerInvalid',
                    target: '#receivingServer.closing',
                    actions: [
                      'rememberHeader',
                      { type: 'streamError', params: headerErrorParams },
                    ],
                    meta: { rfc: '6120 §4.9.1.2, §4.9.1.3, §4.7.1, §4.7.2, §4.7.5, §4.8.2, §4.9.3.6, §4.9.3.9, §4.9.3.10, §4.9.3.25' },
                    description: "Open our stream anyway (from = our first domain when 'to' is unknown, §4.9.1.3), then the error: host-unknown, invalid-from, invalid-namespace or unsupported-version.",
                  },
                  {
                    guard: 'nothingCanAuthenticate',
                    target: '#receivingServer.closing',
                    actions: [
                      'rememberHeader',
                      { type: 'streamError', params: { condition: 'not-authorized', text: 'certificate required' } },
                    ],
                    meta: { rfc: '6120 §4.9.3.12, §13.7.2.1, XEP-0178 §3' },
                    description: "Certificates required and the peer's certificate does not authenticate the 'from' it claims: nothing else may authenticate it (step 9, close).",
                  },
                  {
                    guard: 'stageTlsRequired',
                    target: 'tlsNegotiation',
                    actions: 'openStreamWithFeatures',
                    meta: { rfc: '6120 §5.4.1, §5.3.1, §4.3.2, §4.7.1, §4.7.2, §4.7.3, XEP-0178 §3' },
                    description: 'Response header (fresh id) and features with <starttls><required/></starttls> only (§5.3.1; XEP-0178 §3 step 3).',
                  },
                  {
                    guard: 'stageAuthenticated',
                    target: '#receivingServer.open.established',
                    actions: 'openStreamWithFeatures',
                    meta: { rfc: '6120 §6.4.6, §4.3.5, §4.3.2, §4.7.3' },
                    description: 'Restart after SASL success: features without mechanisms (the dialback feature when allowed, for more pairs); negotiation is complete.',
                  },
                  {
                    target: 'authenticating',
                    actions: 'openStreamWithFeatures',
                    meta: { rfc: '6120 §6.4.1, §4.3.2, §4.7.1, §4.7.2, §4.7.3, §5.4.1, XEP-0178 §3, XEP-0220 §2.4.2' },
                    description:
                      "Response header (fresh id) and features: EXTERNAL when the certificate authenticates the header's 'from' (XEP-0178 §3 step 9), the dialback feature with <errors/> when allowed, a voluntary <starttls/> when TLS is optional.",
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
                        meta: { rfc: '6120 §5.4.2.3, XEP-0178 §3' },
                      },
                      {
                        guard: 'isAuth',
                        target: '#receivingServer.open.negotiating.authenticating.evaluating',
                        actions: 'evaluateAuth',
                        meta: { rfc: '6120 §6.5.4, §5.3.1' },
                        description: 'Authentication before the required TLS: answered with encryption-required.',
                      },
                      {
                        guard: 'isSaslOutOfTurn',
                        target: '#receivingServer.open.negotiating.authenticating.evaluating',
                        actions: 'failOutOfTurn',
                        meta: { rfc: '6120 §6.5.8' },
                      },
                      {
                        guard: 'isAbort',
                        target: '#receivingServer.open.negotiating.authenticating.evaluating',
                        actions: 'failOutOfTurn',
                        meta: { rfc: '6120 §6.4.4' },
                      },
                    ],
                  },
                },
                handshake: receivingTlsHandshake('receivingServer', {
                  target: '#receivingServer.open.negotiating.awaitingStreamHeader',
                  actions: 'tlsEstablished',
                  meta: { rfc: '6120 §5.4.3.3, §5.3.2, §4.3.3, §13.7.2.1' },
                  description: "TLS is on: the stream restarts; the peer's certificate is kept for SASL EXTERNAL (XEP-0178 §3 step 7).",
                }), // §5.4.3: TLS_FAILED, SHUTDOWN, FAIL, CLOSE close TCP (§5.4.3.1); plaintext ignored (§5.4.3.3)
              },
            },
            authenticating: {
              meta: { rfc: '6120 §6', summary: 'The peer authenticates: SASL EXTERNAL (XEP-0178 §3) or Server Dialback (XEP-0220 §2.2)' },
              initial: 'featuresSent',
              on: {
                ELEMENT: [
                  {
                    guard: 'isAuth',
                    target: '.evaluating',
                    actions: 'evaluateAuth',
                    meta: { rfc: '6120 §6.4.2, XEP-0178 §3' },
                    description: 'Start an EXTERNAL exchange (the authzid in the initial response, or none); one in progress is discarded.',
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
                  ...dialbackRequests,
                ],
              },
              states: {
                featuresSent: {
                  meta: { rfc: '6120 §6.4.1', summary: 'Features sent; waiting for <auth/> or a dialback key' },
                  on: {
                    ELEMENT: {
                      guard: and(['isStarttls', 'tlsOffered']),
                      target: '#receivingServer.open.negotiating.tlsNegotiation.handshake',
                      actions: 'proceedWithTls',
                      meta: { rfc: '6120 §5.4.2.3' },
                      description: 'Voluntary STARTTLS (TLS optional) accepted.',
                    },
                  },
                },
                challengeSent: {
                  meta: { rfc: '6120 §6.4.3', summary: 'Empty <challenge/> sent; waiting for the authzid in <response/>' },
                  on: {
                    ELEMENT: {
                      guard: 'isResponse',
                      target: 'evaluating',
                      actions: 'evaluateResponse',
                      meta: { rfc: '6120 §6.4.3, XEP-0178 §3' },
                    },
                  },
                },
                evaluating: {
                  meta: { rfc: '6120 §6.4', summary: 'Transient: act on the exchange\'s last step' },
                  always: [
                    {
                      guard: 'stepIsChallenge',
                      target: 'challengeSent',
                      actions: 'sendChallenge',
                      meta: { rfc: '6120 §6.4.2, §6.4.3' },
                      description: 'No initial response: an empty challenge.',
                    },
                    {
                      guard: 'stepIsSuccess',
                      target: '#receivingServer.open.negotiating.awaitingStreamHeader',
                      actions: 'sendSuccess',
                      meta: { rfc: '6120 §6.4.6, §6.3.2, §4.3.3, XEP-0178 §3' },
                      description: "The certificate authenticates the 'from' (step 11a): <success/>, the pair is authenticated, then the stream restarts (§6.3.2).",
                    },
                    {
                      guard: 'lastAuthAttempt',
                      target: '#receivingServer.closing',
                      actions: [
                        'sendSaslFailure',
                        { type: 'streamError', params: { condition: 'policy-violation', text: 'too many failed authentication attempts', kind: 'auth-failed' } },
                      ],
                      meta: { rfc: '6120 §6.4.5, §6.5.1, §6.5.4, §6.5.5, §6.5.6, §6.5.7, §6.5.8, §6.5.10, §4.9.3.14' },
                      description: 'The retry limit is reached: the failure, then a <policy-violation/> stream error.',
                    },
                    {
                      guard: 'stageTlsRequired',
                      target: '#receivingServer.open.negotiating.tlsNegotiation.featuresSent',
                      actions: 'sendSaslFailure',
                      meta: { rfc: '6120 §6.4.5, §6.5.1, §6.5.4, §6.5.7, §6.5.8, §5.3.1' },
                      description: 'Failure while TLS is still required (aborted, encryption-required, invalid-mechanism or malformed-request): back to waiting for <starttls/>.',
                    },
                    {
                      target: 'featuresSent',
                      actions: 'sendSaslFailure',
                      meta: { rfc: '6120 §6.4.5, §6.5.1, §6.5.4, §6.5.5, §6.5.6, §6.5.7, §6.5.8, §6.5.10, XEP-0178 §3' },
                      description:
                        "Failure: invalid-authzid (not the header's 'from'), not-authorized (the certificate does not authenticate it, step 11b), ...; the peer may retry (§6.4.5) or use dialback.",
                    },
                  ],
                },
              },
            },
          },
        },
        established: establishedState({
          exchanging: 'Stanzas of authenticated domain pairs are checked and routed; more pairs may be added by dialback',
          on: {
            ELEMENT: [
              peerStreamError('#receivingServer.closed', '6120 §4.9.1.1, §4.9.3.23', 'The peer sent a stream error (any condition) and closed its stream.'),
              {
                guard: and(['isStanza', 'improperAddressing']),
                target: '#receivingServer.closing',
                actions: { type: 'streamError', params: { condition: 'improper-addressing' } },
                meta: { rfc: '6120 §4.9.3.7, §8.1.1.2, §8.1.2.2' },
                description: "'to' or 'from' missing, empty or not an XMPP address (rule 1 of each).",
              },
              {
                guard: and(['isStanza', 'hostUnknown']),
                target: '#receivingServer.closing',
                actions: { type: 'streamError', params: { condition: 'host-unknown' } },
                meta: { rfc: '6120 §4.9.3.6, §8.1.1.2' },
                description: "The 'to' domain is none validated on this stream (§8.1.1.2 rule 2; §10.4: no routing onward from a server stream).",
              },
              {
                guard: and(['isStanza', 'invalidFrom']),
                target: '#receivingServer.closing',
                actions: { type: 'streamError', params: { condition: 'invalid-from' } },
                meta: { rfc: '6120 §4.9.3.9, §8.1.2.2' },
                description: "The 'from' domain is not authenticated towards that 'to' domain on this stream (rule 2).",
              },
              {
                guard: 'isStanza',
                actions: 'deliver',
                meta: { rfc: '6120 §8.1.1.2, §8.1.2.2, §10' },
                description: "'from' and 'to' form an authenticated domain pair: routed (§10.5, a local domain).",
              },
              ...dialbackRequests,
              {
                guard: 'isStarttls',
                target: '#receivingServer.closing',
                actions: 'tlsFailure',
                meta: { rfc: '6120 §5.4.2.2' },
              },
              unexpectedElement('#receivingServer.closing', unexpectedElementError, '6120 §4.9.3.12, §4.9.3.10, §4.9.3.24', 'A SASL element after authentication: not-authorized; a jabber:client stanza: invalid-namespace; else unsupported-stanza-type.'),
            ],
            PAIR_COMMAND: {
              guard: 'pairAuthorizes',
              actions: 'pairCommand',
              meta: { rfc: 'XEP-0220 §2.2.1, §2.6' },
              description: 'One more domain pair is authenticated on this stream (multiplexing).',
            },
          },
          liveness: {
            ping: {
              guard: 'pingMode',
              target: 'pinging',
              actions: 'sendPing',
              meta: { rfc: 'XEP-0199 §4.3, RFC 6120 §4.6.3' },
              description: 'Verify the peer before concluding it is idle: a server-to-server ping, sent by the runtime over our outgoing stream (this one carries no stanzas of ours).',
            },
            answered: 'Any element on this stream proves the peer alive, not only the answer to our ping.',
            pingTimeout: {
              target: '#receivingServer.closing',
              actions: { type: 'streamError', params: { condition: 'connection-timeout', kind: 'timeout' } },
              meta: { rfc: '6120 §4.6.2, §4.9.3.4' },
              description: 'Broken stream: no answer to the ping (§4.9.3.4).',
            },
            answeredBy: {
              PING_REPLY: {
                guard: 'pingReplyAwaited',
                target: 'idle',
                actions: 'consumePingReply',
                meta: { rfc: 'XEP-0199 §4.3, RFC 6120 §4.6.2' },
                description: 'The answer to our ping (result or error) arrived on our outgoing stream: the peer is alive.',
              },
            },
          },
        }),
      },
    },
    // §4.4: STREAM_CLOSE (step 4), SOCKET_CLOSED, WRITE_FAILED, TLS_FAILED, closeTimeout (rule 3) → closed.
    closing: closingState('peer', {
      guard: and(['closingGracefully', 'addressedToAuthorizedPair']),
      actions: 'deliver',
      meta: { rfc: '6120 §4.4, §8.1.1.2, §8.1.2.2' },
      description: 'Rule 2: keep processing stanzas of authenticated pairs the peer still sends after our graceful close. After a stream error nothing more is processed (§4.9.3.12).',
    }),
    closed: closedState,
  },
  output: streamOutput,
});

