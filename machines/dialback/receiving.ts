/**
 * The Receiving Server's side of Server Dialback for one domain pair on one incoming stream,
 * XEP-0220 §2.2.1, with the verification request it sends the Authoritative Server (§2.1.2).
 *
 *   idle ──REQUEST──► verifying ──valid───► authorized (final)  Step 4 type='valid'
 *     │  (checks: hosted,  │  (Step 2:  ──invalid─► rejected (final)    Step 4 type='invalid' + close,
 *     │   policy, room)    │  db:verify)                                 or <forbidden/> (other pairs)
 *     └──► failed (final)  └── error / unreachable / lost / timeout ──► failed (final)  dialback error
 *   STREAM_LOST anywhere ──► abandoned (final)
 *
 * Choices where the XEP leaves one:
 * - Verification always asks the Authoritative Server ("MAY use any method", §2.1.1 note):
 *   no shortcut when this server also knows the Sender Domain's secret, so the flow is the
 *   same for every peer.
 * - 'invalid' when no other pair is verified on the stream: send type='invalid' (SHOULD) and
 *   have the stream closed (MUST), §2.2.1. The XEP names no stream error for that close, so
 *   the command asks for the plain RFC 6120 §4.4 close: the type='invalid' answer already says
 *   why. (RFC 6120 §4.9.3.9 `<invalid-from/>` is for what may follow: a stanza whose 'from' is
 *   not a validated domain, see ./pairs.ts.)
 * - 'invalid' when other pairs are verified: the MAY of §2.2.1 / §2.1.2, a `<forbidden/>`
 *   dialback error instead, so those pairs keep their stream. The attempt is reported
 *   (`pairRejected`) so the runtime logs it ("ought to log", §2.2.1).
 * - A second request for the pair while one is being verified is ignored: the pending answer
 *   covers it, and a second Step 2 would only double the load a forger can cause.
 * - Checks before Step 2, in this order (the XEP orders none): a Target Domain we do not host
 *   (item-not-found, §2.2.1), dialback refused by policy (not-authorized), TLS required and off
 *   (policy-violation), the stream full (resource-constraint, DialbackPolicy.maxPairsPerStream).
 *   'not-acceptable' is never sent: every way we fail to establish the identity has a more
 *   precise row in the table.
 * - Errors, from the XEP's table (§2.5): the Authoritative Server answered type='error' →
 *   remote-server-not-found ("If an error is encountered in Step 3 ... MUST send
 *   <remote-server-not-found/>"); it could not be found / said host-unknown →
 *   remote-server-not-found; no connection → remote-connection-failed; the connection broke
 *   or no answer within the timeout → remote-server-timeout.
 */
import { and, enqueueActions, not, setup } from 'xstate';
import type { DialbackErrorCondition } from './errors.js';
import { resultAnswer, resultError, verifyRequest } from './elements.js';
import type { DbResultRequest, DbVerifyAnswer, DialbackOutcome, DialbackPolicy, ReceivingDialbackCommand, ReceivingDialbackEvent, ReceivingDialbackInput, VerifyFailure } from './types.js';

export interface ReceivingDialbackContext {
  readonly streamId: string;
  readonly hosted: readonly string[];
  readonly secured: boolean;
  readonly pairsOnStream: number;
  readonly policy: DialbackPolicy;
  /** The request being handled (Sender Domain, Target Domain, key). */
  readonly request: DbResultRequest | undefined;
  readonly outcome: DialbackOutcome | undefined;
}

type Ctx = ReceivingDialbackContext;
type Ev = ReceivingDialbackEvent;

/** §2.5 table: the Step 4 condition for each way Step 2/3 can fail. */
export const VERIFY_FAILURE_CONDITION: Readonly<Record<VerifyFailure, DialbackErrorCondition>> = {
  'not-found': 'remote-server-not-found',
  'connection-failed': 'remote-connection-failed',
  'connection-lost': 'remote-server-timeout',
};

