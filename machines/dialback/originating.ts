/**
 * The Initiating (in older texts: Originating) Server's side of Server Dialback for one
 * domain pair on one outgoing stream, XEP-0220 §2.1.1.
 *
 *   awaitingVerdict ──valid──► authorized (final)   §2.1.1 send the queued stanzas
 *        │ (entry: Step 1,     ──invalid─► rejected (final)   §2.1.1 bounce, stop using the stream
 *        │  <db:result>KEY)    ──error───► failed (final)     §2.1.1, §2.5 bounce, stream stays
 *        └── timeout / stream lost ──────► failed (final)     §2.1.1
 *
 * Started once the Receiving Server's response header (and so the Stream ID) is known; its
 * entry sends the key. Who does what after 'invalid': the Receiving Server closes the stream
 * (§2.2.1: "MUST close the XML stream" when no other pair is verified); this side only stops
 * sending on it ("SHOULD NOT attempt to send further stanzas for other domain pairs") and
 * leaves the closing to the peer: the XEP gives that move to the Receiving Server, and the
 * stream machine answers its close as RFC 6120 §4.4 says.
 */
import { and, enqueueActions, setup } from 'xstate';
import { resultRequest, type DbResult } from './elements.js';
import type { DialbackOutcome, OriginatingDialbackCommand, OriginatingDialbackEvent, OriginatingDialbackInput } from './types.js';

export interface OriginatingDialbackContext {
  readonly from: string;
  readonly to: string;
  /** The dialback key (never the secret, see ./key.ts). */
  readonly key: string;
  readonly dialbackTimeout: number;
  readonly outcome: DialbackOutcome | undefined;
}

type Ctx = OriginatingDialbackContext;
type Ev = OriginatingDialbackEvent;

const resultOf = (event: Ev): DbResult | undefined => (event.type === 'RESULT' ? event.result : undefined);

export const originatingDialbackSetup = setup({
  types: {
    context: {} as Ctx,
    events: {} as Ev,
    input: {} as OriginatingDialbackInput,
    emitted: {} as OriginatingDialbackCommand,
    output: {} as DialbackOutcome,
  },
  delays: {
    dialbackTimeout: ({ context }) => context.dialbackTimeout,
  },
  guards: {
    /**
     * §2.1.1 "MUST ensure that the 'from' and 'to' attributes in this response correlate to a
     * request that was sent over the same XML stream" (§3.1): the answer comes from our Target
     * to our Sender, and is an answer, not a request.
     */
    answersOurRequest: ({ context, event }) => {
      const r = resultOf(event);
      return r !== undefined && r.kind !== 'request' && r.from === context.to && r.to === context.from;
    },
    isValid: ({ event }) => resultOf(event)?.kind === 'valid',
    isInvalid: ({ event }) => resultOf(event)?.kind === 'invalid',
  },
  actions: {
    /** Step 1: `<db:result from=Sender to=Target>KEY</db:result>`. */
    sendKey: enqueueActions(({ context, enqueue }) => {
      enqueue.emit({ type: 'send', element: resultRequest(context.from, context.to, context.key) });
    }),
    authorize: enqueueActions(({ context, enqueue }) => {
      enqueue.emit({ type: 'pairAuthorized', from: context.from, to: context.to });
      enqueue.assign({ outcome: { result: 'valid', rfc: 'XEP-0220 §2.1.1' } });
    }),
    reject: enqueueActions(({ context, enqueue }) => {
      enqueue.emit({ type: 'pairRejected', from: context.from, to: context.to, bounce: 'internal-server-error', stopStream: true });
      enqueue.assign({ outcome: { result: 'invalid', rfc: 'XEP-0220 §2.1.1' } });
    }),
    failWithError: enqueueActions(({ context, event, enqueue }) => {
      const r = resultOf(event);
      const condition = r?.kind === 'error' ? r.error.condition : undefined;
      enqueue.emit({ type: 'pairFailed', from: context.from, to: context.to, reason: 'error', ...(condition && { condition }), bounce: 'remote-server-timeout' });
      enqueue.assign({ outcome: { result: 'error', ...(condition && { condition }), rfc: 'XEP-0220 §2.5' } });
    }),
    fail: enqueueActions(({ context, enqueue }, params: { reason: 'timeout' | 'stream-lost' }) => {
      enqueue.emit({ type: 'pairFailed', from: context.from, to: context.to, reason: params.reason, bounce: 'remote-server-timeout' });
      enqueue.assign({ outcome: { result: params.reason, rfc: 'XEP-0220 §2.1.1' } });
    }),
  },
});

