/**
 * The initiating server of a server-to-server stream ('jabber:server'), RFC 6120 §4-§6, §8,
 * with SASL EXTERNAL as XEP-0178 §3 recommends it and Server Dialback (XEP-0220 §2.1) as the
 * alternative. One stream carries one domain pair (input.domain → input.remoteDomain), or
 * only `<db:verify/>` requests (input.purpose 'verify', XEP-0220 §2.1.2 note).
 *
 * Pure and sans-IO: InitiatingServerEvents in, InitiatingServerCommands out. Every transition
 * carries `meta.rfc`; grep for a section to find it.
 *
 *   starting                                            input check, direct TLS certificate
 *   open ─┬─ negotiating ─┬─ awaitingStreamHeader      §4.2 our header sent; §4.3.3 restarts
 *         │               ├─ awaitingFeatures          §4.3.2
 *         │               ├─ tlsNegotiation            §5 (<starttls/> sent, then the handshake; §13.7.2.1)
 *         │               ├─ saslNegotiation           §6 EXTERNAL (XEP-0178 §3)
 *         │               └─ dialback                  XEP-0220 §2.1.1 (one originatingDialback, ./dialback.ts)
 *         └─ established (parallel: stanzas | liveness) §8 (one way: ours to the peer), §4.6
 *   closing                                            §4.4 (our close tag sent)
 *   closed (final)
 *
 * Choices where the documents leave one:
 * - STARTTLS is taken whenever offered; not offered while our policy requires TLS (or
 *   certificates) → `<policy-violation/>` (§4.9.3.14), as the client-to-server machine does:
 *   the peer's offer breaks our local policy (§5.3.1, §13.9.4).
 * - The receiving server's certificate is checked after the handshake for the 'to' of our
 *   header (§13.7.2.1). With certificates required, a certificate that does not authenticate
 *   it ends the session at once, TCP only (§13.7.2 "unilaterally terminate"; no stream is
 *   open then). With dialback allowed the stream goes on: dialback checks the peer by DNS.
 * - No usable authentication (certificates required and no EXTERNAL; or neither EXTERNAL nor
 *   the dialback feature): a plain close (§4.4), no stream error: the peer broke no rule, we
 *   just cannot authenticate to it. The outcome says which.
 * - Verification requests (VERIFY) are sent once the stream is ready for them: after the
 *   features of a stream that satisfies our TLS policy, outside a SASL exchange (§6.4 allows
 *   nothing else then), and only to a peer that offered dialback: in `dialback` and in
 *   `established`. Before that they are held (bounded by policy); after that, and on a peer
 *   without dialback, they fail at once (`verifyFailed`).
 * - A verification-only stream closes after its last answer (XEP-0220 §2.1.2 note, SHOULD).
 *   It follows the TLS policy like any stream (the note's "not using TLS" is a MAY we skip:
 *   the key travels on it).
 * - After dialback 'invalid', 'error' or a timeout we close the stream ourselves (./setup.ts
 *   closeAfterDialback).
 * - SEND before the pair is authenticated, on a verification stream, while closing, or with
 *   addresses that are not the pair's, is refused with a `stanzaRefused` command: the peer
 *   never sees it (§4.9.3.7, §8.1.1.2, §8.1.2.2 are the receiving side's stream errors, and
 *   would cost every stanza on the stream). The runtime queues stanzas until `authenticated`.
 */
import { and, not } from 'xstate';
import { outcome } from '../../stream/outcome.js';
import {
  closedState,
  closingState,
  connectionLost,
  establishedState,
  gracefulClose,
  initiatingTlsNegotiation,
  negotiationTimeouts,
  peerStreamError,
  streamRules,
  unexpectedElement,
} from '../../stream/states.js';
import { DIALBACK_CHILD, initiatingServerOutput, initiatingServerSetup, ourPair, unexpectedElementError } from './setup.js';
import { responseHeaderProblem } from '../header.js';
import { pairKey } from '../../dialback/pairs.js';
import type { InitiatingServerContext as Ctx } from './types.js';

/** The stream errors cited for the peer's stream error: any condition (§4.9.3); the s2s-specific ones named. */
const PEER_STREAM_ERRORS = '6120 §4.9.1.1, §4.9.3.5, §4.9.3.6, §4.9.3.7, §4.9.3.9, §4.9.3.12, §4.9.3.23';