const requestOf = (event: Ev): DbResultRequest | undefined => (event.type === 'REQUEST' ? event.request : undefined);
const answerOf = (event: Ev): DbVerifyAnswer | undefined => (event.type === 'VERIFY_ANSWER' ? event.answer : undefined);

export const receivingDialbackSetup = setup({
  types: {
    context: {} as Ctx,
    events: {} as Ev,
    input: {} as ReceivingDialbackInput,
    emitted: {} as ReceivingDialbackCommand,
    output: {} as DialbackOutcome,
  },
  delays: {
    dialbackTimeout: ({ context }) => context.policy.dialbackTimeout,
  },
  guards: {
    /** §2.2.1: the Target Domain is one of ours. */
    targetHosted: ({ context, event }) => {
      const r = requestOf(event);
      return r !== undefined && context.hosted.includes(r.to);
    },
    dialbackAllowed: ({ context }) => context.policy.dialbackAllowed,
    tlsSatisfied: ({ context }) => context.secured || !context.policy.requireTls,
    roomForPair: ({ context }) => context.pairsOnStream < context.policy.maxPairsPerStream,
    /** §2.1.2 "MUST ensure that the values of the 'from', 'to' and 'id' attributes correlate" (§3.1). */
    answersOurVerify: ({ context, event }) => {
      const a = answerOf(event);
      const r = context.request;
      return a !== undefined && r !== undefined && a.from === r.from && a.to === r.to && a.id === context.streamId;
    },
    isValid: ({ event }) => answerOf(event)?.kind === 'valid',
    isInvalid: ({ event }) => answerOf(event)?.kind === 'invalid',
    otherPairsAuthorized: ({ event }) => event.type === 'VERIFY_ANSWER' && event.otherPairsAuthorized,
  },
  actions: {
    /** Step 2: `<db:verify from=Target to=Sender id=StreamID>KEY</db:verify>` to the Sender Domain's Authoritative Server. */
    requestVerification: enqueueActions(({ context, event, enqueue }) => {
      const r = requestOf(event)!;
      enqueue.assign({ request: r });
      enqueue.emit({ type: 'verify', authoritative: r.from, element: verifyRequest(r.to, r.from, context.streamId, r.key) });
    }),
    /** Step 4 type='valid': 'from' the Target, 'to' the Sender. */
    authorize: enqueueActions(({ context, enqueue }) => {
      const r = context.request!;
      enqueue.emit({ type: 'send', element: resultAnswer(r.to, r.from, 'valid') });
      enqueue.emit({ type: 'pairAuthorized', from: r.from, to: r.to });
      enqueue.assign({ outcome: { result: 'valid', rfc: 'XEP-0220 §2.2.1' } });
    }),
    /** Step 4 type='invalid', and the stream must close. */
    rejectAndClose: enqueueActions(({ context, enqueue }) => {
      const r = context.request!;
      enqueue.emit({ type: 'send', element: resultAnswer(r.to, r.from, 'invalid') });
      enqueue.emit({ type: 'pairRejected', from: r.from, to: r.to, closeStream: true });
      enqueue.assign({ outcome: { result: 'invalid', rfc: 'XEP-0220 §2.2.1' } });
    }),
    /** §2.2.1 MAY: `<forbidden/>` instead of type='invalid', keeping the stream for the other pairs. */
    rejectWithForbidden: enqueueActions(({ context, enqueue }) => {
      const r = context.request!;
      enqueue.emit({ type: 'send', element: resultError(r.to, r.from, 'forbidden') });
      enqueue.emit({ type: 'pairRejected', from: r.from, to: r.to, closeStream: false });
      enqueue.assign({ outcome: { result: 'invalid', condition: 'forbidden', rfc: 'XEP-0220 §2.2.1, §2.5' } });
    }),
    /**
     * A dialback error for the pair (Step 4). The request comes from the event when failing
     * before verification, from context after. 'from' is the Target even when we do not host
     * it (§2.5, item-not-found row: "the domain is used in the 'from' attribute").
     */
    dialbackError: enqueueActions(({ context, event, enqueue }, params: { condition: DialbackErrorCondition; result?: 'error' | 'timeout' }) => {
      const r = requestOf(event) ?? context.request!;
      enqueue.emit({ type: 'send', element: resultError(r.to, r.from, params.condition) });
      enqueue.emit({ type: 'pairFailed', from: r.from, to: r.to, condition: params.condition });
      enqueue.assign({ request: r, outcome: { result: params.result ?? 'error', condition: params.condition, rfc: 'XEP-0220 §2.5' } });
    }),
    verifyFailed: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'VERIFY_FAILED') return;
      const r = context.request!;
      const condition = VERIFY_FAILURE_CONDITION[event.reason];
      enqueue.emit({ type: 'send', element: resultError(r.to, r.from, condition) });
      enqueue.emit({ type: 'pairFailed', from: r.from, to: r.to, condition });
      enqueue.assign({ outcome: { result: 'error', condition, rfc: 'XEP-0220 §2.5' } });
    }),
    abandon: enqueueActions(({ enqueue }) => {
      enqueue.assign({ outcome: { result: 'stream-lost', rfc: 'XEP-0220 §2.1.2' } });
    }),
  },
});