export const originatingDialback = originatingDialbackSetup.createMachine({
  id: 'originatingDialback',
  meta: { rfc: 'XEP-0220 §2.1.1', summary: 'Initiating Server: authorization of one domain pair on an outgoing stream' },
  context: ({ input }): Ctx => ({
    from: input.from,
    to: input.to,
    key: input.secret.key(input.to, input.from, input.streamId),
    dialbackTimeout: input.dialbackTimeout,
    outcome: undefined,
  }),
  initial: 'awaitingVerdict',
  output: ({ context }) => context.outcome ?? { result: 'stream-lost', rfc: 'XEP-0220 §2.1.1' },
  states: {
    awaitingVerdict: {
      meta: { rfc: 'XEP-0220 §2.1.1', summary: 'Key sent (Step 1); stanzas for the pair are queued until the verdict (Step 4)' },
      entry: 'sendKey',
      after: {
        dialbackTimeout: {
          target: 'failed',
          actions: { type: 'fail', params: { reason: 'timeout' } },
          meta: { rfc: 'XEP-0220 §2.1.1' }, // Initiating Server requests authorization
          description: 'Timeout on the dialback operation (MAY, against denial of service and deadlock): counted as failed.',
        },
      },
      on: {
        RESULT: [
          {
            guard: and(['answersOurRequest', 'isValid']),
            target: 'authorized',
            actions: 'authorize',
            meta: { rfc: 'XEP-0220 §2.1.1' }, // Initiating Server requests authorization
            description: "type='valid': the pair is verified; the queued stanzas may go.",
          },
          {
            guard: and(['answersOurRequest', 'isInvalid']),
            target: 'rejected',
            actions: 'reject',
            meta: { rfc: 'XEP-0220 §2.1.1, §2.2.1' }, // Initiating Server requests authorization; Receiving Server handles the authorization request
            description: "type='invalid': bounce the queued stanzas with internal-server-error; the Receiving Server will close the stream.",
          },
          {
            guard: 'answersOurRequest',
            target: 'failed',
            actions: 'failWithError',
            meta: { rfc: 'XEP-0220 §2.1.1, §2.5' }, // Initiating Server requests authorization; Dialback Error Conditions
            description: "type='error': not fatal for the stream; bounce the queued stanzas with remote-server-timeout.",
          },
          {
            meta: { rfc: 'XEP-0220 §3.1' }, // Unsolicited Dialback
            description: 'Unsolicited: not an answer from our Target to our Sender (or a request on our outgoing stream): ignored.',
          },
        ],
        STREAM_LOST: {
          target: 'failed',
          actions: { type: 'fail', params: { reason: 'stream-lost' } },
          meta: { rfc: 'XEP-0220 §2.1.1' }, // Initiating Server requests authorization
          description: 'The Receiving Server closed the stream or TCP while we waited: as a dialback error.',
        },
      },
    },
    authorized: {
      type: 'final',
      meta: { rfc: 'XEP-0220 §2.1.1', summary: 'Stanzas may flow from the Sender Domain to the Target Domain on this stream' },
    },
    rejected: {
      type: 'final',
      meta: { rfc: 'XEP-0220 §2.1.1', summary: 'The Authoritative Server deemed our key bogus' },
    },
    failed: {
      type: 'final',
      meta: { rfc: 'XEP-0220 §2.1.1, §2.5', summary: 'No verdict: dialback error, timeout or lost stream' },
    },
  },
});
