/**
 * The initiating server's implementations: guards and actions (what each transition of
 * ./machine.ts does), on top of the stream rules both ends share (../../stream/setup.ts).
 * Every protocol decision they make is cited where it is made.
 */
import { assign, enqueueActions, stateIn } from 'xstate';
import { streamErrorElement, streamErrorSection, type StreamErrorCondition } from '../../conditions.js';
import { verifyRequest } from '../../dialback/elements.js';
import { pairKey, routeOutgoing, verifyCorrelation, type OutgoingRoute } from '../../dialback/pairs.js';
import type { VerifyFailure } from '../../dialback/types.js';
import { certificateAuthenticates } from '../../identity.js';
import { NS } from '../../ns.js';
import type { StreamOutcome } from '../../protocol.js';
import { outcome, streamOutput } from '../../stream/outcome.js';
import { streamSetup } from '../../stream/setup.js';
import { el, type XmlElement } from '../../xml.js';
import { domainOf, responseHeaderProblem, serverInitialHeader } from '../header.js';
import { externalAuth, externalResponse, saslFailureCondition } from './auth.js';
import { pairDialback } from './dialback.js';
import { decideServerFeatures, dialbackPossible, offeredServerFeatures, type ServerFeatureDecision } from './features.js';
import { readStreamError } from '../../initiating/stanza.js';
import { classifyPeerElement, newPingId, serverPing, stanzaRefusal, unexpectedPeerElementCondition, type PeerElementKind } from './stanza.js';
import type {
  InitiatingServerCommand,
  InitiatingServerContext,
  InitiatingServerEvent,
  InitiatingServerInput,
  InitiatingServerOutcome,
  RefusalReason,
  StanzaBounce,
  Verification,
} from './types.js';

type Ctx = InitiatingServerContext;
type Ev = InitiatingServerEvent;

/** The invoked pair machine's id (one pair per stream; multiplexing, XEP-0220 §2.6, is not used). */
export const DIALBACK_CHILD = 'dialback';

const elementOf = (e: Ev): XmlElement | undefined => (e.type === 'ELEMENT' ? e.element : undefined);
export const kindOf = (e: Ev): PeerElementKind | undefined => (e.type === 'ELEMENT' ? classifyPeerElement(e.element) : undefined);
/** streamError params for an element the current state does not accept (§4.9.3). */
export const unexpectedElementError = ({ event }: { event: Ev }) => ({ condition: unexpectedPeerElementCondition(kindOf(event) ?? 'other') });

/** Our one domain pair (XEP-0220 §1.3): Sender = our domain, Target = the remote domain. */
export const ourPair = (c: Ctx) => ({ from: c.input.domain, to: c.input.remoteDomain });
/** The key under which routeOutgoing files the answer to a `<db:verify/>` we sent: (Sender, Target, id) of the answer. */
const answerKey = (v: Verification) => verifyCorrelation(v.to, v.from, v.id);
/** Certificates required: dialback is not allowed (../policy.ts). */
const certificatesRequired = (c: Ctx) => !c.input.dialback.dialbackAllowed;

function featureDecision(c: Ctx, e: Ev): ServerFeatureDecision | undefined {
  if (e.type !== 'ELEMENT' || kindOf(e) !== 'features') return undefined;
  return decideServerFeatures(offeredServerFeatures(e.element), c.input, { secured: c.secured, saslDone: c.saslDone, externalFailed: c.externalFailed });
}
const decided = (kind: ServerFeatureDecision['kind']) => ({ context, event }: { context: Ctx; event: Ev }) => featureDecision(context, event)?.kind === kind;

/** What a dialback element on this outgoing stream answers (XEP-0220 §2.1, §3.1). */
function dialbackRoute(c: Ctx, e: Ev, awaitingResult: boolean): OutgoingRoute | undefined {
  if (e.type !== 'ELEMENT' || kindOf(e) !== 'dialback') return undefined;
  const results = awaitingResult ? new Set([pairKey(ourPair(c))]) : new Set<string>();
  return routeOutgoing(e.element, results, new Set(c.sentVerifications.map(answerKey)));
}

/** A VERIFY the stream cannot carry: not for this Authoritative Server, not domains, no key, or no room (policy). */
function verifyUnusable(c: Ctx, e: Ev): boolean {
  if (e.type !== 'VERIFY') return false;
  const held = c.heldVerifications.length + c.sentVerifications.length;
  return (
    domainOf(e.from) === undefined ||
    domainOf(e.to) !== domainOf(c.input.remoteDomain) ||
    e.id === '' ||
    /\s/u.test(e.id) ||
    e.key === '' ||
    /\s/u.test(e.key) ||
    held >= c.input.maxVerifications
  );
}
const verificationOf = (e: Ev): Verification | undefined =>
  e.type === 'VERIFY' ? { from: domainOf(e.from)!, to: domainOf(e.to)!, id: e.id, key: e.key, correlation: e.correlation } : undefined;