/** Answers to our `<db:verify/>` requests and other dialback elements, wherever the stream may carry them (XEP-0220 §2.1.2, §3.1). */
const dialbackAnswers = [
  {
    guard: and(['isVerifyAnswer', 'lastVerification']),
    target: '#initiatingServer.closing',
    actions: ['answerVerification', 'closeGracefully'],
    meta: { rfc: 'XEP-0220 §2.1.2, RFC 6120 §4.4' }, // Receiving Server requests verification (note: close after the result)
    description: 'The last answer on a verification-only stream: to the runtime (verifyAnswer), then close the stream.',
  },
  {
    guard: 'isVerifyAnswer',
    actions: 'answerVerification',
    meta: { rfc: 'XEP-0220 §2.1.2' },
    description: "Step 3 for one of our requests (same 'from', 'to' and 'id', §3.1): verifyAnswer for the incoming stream it came from.",
  },
  {
    guard: 'isMalformedDialback',
    target: '#initiatingServer.closing',
    actions: { type: 'streamError', params: { condition: 'bad-format', text: 'malformed dialback element' } },
    meta: { rfc: '6120 §4.9.3.1, XEP-0220 §2.1' },
    description: "A <db:result/> or <db:verify/> without the domains or 'id' it needs: XML that cannot be processed.",
  },
  {
    guard: 'isDialback',
    meta: { rfc: 'XEP-0220 §3.1, §2.1.2' }, // Unsolicited Dialback
    description: 'An answer to no request of ours on this stream, or a request (XEP-0288 is not modelled): dropped silently.',
  },
] as const;

/** A VERIFY where the stream can send it now (in `dialback` and `established`). */
const verifyNow = [
  {
    guard: 'verifyUnusable',
    actions: { type: 'failVerification', params: { reason: 'connection-failed' } },
    meta: { rfc: 'XEP-0220 §2.1.2' },
    description: "Not for this stream's Authoritative Server, not domains, no key or id, or over the policy's bound: failed at once.",
  },
  {
    guard: 'peerWithoutDialback',
    actions: { type: 'failVerification', params: { reason: 'connection-failed' } },
    meta: { rfc: 'XEP-0220 §2.4.2, §2.1.2' },
    description: 'The peer did not offer dialback: it cannot answer a verification request.',
  },
  {
    actions: 'sendVerification',
    meta: { rfc: 'XEP-0220 §2.1.2' },
    description: 'Step 2: <db:verify from=Target to=Sender id=StreamID>key</db:verify>; the answer comes as Step 3.',
  },
] as const;

