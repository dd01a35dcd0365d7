/**
 * The initiating entity's implementations: guards and actions (what each transition of
 * ./machine.ts does), on top of the stream rules both ends share (../stream/setup.ts).
 * Every protocol decision they make is cited where it is made.
 */
import { assign, enqueueActions, stateIn } from 'xstate';
import { streamErrorElement, streamErrorSection, type StreamErrorCondition } from '../conditions.js';
import { NS } from '../ns.js';
import type { StreamOutcome } from '../protocol.js';
import { el, type XmlElement } from '../xml.js';
import { abortElement, authElement, authzidOf, challengeStep, responseElement, saslFailureCondition, startStep, successStep } from './auth.js';
import { bindableAccounts, bindRequest, newStanzaId, readBindReply } from './bind.js';
import { decideFeatures, offeredFeatures, type FeatureDecision } from './features.js';
import { initialHeader, responseHeaderProblem } from './header.js';
import {
  applicationMayWrite,
  classifyServerElement,
  clientPing,
  isPingReply,
  isServerPing,
  pingResult,
  readStreamError,
  unexpectedElementCondition,
  type ServerElementKind,
} from './stanza.js';
import { outcome } from '../stream/outcome.js';
import { streamSetup } from '../stream/setup.js';
import type { InitiatingEntityContext, InitiatingEntityEvent, InitiatingEntityMachineInput, PendingClientStep } from './types.js';

type Ctx = InitiatingEntityContext;
type Ev = InitiatingEntityEvent;

const elementOf = (e: Ev): XmlElement | undefined => (e.type === 'ELEMENT' ? e.element : undefined);
export const kindOf = (e: Ev): ServerElementKind | undefined => (e.type === 'ELEMENT' ? classifyServerElement(e.element) : undefined);
/** streamError params for an element the current state does not accept: the condition its kind calls for (§4.9.3). */
export const unexpectedElementError = ({ event }: { event: Ev }) => ({ condition: unexpectedElementCondition(kindOf(event) ?? 'other') });
const saslCtx = (c: Ctx) => ({ random: c.input.random });

/** The decision a `<stream:features/>` element calls for in this context (undefined for other events). */
function featureDecision(c: Ctx, e: Ev): FeatureDecision | undefined {
  if (kindOf(e) !== 'features' || e.type !== 'ELEMENT') return undefined;
  return decideFeatures(offeredFeatures(e.element), c.input, c.secured, c.authenticated);
}
const decided = (kind: FeatureDecision['kind']) => ({ context, event }: { context: Ctx; event: Ev }) => featureDecision(context, event)?.kind === kind;

function bindReply(c: Ctx, e: Ev) {
  if (e.type !== 'ELEMENT' || c.identity === undefined) return undefined;
  return readBindReply(e.element, c.bindId, bindableAccounts(c.identity.username, c.identity.domain, c.input.authzid));
}

/** Parameters of the stream error procedure (§4.9.1.1). */
interface StreamErrorParams {
  readonly condition: StreamErrorCondition;
  readonly text?: string;
  /** Outcome kind (default 'error-sent') and section, when the error stands for something more specific. */
  readonly kind?: StreamOutcome['kind'];
  readonly rfc?: string;
}