/**
 * The stanza error for what the runtime still holds when the stream ends (§10.4.3, types.ts
 * StanzaBounce): a `<host-unknown/>` or `<host-gone/>` from the peer means the domain is not
 * served there (as good as not found, §8.3.3.16); a key found invalid, internal-server-error
 * (XEP-0220 §2.1.1); anything else, remote-server-timeout (§8.3.3.17: resolved, but no
 * stream could be negotiated or kept).
 */
export function bounceOf(c: Ctx): StanzaBounce {
  const ended = c.outcome;
  if (ended?.kind === 'error-received' && (ended.condition === 'host-unknown' || ended.condition === 'host-gone')) return 'remote-server-not-found';
  if (c.dialbackRejected) return 'internal-server-error';
  return 'remote-server-timeout';
}

export function initiatingServerOutput({ context }: { context: Ctx }): InitiatingServerOutcome {
  return { ...streamOutput({ context }), bounce: bounceOf(context), ...(context.authenticated !== undefined ? { authenticated: context.authenticated } : {}) };
}

/** Why a verification got no answer (XEP-0220 §2.5 table, §2.1.2 note), for the Receiving Server's pair. */
function verifyFailure(c: Ctx, sent: boolean): VerifyFailure {
  if (bounceOf(c) === 'remote-server-not-found') return 'not-found';
  return sent ? 'connection-lost' : 'connection-failed';
}

interface StreamErrorParams {
  readonly condition: StreamErrorCondition;
  readonly text?: string;
  readonly kind?: StreamOutcome['kind'];
  readonly rfc?: string;
}