export const initiatingServerMachine = initiatingServerSetup.createMachine({
  id: 'initiatingServer',
  meta: { rfc: '6120 §4', summary: 'Initiating server of a server-to-server XML stream' },
  context: ({ input }): Ctx => ({
    input,
    peer: undefined,
    streamOpen: false,
    secured: input.secure === true,
    peerAuthenticated: false,
    streamId: undefined,
    saslDone: false,
    externalFailed: false,
    dialbackOffered: false,
    authenticated: undefined,
    dialbackRejected: false,
    heldVerifications: [],
    sentVerifications: [],
    boundJid: undefined,
    pingId: undefined,
    streamErrorSent: false,
    outcome: undefined,
  }),
  initial: 'starting',
  on: {
    SEND: {
      actions: { type: 'refuseStanza', params: { reason: 'closing' } },
      meta: { rfc: '6120 §4.4' },
      description: 'Rule 2: after our closing tag nothing more is sent; the stanza goes back to the runtime.',
    },
    VERIFY: {
      actions: { type: 'failVerification', params: { reason: 'connection-lost' } },
      meta: { rfc: '6120 §4.4, XEP-0220 §2.1.2' },
      description: 'The stream is closing: the request cannot go on it.',
    },
    PAIR_COMMAND: {
      meta: { rfc: 'XEP-0220 §2.1.1' },
      description: "The pair's verdict after the stream left dialback: `ended` already tells the runtime what to do with the pair's queue.",
    },
  },
  states: {
    starting: {
      meta: { rfc: '6120 §4.7.1', summary: "Transient: the input names two domains; a direct-TLS peer's certificate is checked" },
      always: [
        {
          guard: 'inputInvalid',
          target: 'closed',
          actions: { type: 'recordOutcome', params: outcome('closed', '6120 §4.7.1', 'invalid-from', 'input.domain or input.remoteDomain is not a domain (RFC 7622 §3.2)') },
          meta: { rfc: '6120 §4.7.1, §4.7.2' },
          description: "On a server stream 'from' and 'to' are domains: end before connecting.",
        },
        {
          guard: 'directTlsPeerRefused',
          target: 'closed',
          actions: { type: 'refuseCertificate', params: { rfc: '6120 §13.7.2' } },
          meta: { rfc: '6120 §13.7.2, §13.7.2.1' },
          description: 'Certificates required and the direct-TLS certificate does not authenticate the remote domain: terminate TCP.',
        },
        {
          target: 'open',
          meta: { rfc: '6120 §4.2, §4.7.1, §4.7.2, §4.7.5' },
          description: "Open the stream: our initial header (entry of awaitingStreamHeader) with 'from' our domain, 'to' the remote domain, version 1.0.",
        },
      ],
    },
    open: {
      meta: { rfc: '6120 §4.1', summary: 'The stream is open in both directions' },
      initial: 'negotiating',
      on: {
        // §4.6.1 SOCKET_CLOSED, WRITE_FAILED; §5.4.3.2 TLS_FAILED with the TLS layer's reason.
        ...connectionLost(({ event }: { event: { reason?: string } }) => outcome('tls-failed', '6120 §5.4.3.2', undefined, event.reason)),
        ...streamRules('peer', { unexpectedHeader: 'A response header where no restart is due.' }), // §4.4 step 4, §4.9.3 from §11, §4.9.3.1
        CLOSE: gracefulClose("The runtime ends the stream (idle, shutting down): our closing tag, then wait for the peer's."),
        SEND: {
          actions: { type: 'refuseStanza', params: { reason: 'not-authenticated' } },
          meta: { rfc: '6120 §4.3.5, XEP-0220 §2.1.1' },
          description: 'Before the pair is authenticated no stanza may be sent ("MUST queue them"): refused; the runtime queues until authenticated.',
        },
        VERIFY: [
          {
            guard: 'verifyUnusable',
            actions: { type: 'failVerification', params: { reason: 'connection-failed' } },
            meta: { rfc: 'XEP-0220 §2.1.2' },
            description: "Not for this stream's Authoritative Server, not domains, no key or id, or over the policy's bound: failed at once.",
          },
          {
            actions: 'holdVerification',
            meta: { rfc: 'XEP-0220 §2.1.2, RFC 6120 §4.3.2, §6.4' },
            description: 'The stream is not ready (no features yet, TLS or SASL under way): held until dialback or established.',
          },
        ],
        ELEMENT: [
          peerStreamError('closed', PEER_STREAM_ERRORS, 'The peer sent a stream error and closed its stream; the condition goes into the outcome (host-unknown and host-gone: bounce remote-server-not-found).'),
          ...dialbackAnswers,
          unexpectedElement('closing', unexpectedElementError, '6120 §4.9.3.24, §4.9.3.10', 'An element this state does not accept (a stanza on our one-way stream, a negotiation element out of turn): unsupported-stanza-type (invalid-namespace for jabber:client).'),
        ],
      },
      states: {
        negotiating: {
          meta: { rfc: '6120 §4.3', summary: 'Stream negotiation: from our first header until the pair is authenticated' },
          initial: 'awaitingStreamHeader',
          after: {
            negotiationTimeout: negotiationTimeouts(
              'initiatingServer',
              { condition: 'connection-timeout', kind: 'timeout', rfc: '6120 §4.6.2' },
              'The receiving server did not complete negotiation in time: it is not responding (§4.9.3.4).',
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
                    target: '#initiatingServer.closing',
                    actions: [
                      'rememberResponse',
                      { type: 'streamError', params: ({ context, event }) => ({ condition: responseHeaderProblem(event.header, context.input.remoteDomain) ?? 'bad-format' }) },
                    ],
                    meta: { rfc: '6120 §4.7.3, §4.7.5, §4.8.2, §4.9.3.1, §4.9.3.9, §4.9.3.10, §4.9.3.25' },
                    description:
                      "Not jabber:server → invalid-namespace; no version or below 1.0 → unsupported-version; no 'id' (dialback signs it) → bad-format; 'from' another domain than we asked for → invalid-from.",
                  },
                  {
                    target: 'awaitingFeatures',
                    actions: 'rememberResponse',
                    meta: { rfc: '6120 §4.3.2, §4.7.3' },
                    description: 'Version 1.0 and a stream id: the features come next.',
                  },
                ],
              },
            },
            awaitingFeatures: {
              meta: { rfc: '6120 §4.3.2', summary: 'Waiting for <stream:features/>' },
              on: {
                ELEMENT: [
                  {
                    guard: 'featuresAuthenticated',
                    target: '#initiatingServer.open.established',
                    actions: ['readFeatures', 'authenticateExternal', 'flushVerifications'],
                    meta: { rfc: '6120 §6.4.6, §4.3.5, XEP-0178 §3' },
                    description: 'The features after the SASL restart (no mechanisms any more): negotiation is complete; `authenticated` lets the runtime flush its queue.',
                  },
                  {
                    guard: 'featuresStarttls',
                    target: 'tlsNegotiation',
                    actions: 'sendStarttls',
                    meta: { rfc: '6120 §5.4.2.1, §5.3.1, XEP-0178 §3' },
                    description: 'STARTTLS offered on a plain stream: <starttls/> (required or voluntary, we always take it).',
                  },
                  {
                    guard: 'featuresTlsUnavailable',
                    target: '#initiatingServer.closing',
                    actions: {
                      type: 'streamError',
                      params: { condition: 'policy-violation', text: 'TLS is required by local policy and STARTTLS is not offered', kind: 'tls-failed', rfc: '6120 §5.3.1' },
                    },
                    meta: { rfc: '6120 §5.3.1, §13.9.4, §4.9.3.14' },
                    description: 'Our policy requires TLS (or certificates) and the peer does not offer it: policy-violation (§4.9.3.14).',
                  },
                  {
                    guard: 'featuresVerifyReady',
                    target: '#initiatingServer.open.established',
                    actions: ['readFeatures', 'flushVerifications'],
                    meta: { rfc: 'XEP-0220 §2.1.2, §2.4.2, RFC 6120 §4.3.2' },
                    description: 'A verification-only stream and the peer offers dialback: ready for <db:verify/> (no stanzas, no authentication needed).',
                  },
                  {
                    guard: 'featuresExternal',
                    target: 'saslNegotiation',
                    actions: ['readFeatures', 'sendExternal'],
                    meta: { rfc: '6120 §6.4.2, §6.3.4, XEP-0178 §3' },
                    description: "EXTERNAL offered, TLS on and our certificate presented: <auth mechanism='EXTERNAL'> with our domain as authzid (or '=').",
                  },
                  {
                    guard: 'featuresDialback',
                    target: 'dialback',
                    actions: 'readFeatures',
                    meta: { rfc: 'XEP-0220 §2.4.2, §2.1.1' },
                    description: 'No EXTERNAL, dialback allowed and offered: Step 1 for our pair.',
                  },
                  {
                    guard: 'featuresCertificateRequired',
                    target: '#initiatingServer.closing',
                    actions: [
                      'readFeatures',
                      {
                        type: 'closeGracefully',
                        params: outcome('auth-failed', 'XEP-0178 §3', 'certificate-required', 'certificates required and SASL EXTERNAL not offered (or no certificate of ours)'),
                      },
                    ],
                    meta: { rfc: 'XEP-0178 §3, RFC 6120 §6.3.1, §4.4' },
                    description: 'Certificates required and EXTERNAL is not possible: nothing else may authenticate us; close the stream.',
                  },
                  {
                    guard: 'featuresNoAuthentication',
                    target: '#initiatingServer.closing',
                    actions: [
                      'readFeatures',
                      { type: 'closeGracefully', params: outcome('auth-failed', 'XEP-0220 §2.4.2', 'no-authentication', 'neither SASL EXTERNAL nor dialback is possible with this peer') },
                    ],
                    meta: { rfc: 'XEP-0220 §2.4, RFC 6120 §6.3.1, §4.4' },
                    description: 'Neither EXTERNAL nor the dialback feature (or, to verify, no dialback): close the stream.',
                  },
                ],
              },
            },
            tlsNegotiation: initiatingTlsNegotiation('initiatingServer', { refused: 'the receiving server', closes: 'the peer' }, [
              {
                guard: 'peerCertificateRefused',
                target: '#initiatingServer.closed',
                actions: { type: 'refuseCertificate', params: { rfc: '6120 §13.7.2' } },
                meta: { rfc: '6120 §13.7.2, §13.7.2.1' },
                description: "Certificates required and the certificate does not authenticate our header's 'to': unilaterally terminate (TCP only).",
              },
              {
                target: '#initiatingServer.open.negotiating.awaitingStreamHeader',
                actions: 'restartAfterTls',
                meta: { rfc: '6120 §5.4.3.3, §5.3.2, §4.3.3, §13.7.2.1' },
                description: 'TLS is on: reset the parser, forget the old stream, send a new initial header; whether the certificate authenticates the peer is kept.',
              },
            ]),
            saslNegotiation: {
              meta: { rfc: '6120 §6', summary: "<auth mechanism='EXTERNAL'/> sent (XEP-0178 §3); waiting for success or failure" },
              on: {
                ELEMENT: [
                  {
                    guard: 'isSuccess',
                    target: 'awaitingStreamHeader',
                    actions: 'restartAfterSuccess',
                    meta: { rfc: '6120 §6.4.6, §6.3.2, §4.3.3, XEP-0178 §3' },
                    description: 'Success (step 11a): restart the stream without closing it (§4.3.3); the pair is authenticated once the new features come.',
                  },
                  {
                    guard: 'isChallenge',
                    actions: 'respondExternal',
                    meta: { rfc: '6120 §6.4.3' },
                    description: 'A challenge (our initial response was not taken): the authzid again in <response/>.',
                  },
                  {
                    guard: and(['isSaslFailure', 'dialbackFallback']),
                    target: 'dialback',
                    actions: 'markExternalFailed',
                    meta: { rfc: '6120 §6.4.5, XEP-0178 §3, XEP-0220 §2.1.1' },
                    description: 'Failure (step 11b, "or continue with dialback"): dialback is allowed and was offered; Step 1 on the same stream.',
                  },
                  {
                    guard: 'isSaslFailure',
                    target: '#initiatingServer.closing',
                    actions: 'closeAfterSaslFailure',
                    meta: { rfc: '6120 §6.4.5, §6.5.10, §4.4, XEP-0178 §3' },
                    description: 'Failure and no dialback (certificates required, or not offered): retrying the same certificate fails the same way; close.',
                  },
                ],
              },
            },
            dialback: {
              meta: { rfc: 'XEP-0220 §2.1.1', summary: 'Step 1 sent for our pair (the invoked originatingDialback); waiting for Step 4' },
              invoke: {
                src: 'pairDialback',
                id: DIALBACK_CHILD,
                input: ({ context }: { context: Ctx }) => ({
                  pair: pairKey(ourPair(context)),
                  dialback: {
                    ...ourPair(context),
                    streamId: context.streamId ?? '',
                    // featuresDialback and dialbackFallback checked dialbackPossible: the secret is there.
                    secret: context.input.secret!,
                    dialbackTimeout: context.input.dialback.dialbackTimeout,
                  },
                }),
              },
              entry: 'flushVerifications',
              on: {
                ELEMENT: {
                  guard: 'isResultAnswer',
                  actions: 'forwardResult',
                  meta: { rfc: 'XEP-0220 §2.1.1, §3.1' },
                  description: "Step 4 from our Target to our Sender (valid, invalid or error): to the pair's machine.",
                },
                PAIR_COMMAND: [
                  {
                    guard: 'pairAuthorizes',
                    target: '#initiatingServer.open.established',
                    actions: 'pairCommand', // held verifications went on entering dialback
                    meta: { rfc: 'XEP-0220 §2.1.1, RFC 6120 §4.3.5' },
                    description: "type='valid': `authenticated`, the queued stanzas may go (no restart with dialback).",
                  },
                  {
                    guard: 'pairEnds',
                    target: '#initiatingServer.closing',
                    actions: ['pairCommand', 'closeAfterDialback'],
                    meta: { rfc: 'XEP-0220 §2.1.1, §2.5, RFC 6120 §4.4' },
                    description: "type='invalid' (bounce internal-server-error), 'error' or timeout (bounce remote-server-timeout): the runtime is told; we close the stream.",
                  },
                  {
                    actions: 'pairCommand',
                    meta: { rfc: 'XEP-0220 §2.1.1' },
                    description: 'Step 1, <db:result from=Sender to=Target>KEY</db:result>, is written.',
                  },
                ],
                VERIFY: verifyNow,
              },
            },
          },
        },
        established: establishedState({
          exchanging: 'Stanzas of our pair go to the peer; dialback verification requests and their answers',
          on: {
            SEND: [
              {
                guard: 'mayWriteStanza',
                actions: 'sendStanza',
                meta: { rfc: '6120 §8.1.1.1, §8.1.2.1, §4.9.3.7' },
                description: "A jabber:server stanza with 'to' and 'from' of our pair: written as given.",
              },
              {
                actions: 'refuseStanza',
                meta: { rfc: '6120 §4.9.3.7, §8.1.1.2, §8.1.2.2' },
                description: "Refused, never written: no 'to' or 'from' (improper-addressing), not our pair's domains, not a stanza, or a verification-only stream.",
              },
            ],
            VERIFY: verifyNow,
            // Every ELEMENT outcome is handled here, not left to `open`: see establishedState's region order.
            ELEMENT: [
              peerStreamError('#initiatingServer.closed', PEER_STREAM_ERRORS, 'The peer sent a stream error and closed its stream; the condition goes into the outcome.'),
              ...dialbackAnswers,
              {
                guard: 'isEmptyFeatures',
                meta: { rfc: '6120 §4.3.5' },
                description: 'The receiving entity MAY send an empty <features/> after negotiation: nothing to do.',
              },
              unexpectedElement('#initiatingServer.closing', unexpectedElementError, '6120 §4.9.3.24, §4.9.3.10', 'A stanza on our one-way stream (XEP-0288 is not modelled), a negotiation element after negotiation, or an unknown element: unsupported-stanza-type (invalid-namespace for jabber:client).'),
            ],
          },
          liveness: {
            ping: {
              guard: and(['pingMode', 'pairAuthenticated']),
              target: 'pinging',
              actions: 'sendPing',
              meta: { rfc: 'XEP-0199 §4.3, RFC 6120 §4.6.3' },
              description: 'Check the peer (§4.6.3): a server-to-server ping from our domain to the peer; its answer comes on the peer\'s stream to us.',
            },
            answered: 'Any element on this stream proves the peer reads and writes it, not only the answer to our ping.',
            pingTimeout: {
              target: '#initiatingServer.closing',
              actions: { type: 'streamError', params: { condition: 'connection-timeout', kind: 'timeout', rfc: '6120 §4.6.2' } },
              meta: { rfc: '6120 §4.6.2, §4.9.3.4' },
              description: 'Broken stream: no answer to the ping (§4.9.3.4).',
            },
            answeredBy: {
              PING_REPLY: {
                guard: 'pingReplyAwaited',
                target: 'idle',
                actions: 'consumePingReply',
                meta: { rfc: 'XEP-0199 §4.3, RFC 6120 §4.6.2' },
                description: "The answer to our ping (result or error) arrived on the peer's stream to us: it is alive.",
              },
            },
          },
        }),
      },
    },
    // §4.4: STREAM_CLOSE (step 4), SOCKET_CLOSED, WRITE_FAILED, TLS_FAILED, closeTimeout (rule 3) → closed.
    closing: closingState('peer', {
      guard: and(['closingGracefully', 'isVerifyAnswer', not('isStreamError')]),
      actions: 'answerVerification',
      meta: { rfc: '6120 §4.4, XEP-0220 §2.1.2' },
      description: 'Rule 2: answers to our verification requests the peer still sends after our graceful close are taken. After a stream error nothing more is processed.',
    }),
    closed: closedState,
  },
  output: initiatingServerOutput,
});