export const initiatingEntitySetup = streamSetup<Ctx, Ev, InitiatingEntityMachineInput>({ isOpen: (c) => c.streamOpen, closed: { streamOpen: false } }).extend({
  guards: {
    identityMissing: ({ context }) => context.identity === undefined,
    headerInvalid: ({ event }) => event.type === 'HEADER' && responseHeaderProblem(event.header) !== undefined,
    isStreamError: ({ event }) => kindOf(event) === 'stream-error',
    isFeatures: ({ event }) => kindOf(event) === 'features',
    isEmptyFeatures: ({ event }) => event.type === 'ELEMENT' && kindOf(event) === 'features' && event.element.children.every((c) => typeof c === 'string'),
    featuresStarttls: decided('starttls'),
    featuresTlsRefused: decided('tls-refused'),
    featuresTlsUnavailable: decided('tls-unavailable'),
    featuresSasl: decided('sasl'),
    featuresNoMechanism: decided('no-mechanism'),
    featuresBind: decided('bind'),
    featuresNoBind: decided('no-bind'),
    isProceed: ({ event }) => kindOf(event) === 'tls-proceed',
    isTlsFailure: ({ event }) => kindOf(event) === 'tls-failure',
    isChallenge: ({ event }) => kindOf(event) === 'sasl-challenge',
    isSuccess: ({ event }) => kindOf(event) === 'sasl-success',
    isSaslFailure: ({ event }) => kindOf(event) === 'sasl-failure',
    stepIsAuth: ({ context }) => context.saslStep?.kind === 'auth',
    stepIsRespond: ({ context }) => context.saslStep?.kind === 'respond',
    stepIsAbort: ({ context }) => context.saslStep?.kind === 'abort',
    stepIsVerified: ({ context }) => context.saslStep?.kind === 'verified',
    stepIsUnverified: ({ context }) => context.saslStep?.kind === 'unverified',
    bindBound: ({ context, event }) => bindReply(context, event)?.kind === 'bound',
    bindInvalid: ({ context, event }) => bindReply(context, event)?.kind === 'invalid',
    bindConflictRetry: ({ context, event }) => {
      const reply = bindReply(context, event);
      return reply?.kind === 'error' && reply.condition === 'conflict' && context.bindResource !== undefined && !context.bindRetried;
    },
    bindError: ({ context, event }) => bindReply(context, event)?.kind === 'error',
    isStanza: ({ event }) => kindOf(event) === 'stanza',
    isServerPing: ({ context, event }) => event.type === 'ELEMENT' && context.identity !== undefined && isServerPing(event.element, context.identity.domain),
    isPingReply: ({ context, event }) => event.type === 'ELEMENT' && isPingReply(event.element, context.pingId),
    mayWrite: ({ event }) => event.type === 'SEND' && applicationMayWrite(event.stanza),
    inTlsHandshake: stateIn('#initiatingEntity.open.negotiating.tlsNegotiation.handshake'),
  },
  actions: {
    /** §4.2 / §4.3.3: our (new) initial stream header. */
    openStream: enqueueActions(({ context, enqueue }) => {
      if (context.identity === undefined) return;
      enqueue.emit({ type: 'openStream', header: initialHeader(context.identity, context.input, context.secured) });
      enqueue.assign({ streamOpen: true });
    }),
    /** §4.9.1.1: `<stream:error/>`, then `</stream:stream>`; TCP closes after the server's closing tag (§4.4). */
    streamError: enqueueActions(({ enqueue }, params: StreamErrorParams) => {
      enqueue.emit({ type: 'send', element: streamErrorElement(params.condition, params.text) });
      enqueue.emit({ type: 'closeStream' });
      enqueue.assign({
        streamOpen: false,
        outcome: outcome(params.kind ?? 'error-sent', params.rfc ?? `6120 §${streamErrorSection(params.condition)}`, params.condition, params.text),
      });
    }),
    /** §4.4: we close first and wait for the server's closing tag. */
    closeGracefully: enqueueActions(({ enqueue }, params?: StreamOutcome) => {
      enqueue.emit({ type: 'closeStream' });
      enqueue.assign({ streamOpen: false, outcome: params ?? outcome('closed', '6120 §4.4') });
    }),
    /**
     * §4.9.1.1: the server sent a stream error and closes its stream; we close ours and TCP.
     * The condition (and text, or the alternate host of `<see-other-host/>`, §4.9.3.19) goes
     * into the outcome for the runtime (e.g. to reconnect elsewhere).
     */
    answerStreamError: enqueueActions(({ context, event, enqueue }) => {
      const element = elementOf(event);
      const received = element ? readStreamError(element) : { condition: 'undefined-condition' };
      if (context.streamOpen) enqueue.emit({ type: 'closeStream' });
      enqueue.emit({ type: 'closeSocket' });
      enqueue.assign({ streamOpen: false, outcome: outcome('error-received', '6120 §4.9.1.1', received.condition, received.text) });
    }),

    // §5.4 ------------------------------------------------------------------------------
    sendStarttls: enqueueActions(({ enqueue }) => enqueue.emit({ type: 'send', element: el('starttls', NS.TLS) })),
    /** §5.4.3.1: the old stream is abandoned without a closing tag; TLS starts on the TCP connection. */
    startTls: enqueueActions(({ enqueue }) => {
      enqueue.emit({ type: 'startTls' });
      enqueue.assign({ streamOpen: false });
    }),
    /** §5.4.3.3: TLS is on; the stream restarts: a new parser, and whatever the server said before is forgotten (rule 2). */
    restartAfterTls: enqueueActions(({ enqueue }) => {
      enqueue.emit({ type: 'resetParser' });
      enqueue.assign({ secured: true, peer: undefined });
    }),

    // §6.4 -----------------------------------------------------------------------------
    /** §6.3.3: the mechanism chosen from the offer; §6.4.2: the first step of the handshake. */
    beginAuth: assign(({ context, event }) => {
      const decision = featureDecision(context, event);
      if (decision?.kind !== 'sasl' || context.identity === undefined) return { saslStep: { kind: 'unusable', reason: 'no mechanism' } as PendingClientStep };
      return {
        mechanism: decision.mechanism,
        saslStep: startStep(
          decision.mechanism,
          context.identity,
          { password: context.input.password, ...(context.input.authzid !== undefined ? { authzid: context.input.authzid } : {}) },
          context.input.initialResponse !== false,
          saslCtx(context),
        ),
      };
    }),
    sendAuth: enqueueActions(({ context, enqueue }) => {
      const step = context.saslStep;
      if (step?.kind !== 'auth') return;
      enqueue.emit({ type: 'send', element: authElement(step.mechanism, step.data) });
      enqueue.assign({ sasl: step.state, saslStep: undefined });
    }),
    sendResponse: enqueueActions(({ context, enqueue }) => {
      const step = context.saslStep;
      if (step?.kind !== 'respond') return;
      enqueue.emit({ type: 'send', element: responseElement(step.data) });
      enqueue.assign({ sasl: step.state, saslStep: undefined });
    }),
    /** §6.4.4: the challenge cannot be answered; the reason is kept for the outcome. */
    sendAbort: enqueueActions(({ context, enqueue }) => {
      const step = context.saslStep;
      enqueue.emit({ type: 'send', element: abortElement() });
      enqueue.assign({ sasl: undefined, outcome: outcome('auth-failed', '6120 §6.4.4', 'aborted', step?.kind === 'abort' ? step.reason : undefined) });
    }),
    evaluateChallenge: assign({
      saslStep: ({ context, event }): PendingClientStep =>
        event.type === 'ELEMENT' ? challengeStep(context.sasl, event.element, saslCtx(context)) : { kind: 'abort', reason: 'no challenge' },
    }),
    evaluateSuccess: assign({
      saslStep: ({ context, event }): PendingClientStep =>
        event.type === 'ELEMENT' ? successStep(context.sasl, event.element) : { kind: 'unverified', reason: 'no success element' },
    }),
    /** §6.4.6 / §4.3.3: authenticated; the stream restarts (new parser, new header on entry of awaitingStreamHeader). */
    restartAfterSuccess: enqueueActions(({ context, enqueue }) => {
      const authzid = authzidOf(context.input.authzid);
      enqueue.emit({ type: 'authenticated', username: context.identity?.username ?? '', ...(authzid !== undefined ? { authzid } : {}) });
      enqueue.emit({ type: 'resetParser' });
      enqueue.assign({ authenticated: true, sasl: undefined, saslStep: undefined, peer: undefined });
    }),
    /**
     * RFC 5802 §3 / §5: the server's signature did not verify, so the server does not know our
     * stored keys: the authentication exchange failed, whatever `<success/>` claimed. We do not
     * restart the stream (§6.4.6) and drop the connection at once: a `<not-authorized/>` stream
     * error (§4.9.3.12: the server is not authorized to conclude the negotiation), our closing
     * tag, then TCP, without waiting for a server we no longer trust.
     */
    rejectServer: enqueueActions(({ context, enqueue }) => {
      const reason = context.saslStep?.kind === 'unverified' ? context.saslStep.reason : 'success not verified';
      enqueue.emit({ type: 'send', element: streamErrorElement('not-authorized', reason) });
      enqueue.emit({ type: 'closeStream' });
      enqueue.emit({ type: 'closeSocket' });
      enqueue.assign({ streamOpen: false, sasl: undefined, saslStep: undefined, outcome: outcome('auth-failed', '6120 §6.4.6', 'not-authorized', reason) });
    }),
    /**
     * §6.4.5: the server reported failure. Choice: no retry. The input holds one password, and
     * retrying the same credentials fails the same way; §6.4.5 then says the client SHOULD
     * simply close the stream (§4.4) rather than wait for a timeout. The condition goes into the
     * outcome; the application decides whether to ask the user and reconnect. After our own
     * `<abort/>` the outcome keeps the reason we aborted.
     */
    closeAfterSaslFailure: enqueueActions(({ context, event, enqueue }) => {
      const element = elementOf(event);
      const failure = element ? saslFailureCondition(element) : { condition: 'undefined' };
      const aborted = context.outcome?.kind === 'auth-failed' && context.outcome.condition === 'aborted' ? context.outcome.text : undefined;
      enqueue.emit({ type: 'closeStream' });
      enqueue.assign({
        streamOpen: false,
        sasl: undefined,
        outcome: outcome('auth-failed', `6120 §6.4.5`, failure.condition, aborted ?? failure.text),
      });
    }),
    /** The mechanism could not start (SASLprep rejected the credentials...): nothing was sent; close (§6.4.5 last paragraph). */
    closeUnusable: enqueueActions(({ context, enqueue }) => {
      const reason = context.saslStep?.kind === 'unusable' ? context.saslStep.reason : 'no SASL step';
      enqueue.emit({ type: 'closeStream' });
      enqueue.assign({ streamOpen: false, saslStep: undefined, outcome: outcome('auth-failed', '6120 §6.4.5', 'unusable-credentials', reason) });
    }),

    // §7 -----------------------------------------------------------------------------
    /** §7.7.1 with the resourcepart of a full input JID, else §7.6.1 (server-generated). */
    sendBind: enqueueActions(({ context, enqueue }) => {
      const id = newStanzaId('bind', context.input.random);
      const resource = context.identity?.resource;
      enqueue.emit({ type: 'send', element: bindRequest(id, resource) });
      enqueue.assign({ bindId: id, bindResource: resource });
    }),
    /**
     * §7.7.2.2: our resourcepart is in use and the server refuses to override (#2). Choice: ask
     * once more with an empty `<bind/>` so the server generates one (§7.6): a client with a
     * session is better than none, and the application learns the JID from `online`. Only once,
     * so a server answering `<conflict/>` to everything cannot keep us looping (§7.7.3).
     */
    retryBindWithoutResource: enqueueActions(({ context, enqueue }) => {
      const id = newStanzaId('bind', context.input.random);
      enqueue.emit({ type: 'send', element: bindRequest(id, undefined) });
      enqueue.assign({ bindId: id, bindResource: undefined, bindRetried: true });
    }),
    /** §7.6.1: the server's JID is the one to use, whatever we asked for. */
    goOnline: enqueueActions(({ context, event, enqueue }) => {
      const reply = bindReply(context, event);
      if (reply?.kind !== 'bound') return;
      enqueue.emit({ type: 'online', jid: reply.jid });
      enqueue.assign({ boundJid: reply.jid, bindId: undefined, bindResource: undefined });
    }),
    /**
     * §7.6.2 / §7.7.2: bad-request, not-allowed, resource-constraint, conflict (after the
     * retry), or any other stanza error. Without a bound resource the stream is useless
     * (§7.1), so we close it gracefully (§4.4) with the condition in the outcome.
     */
    closeAfterBindError: enqueueActions(({ context, event, enqueue }) => {
      const reply = bindReply(context, event);
      const condition = reply?.kind === 'error' ? reply.condition : 'undefined-condition';
      const text = reply?.kind === 'error' ? reply.text : undefined;
      const section = condition === 'resource-constraint' ? '6120 §7.6.2.1' : condition === 'not-allowed' ? '6120 §7.6.2.2' : condition === 'bad-request' ? '6120 §7.7.2.1' : condition === 'conflict' ? '6120 §7.7.2.2' : '6120 §7.6.2';
      enqueue.emit({ type: 'closeStream' });
      enqueue.assign({ streamOpen: false, bindId: undefined, outcome: outcome('bind-failed', section, condition, text) });
    }),
    bindInvalid: enqueueActions(({ context, event, enqueue }) => {
      const reply = bindReply(context, event);
      const reason = reply?.kind === 'invalid' ? reply.reason : 'invalid bind result';
      enqueue.emit({ type: 'send', element: streamErrorElement('undefined-condition', reason) });
      enqueue.emit({ type: 'closeStream' });
      enqueue.assign({ streamOpen: false, bindId: undefined, outcome: outcome('bind-failed', '6120 §7.6.1', 'undefined-condition', reason) });
    }),

    // §8, §4.6 ------------------------------------------------------------------------
    sendStanza: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'SEND') enqueue.emit({ type: 'send', element: event.stanza });
    }),
    deliver: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'ELEMENT') enqueue.emit({ type: 'deliver', stanza: event.element });
    }),
    answerPing: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'ELEMENT') enqueue.emit({ type: 'send', element: pingResult(event.element) });
    }),
    sendPing: enqueueActions(({ context, enqueue }) => {
      if (context.identity === undefined) return;
      const id = newStanzaId('ping', context.input.random);
      enqueue.assign({ pingId: id });
      enqueue.emit({ type: 'send', element: clientPing(id, context.identity.domain) });
    }),
  },
});