const streamLost = {
  target: 'abandoned',
  actions: 'abandon',
  meta: { rfc: 'XEP-0220 §2.1.2' }, // Receiving Server requests verification
  description: 'The incoming stream is gone: nothing to answer on; a late verification result is dropped silently.',
} as const;

export const receivingDialback = receivingDialbackSetup.createMachine({
  id: 'receivingDialback',
  meta: { rfc: 'XEP-0220 §2.2.1', summary: 'Receiving Server: verification of one domain pair on an incoming stream' },
  context: ({ input }): Ctx => ({
    streamId: input.streamId,
    hosted: input.hosted,
    secured: input.secured,
    pairsOnStream: input.pairsOnStream,
    policy: input.policy,
    request: undefined,
    outcome: undefined,
  }),
  initial: 'idle',
  output: ({ context }) => context.outcome ?? { result: 'stream-lost', rfc: 'XEP-0220 §2.1.2' },
  states: {
    idle: {
      meta: { rfc: 'XEP-0220 §2.2.1', summary: 'Waiting for the Initiating Server\'s key (Step 1)' },
      on: {
        REQUEST: [
          {
            guard: not('targetHosted'),
            target: 'failed',
            actions: { type: 'dialbackError', params: { condition: 'item-not-found' } },
            meta: { rfc: 'XEP-0220 §2.2.1, §2.5' }, // Receiving Server handles the authorization request; Dialback Error Conditions
            description: 'The Target Domain is not ours: item-not-found, a dialback error, not a stream error (the stream may carry other pairs).',
          },
          {
            guard: not('dialbackAllowed'),
            target: 'failed',
            actions: { type: 'dialbackError', params: { condition: 'not-authorized' } },
            meta: { rfc: 'XEP-0220 §2.5' }, // Dialback Error Conditions
            description: 'Policy wants a certificate (or other proof) for this peer, not dialback: not-authorized.',
          },
          {
            guard: not('tlsSatisfied'),
            target: 'failed',
            actions: { type: 'dialbackError', params: { condition: 'policy-violation' } },
            meta: { rfc: 'XEP-0220 §2.5' }, // Dialback Error Conditions
            description: 'Policy wants TLS before dialback and the stream is not encrypted: policy-violation.',
          },
          {
            guard: not('roomForPair'),
            target: 'failed',
            actions: { type: 'dialbackError', params: { condition: 'resource-constraint' } },
            meta: { rfc: 'XEP-0220 §2.5, §2.6' }, // Dialback Error Conditions; Multiplexing
            description: 'The stream already carries maxPairsPerStream pairs: resource-constraint, the peer should try a new connection.',
          },
          {
            target: 'verifying',
            actions: 'requestVerification',
            meta: { rfc: 'XEP-0220 §2.2.1, §2.1.2' }, // Receiving Server handles the authorization request; Receiving Server requests verification
            description: 'Step 2: ask the Authoritative Server of the Sender Domain whether the key is valid for our stream ID.',
          },
        ],
        STREAM_LOST: streamLost,
      },
    },
    verifying: {
      meta: { rfc: 'XEP-0220 §2.1.2', summary: 'Step 2 sent; waiting for the Authoritative Server (Step 3). No stanzas from the pair yet' },
      after: {
        dialbackTimeout: {
          target: 'failed',
          actions: { type: 'dialbackError', params: { condition: 'remote-server-timeout', result: 'timeout' } },
          meta: { rfc: 'XEP-0220 §2.5, §2.1.1' }, // Dialback Error Conditions; Initiating Server requests authorization
          description: 'No answer from the Authoritative Server in time: remote-server-timeout.',
        },
      },
      on: {
        VERIFY_ANSWER: [
          {
            guard: and(['answersOurVerify', 'isValid']),
            target: 'authorized',
            actions: 'authorize',
            meta: { rfc: 'XEP-0220 §2.2.1, §2.1.2' }, // Receiving Server handles the authorization request; Receiving Server requests verification
            description: "Step 3 valid → Step 4 type='valid': accept stanzas for the pair.",
          },
          {
            guard: and(['answersOurVerify', 'isInvalid', 'otherPairsAuthorized']),
            target: 'rejected',
            actions: 'rejectWithForbidden',
            meta: { rfc: 'XEP-0220 §2.2.1, §2.1.2, §2.5' }, // Receiving Server handles the authorization request; Receiving Server requests verification; Dialback Error Conditions
            description: 'Step 3 invalid while other pairs are verified on the stream: a <forbidden/> dialback error instead, the stream stays.',
          },
          {
            guard: and(['answersOurVerify', 'isInvalid']),
            target: 'rejected',
            actions: 'rejectAndClose',
            meta: { rfc: 'XEP-0220 §2.2.1' }, // Receiving Server handles the authorization request
            description: "Step 3 invalid, no other pair on the stream → Step 4 type='invalid', then the stream is closed.",
          },
          {
            guard: 'answersOurVerify',
            target: 'failed',
            actions: { type: 'dialbackError', params: { condition: 'remote-server-not-found' } },
            meta: { rfc: 'XEP-0220 §2.5' }, // Dialback Error Conditions
            description: "Step 3 type='error': the Receiving Server MUST send remote-server-not-found.",
          },
          {
            meta: { rfc: 'XEP-0220 §2.1.2, §3.1' }, // Receiving Server requests verification; Unsolicited Dialback
            description: "An answer whose 'from', 'to' and 'id' do not match our request: unsolicited, ignored.",
          },
        ],
        VERIFY_FAILED: {
          target: 'failed',
          actions: 'verifyFailed',
          meta: { rfc: 'XEP-0220 §2.5, §2.1.2' }, // Dialback Error Conditions; Receiving Server requests verification
          description: 'The Authoritative Server could not be asked: remote-server-not-found, remote-connection-failed or remote-server-timeout.',
        },
        REQUEST: {
          meta: { rfc: 'XEP-0220 §2.2.1' }, // Receiving Server handles the authorization request
          description: 'Another key for the pair while one is verified: ignored, the pending answer covers the pair.',
        },
        STREAM_LOST: streamLost,
      },
    },
    authorized: {
      type: 'final',
      meta: { rfc: 'XEP-0220 §2.2.1', summary: 'Stanzas from the Sender Domain to the Target Domain are accepted on this stream' },
    },
    rejected: {
      type: 'final',
      meta: { rfc: 'XEP-0220 §2.2.1', summary: 'The key was invalid: nothing is accepted from the Sender Domain' },
    },
    failed: {
      type: 'final',
      meta: { rfc: 'XEP-0220 §2.5', summary: 'A dialback error was sent for the pair; the stream lives on' },
    },
    abandoned: {
      type: 'final',
      meta: { rfc: 'XEP-0220 §2.1.2', summary: 'The incoming stream went away before a verdict' },
    },
  },
});