export const initiatingServerSetup = streamSetup<Ctx, Ev, InitiatingServerInput, InitiatingServerCommand, { pairDialback: typeof pairDialback }>(
  { isOpen: (c) => c.streamOpen, closed: { streamOpen: false } },
  { pairDialback },
).extend({
  guards: {
    inputInvalid: ({ context }) => domainOf(context.input.domain) === undefined || domainOf(context.input.remoteDomain) === undefined,
    /** §13.7.2: with certificates required, a direct-TLS peer must present one for the remote domain. */
    directTlsPeerRefused: ({ context }) =>
      context.input.secure === true && certificatesRequired(context) && !certificateAuthenticates(context.input.peerCertificate, context.input.remoteDomain).ok,
    headerInvalid: ({ context, event }) => event.type === 'HEADER' && responseHeaderProblem(event.header, context.input.remoteDomain) !== undefined,
    isStreamError: ({ event }) => kindOf(event) === 'stream-error',
    isEmptyFeatures: ({ event }) => event.type === 'ELEMENT' && classifyPeerElement(event.element) === 'features' && event.element.children.every((c) => typeof c === 'string'),
    featuresAuthenticated: decided('authenticated'),
    featuresStarttls: decided('starttls'),
    featuresTlsUnavailable: decided('tls-unavailable'),
    featuresVerifyReady: decided('verify-ready'),
    featuresExternal: decided('external'),
    featuresDialback: decided('dialback'),
    featuresCertificateRequired: decided('certificate-required'),
    featuresNoAuthentication: decided('no-authentication'),
    isProceed: ({ event }) => kindOf(event) === 'tls-proceed',
    isTlsFailure: ({ event }) => kindOf(event) === 'tls-failure',
    /**
     * §13.7.2.1: the reference identity is the 'to' of our header. With certificates required
     * a certificate that does not authenticate it ends the session (§13.7.2 "MUST
     * unilaterally terminate"); with dialback allowed TLS still encrypts, and dialback
     * authenticates the peer through DNS (XEP-0220 §1.2), so the stream goes on.
     */
    peerCertificateRefused: ({ context, event }) =>
      event.type === 'TLS_ESTABLISHED' && certificatesRequired(context) && !certificateAuthenticates(event.peerCertificate, context.input.remoteDomain).ok,
    isChallenge: ({ event }) => kindOf(event) === 'sasl-challenge',
    isSuccess: ({ event }) => kindOf(event) === 'sasl-success',
    isSaslFailure: ({ event }) => kindOf(event) === 'sasl-failure',
    /** XEP-0178 §3 step 11b "or continue with ... dialback": when we may and the peer offered it. */
    dialbackFallback: ({ context }) => context.input.purpose === 'stanzas' && context.dialbackOffered && dialbackPossible(context.input),
    isResultAnswer: ({ context, event }) => dialbackRoute(context, event, true)?.kind === 'result-answer',
    isVerifyAnswer: ({ context, event }) => dialbackRoute(context, event, false)?.kind === 'verify-answer',
    isMalformedDialback: ({ context, event }) => dialbackRoute(context, event, false)?.kind === 'malformed',
    isDialback: ({ event }) => kindOf(event) === 'dialback',
    /** XEP-0220 §2.1.2 note: a verification-only stream is closed once its last answer is in. */
    lastVerification: ({ context }) => context.input.purpose === 'verify' && context.heldVerifications.length === 0 && context.sentVerifications.length === 1,
    pairAuthorizes: ({ event }) => event.type === 'PAIR_COMMAND' && event.command.type === 'pairAuthorized',
    pairEnds: ({ event }) => event.type === 'PAIR_COMMAND' && (event.command.type === 'pairRejected' || event.command.type === 'pairFailed'),
    verifyUnusable: ({ context, event }) => verifyUnusable(context, event),
    /** §2.4.2: the peer did not offer dialback, so it cannot be asked to verify a key. */
    peerWithoutDialback: ({ context }) => !context.dialbackOffered,
    mayWriteStanza: ({ context, event }) =>
      event.type === 'SEND' && context.authenticated !== undefined && context.input.purpose === 'stanzas' && stanzaRefusal(event.stanza, ourPair(context)) === undefined,
    pairAuthenticated: ({ context }) => context.authenticated !== undefined,
    pingReplyAwaited: ({ context, event }) => event.type === 'PING_REPLY' && context.pingId !== undefined && event.id === context.pingId,
    /** §4.4 rule 2 after our graceful close (after a stream error nothing more is processed). */
    closingGracefully: ({ context }) => !context.streamErrorSent,
    inTlsHandshake: stateIn('#initiatingServer.open.negotiating.tlsNegotiation.handshake'),
  },
  actions: {
    /** §4.2 / §4.3.3: our (new) initial header, 'from' our domain and 'to' the remote one (§4.7.1, §4.7.2). */
    openStream: enqueueActions(({ context, enqueue }) => {
      enqueue.emit({ type: 'openStream', header: serverInitialHeader(context.input.domain, context.input.remoteDomain, context.input.lang) });
      enqueue.assign({ streamOpen: true });
    }),
    /** §4.7.3: the stream id, which dialback keys sign (XEP-0220 §2.1.1). */
    rememberResponse: assign(({ event }) => (event.type === 'HEADER' ? { peer: event.header, streamId: event.header.id } : {})),
    /** §4.9.1.1: `<stream:error/>`, then `</stream:stream>`; TCP closes after the peer's closing tag (§4.4). */
    streamError: enqueueActions(({ enqueue }, params: StreamErrorParams) => {
      enqueue.emit({ type: 'send', element: streamErrorElement(params.condition, params.text) });
      enqueue.emit({ type: 'closeStream' });
      enqueue.assign({
        streamOpen: false,
        streamErrorSent: true,
        outcome: outcome(params.kind ?? 'error-sent', params.rfc ?? `6120 §${streamErrorSection(params.condition)}`, params.condition, params.text),
      });
    }),
    /** §4.4: we close first and wait for the peer's closing tag. */
    closeGracefully: enqueueActions(({ enqueue }, params?: StreamOutcome) => {
      enqueue.emit({ type: 'closeStream' });
      enqueue.assign({ streamOpen: false, outcome: params ?? outcome('closed', '6120 §4.4') });
    }),
    /** §4.9.1.1: the peer sent a stream error and closes its stream; we close ours and TCP. */
    answerStreamError: enqueueActions(({ context, event, enqueue }) => {
      const element = elementOf(event);
      const received = element ? readStreamError(element) : { condition: 'undefined-condition' };
      if (context.streamOpen) enqueue.emit({ type: 'closeStream' });
      enqueue.emit({ type: 'closeSocket' });
      enqueue.assign({ streamOpen: false, outcome: outcome('error-received', '6120 §4.9.1.1', received.condition, received.text) });
    }),
    /** §4.3.2: what the features say about dialback, for verification requests and the EXTERNAL fallback. */
    readFeatures: assign(({ event }) => (event.type === 'ELEMENT' ? { dialbackOffered: offeredServerFeatures(event.element).dialback.advertised } : {})),

    // §5.4 ------------------------------------------------------------------------------
    sendStarttls: enqueueActions(({ enqueue }) => enqueue.emit({ type: 'send', element: el('starttls', NS.TLS) })),
    /** §5.4.3.1: the old stream is abandoned without a closing tag; TLS starts on the TCP connection. */
    startTls: enqueueActions(({ enqueue }) => {
      enqueue.emit({ type: 'startTls' });
      enqueue.assign({ streamOpen: false });
    }),
    /** §5.4.3.3: TLS is on; the stream restarts (new parser, the old header forgotten); §13.7.2.1 the certificate is checked. */
    restartAfterTls: enqueueActions(({ context, event, enqueue }) => {
      const cert = event.type === 'TLS_ESTABLISHED' ? event.peerCertificate : undefined;
      enqueue.emit({ type: 'resetParser' });
      enqueue.assign({ secured: true, peerAuthenticated: certificateAuthenticates(cert, context.input.remoteDomain).ok, peer: undefined, streamId: undefined });
    }),
    /** §13.7.2: "unilaterally terminate the session": no stream is open after the handshake, so TCP only. */
    refuseCertificate: enqueueActions(({ context, event, enqueue }, params: { rfc: string }) => {
      const cert = event.type === 'TLS_ESTABLISHED' ? event.peerCertificate : context.input.peerCertificate;
      const verdict = certificateAuthenticates(cert, context.input.remoteDomain);
      enqueue.emit({ type: 'closeSocket' });
      enqueue.assign({ streamOpen: false, outcome: outcome('tls-failed', params.rfc, 'certificate', verdict.ok ? undefined : verdict.reason) });
    }),

    // §6.4 with XEP-0178 §3 -------------------------------------------------------------
    sendExternal: enqueueActions(({ context, enqueue }) => {
      enqueue.emit({ type: 'send', element: externalAuth(context.input.domain, context.input.externalAuthzid) });
    }),
    respondExternal: enqueueActions(({ context, enqueue }) => {
      enqueue.emit({ type: 'send', element: externalResponse(context.input.domain, context.input.externalAuthzid) });
    }),
    /** §6.4.6 / §4.3.3: authenticated; the stream restarts (new parser; our new header on entry of awaitingStreamHeader). */
    restartAfterSuccess: enqueueActions(({ enqueue }) => {
      enqueue.emit({ type: 'resetParser' });
      enqueue.assign({ saslDone: true, peer: undefined, streamId: undefined });
    }),
    markExternalFailed: assign({ externalFailed: true }),
    /** §6.4.5: no other way to authenticate: close the stream (§4.4) with the condition in the outcome. */
    closeAfterSaslFailure: enqueueActions(({ event, enqueue }) => {
      const element = elementOf(event);
      const failure = element ? saslFailureCondition(element) : { condition: 'undefined' };
      enqueue.emit({ type: 'closeStream' });
      enqueue.assign({ streamOpen: false, externalFailed: true, outcome: outcome('auth-failed', '6120 §6.4.5', failure.condition, failure.text) });
    }),
    /** §4.3.5: negotiation complete after the SASL restart: stanzas may go. */
    authenticateExternal: enqueueActions(({ context, enqueue }) => {
      enqueue.emit({ type: 'authenticated', ...ourPair(context), method: 'sasl-external' });
      enqueue.assign({ authenticated: 'sasl-external' });
    }),

    // XEP-0220 ---------------------------------------------------------------------------
    /** Step 4 for our key, to the pair's machine. */
    forwardResult: enqueueActions(({ context, event, enqueue }) => {
      const route = dialbackRoute(context, event, true);
      if (route?.kind === 'result-answer') enqueue.sendTo(DIALBACK_CHILD, { type: 'RESULT', result: route.result });
    }),
    /** The pair machine's command, for the runtime. */
    pairCommand: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'PAIR_COMMAND') return;
      const { command } = event;
      switch (command.type) {
        case 'send':
          enqueue.emit(command);
          return;
        case 'pairAuthorized':
          enqueue.emit({ type: 'authenticated', from: command.from, to: command.to, method: 'dialback' });
          enqueue.assign({ authenticated: 'dialback' });
          return;
        case 'pairRejected':
          enqueue.emit(command);
          enqueue.assign({ dialbackRejected: true });
          return;
        case 'pairFailed':
          enqueue.emit(command);
          return;
      }
    }),
    /**
     * §2.1.1: after 'invalid' (the Receiving Server will close, §2.2.1) or an error or timeout
     * (the stream "stays usable", but carries no other pair of ours): Choice: we close first
     * (§4.4) rather than wait for the peer: the stream has nothing more to carry, and closing
     * now frees the connection even when the peer forgets to. Answers to our `<db:verify/>`
     * requests still in flight are taken while closing (§4.4 rule 2).
     */
    closeAfterDialback: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'PAIR_COMMAND') return;
      const c = event.command;
      const condition = c.type === 'pairRejected' ? 'dialback-invalid' : c.type === 'pairFailed' ? (c.condition ?? `dialback-${c.reason}`) : 'dialback';
      enqueue.emit({ type: 'closeStream' });
      enqueue.assign({ streamOpen: false, outcome: outcome('auth-failed', c.type === 'pairFailed' && c.reason === 'error' ? 'XEP-0220 §2.5' : 'XEP-0220 §2.1.1', condition) });
    }),

    // XEP-0220 §2.1.2: verification requests ------------------------------------------------
    holdVerification: assign(({ context, event }) => {
      const v = verificationOf(event);
      return v === undefined ? {} : { heldVerifications: [...context.heldVerifications, v] };
    }),
    /** Step 2: `<db:verify from=Target to=Sender id=StreamID>key</db:verify>`. */
    sendVerification: enqueueActions(({ context, event, enqueue }) => {
      const v = verificationOf(event);
      if (v === undefined) return;
      enqueue.emit({ type: 'send', element: verifyRequest(v.from, v.to, v.id, v.key) });
      enqueue.assign({ sentVerifications: [...context.sentVerifications, v] });
    }),
    failVerification: enqueueActions(({ event, enqueue }, params: { reason: VerifyFailure }) => {
      if (event.type === 'VERIFY') enqueue.emit({ type: 'verifyFailed', correlation: event.correlation, reason: params.reason });
    }),
    /** The stream is ready (entering dialback or established): the held requests go, or fail when the peer cannot verify. */
    flushVerifications: enqueueActions(({ context, enqueue }) => {
      if (context.heldVerifications.length === 0) return;
      for (const v of context.heldVerifications) {
        if (context.dialbackOffered) enqueue.emit({ type: 'send', element: verifyRequest(v.from, v.to, v.id, v.key) });
        else enqueue.emit({ type: 'verifyFailed', correlation: v.correlation, reason: 'connection-failed' });
      }
      enqueue.assign({
        heldVerifications: [],
        sentVerifications: context.dialbackOffered ? [...context.sentVerifications, ...context.heldVerifications] : context.sentVerifications,
      });
    }),
    /** Step 3: the answer, to the runtime for the incoming stream the correlation names. */
    answerVerification: enqueueActions(({ context, event, enqueue }) => {
      const route = dialbackRoute(context, event, false);
      if (route?.kind !== 'verify-answer') return;
      const v = context.sentVerifications.find((s) => answerKey(s) === route.correlation);
      if (v === undefined) return;
      enqueue.emit({ type: 'verifyAnswer', correlation: v.correlation, valid: route.answer.kind === 'valid', answer: route.answer });
      enqueue.assign({ sentVerifications: context.sentVerifications.filter((s) => s !== v) });
    }),

    // §8, §4.6 ------------------------------------------------------------------------
    sendStanza: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'SEND') enqueue.emit({ type: 'send', element: event.stanza });
    }),
    refuseStanza: enqueueActions(({ context, event, enqueue }, params?: { reason: RefusalReason }) => {
      if (event.type !== 'SEND') return;
      const reason: RefusalReason =
        params?.reason ??
        (context.authenticated === undefined || context.input.purpose === 'verify' ? 'not-authenticated' : (stanzaRefusal(event.stanza, ourPair(context)) ?? 'not-a-stanza'));
      enqueue.emit({ type: 'stanzaRefused', stanza: event.stanza, reason });
    }),
    /** XEP-0199 §4.3: a ping to the peer's domain; its answer comes on the peer's stream to us (PING_REPLY). */
    sendPing: enqueueActions(({ context, enqueue }) => {
      const id = newPingId(context.input.random);
      enqueue.assign({ pingId: id });
      enqueue.emit({ type: 'send', element: serverPing(id, context.input.domain, context.input.remoteDomain) });
    }),
    /**
     * The final state's entry (replaces the shared one): every verification still held or
     * awaiting an answer fails (XEP-0220 §2.1.2 note: "considered failed"), then the outcome
     * with the bounce for the pair's queue (§10.4.3).
     */
    emitEnded: enqueueActions(({ context, enqueue }) => {
      for (const v of context.heldVerifications) enqueue.emit({ type: 'verifyFailed', correlation: v.correlation, reason: verifyFailure(context, false) });
      for (const v of context.sentVerifications) enqueue.emit({ type: 'verifyFailed', correlation: v.correlation, reason: verifyFailure(context, true) });
      enqueue.emit({ type: 'ended', outcome: initiatingServerOutput({ context }) });
    }),
  },
});
