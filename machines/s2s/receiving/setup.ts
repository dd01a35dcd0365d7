/**
 * The receiving server's implementations: guards and actions (what each transition of
 * ./machine.ts does), on top of the stream rules both ends share (../../stream/setup.ts).
 * Every protocol decision they make is cited where it is made.
 */
import { assign, enqueueActions, stateIn } from 'xstate';
import { conditionOf, streamErrorSection, type StreamErrorCondition } from '../../conditions.js';
import { authoritativeVerify } from '../../dialback/authoritative.js';
import { pairKey, routeIncoming, type IncomingRoute } from '../../dialback/pairs.js';
import { NS } from '../../ns.js';
import type { StreamOutcome } from '../../protocol.js';
import { streamErrorElementFor } from '../../receiving/errors.js';
import { newStreamId } from '../../receiving/header.js';
import { outcome } from '../../stream/outcome.js';
import { streamSetup } from '../../stream/setup.js';
import { el, text, type XmlElement } from '../../xml.js';
import { checkInitialHeader, domainOf, serverResponseHeader } from '../header.js';
import { challengeElement, externalAuth, externalResponse, saslFailureElement, successElement } from './auth.js';
import { pairActorId, pairDialback } from './dialback.js';
import { externalOffered, featuresElement, stageOf, tlsRequired } from './features.js';
import { classifyServerElement, newPingId, stanzaError, unexpectedServerElementCondition, type ServerElementKind } from './stanza.js';
import type { ExternalStep, ReceivingServerCommand, ReceivingServerContext, ReceivingServerEvent, ReceivingServerInput } from './types.js';

type Ctx = ReceivingServerContext;
type Ev = ReceivingServerEvent;

const elementOf = (e: Ev): XmlElement | undefined => (e.type === 'ELEMENT' ? e.element : undefined);
export const kindOf = (e: Ev): ServerElementKind | undefined => (e.type === 'ELEMENT' ? classifyServerElement(e.element) : undefined);
/** streamError params for an element the current state does not accept (§4.9.3). */
export const unexpectedElementError = ({ event }: { event: Ev }) => ({ condition: unexpectedServerElementCondition(kindOf(event) ?? 'other') });

/** The domain pairs on this stream, authenticated or being verified (XEP-0220 §2.6). */
const knownPairs = (c: Ctx) => new Set([...c.authorized, ...c.verifying]);
const dialbackRoute = (c: Ctx, e: Ev): IncomingRoute | undefined =>
  e.type === 'ELEMENT' && kindOf(e) === 'dialback' ? routeIncoming(e.element, knownPairs(c)) : undefined;
const stanzaProblem = (c: Ctx, e: Ev) => (e.type === 'ELEMENT' && kindOf(e) === 'stanza' ? stanzaError(e.element, c.authorized) : undefined);
const headerVerdict = (c: Ctx, e: Ev) =>
  e.type === 'HEADER'
    ? checkInitialHeader(e.header, { hostedDomains: c.input.hostedDomains, secured: c.secured, dialbackAllowed: c.input.dialback.dialbackAllowed })
    : undefined;
/** streamError params for a header checkInitialHeader refused (../header.ts). */
export const headerErrorParams = ({ context, event }: { context: Ctx; event: Ev }) => {
  const verdict = headerVerdict(context, event);
  return { condition: verdict?.ok === false ? verdict.condition : ('bad-format' as const) };
};
const externalView = (c: Ctx) => ({ secured: c.secured, certificate: c.peerCertificate, peerDomain: c.peerDomain });
const withoutPair = (list: readonly string[], pair: string) => list.filter((p) => p !== pair);

/** §4.9.1.3: the response 'from' is the hosted domain asked for, else our first one. */
const ourDomain = (c: Ctx) => c.localDomain ?? c.input.hostedDomains[0] ?? '';

/** §4.9.1.2: the response header to write first when our stream is not open yet (fresh id, §4.7.3). */
function openIfNeeded(c: Ctx) {
  if (c.headerSent) return undefined;
  const id = newStreamId(c.input.random);
  const header = serverResponseHeader(c.peer, ourDomain(c), domainOf(c.peer?.from), id);
  return { assign: { headerSent: true, streamId: id }, command: { type: 'openStream', header } } as const;
}

interface StreamErrorParams {
  readonly condition: StreamErrorCondition;
  readonly text?: string;
  readonly kind?: StreamOutcome['kind'];
}

export const receivingServerSetup = streamSetup<Ctx, Ev, ReceivingServerInput, ReceivingServerCommand, { pairDialback: typeof pairDialback }>(
  { isOpen: (c) => c.headerSent, closed: {} },
  { pairDialback },
).extend({
  guards: {
    headerInvalid: ({ context, event }) => headerVerdict(context, event)?.ok === false,
    /**
     * XEP-0178 §3 step 9 "MAY either close ... or continue with dialback": with certificates
     * required (no dialback) and a certificate that authenticates no domain the header claims,
     * nothing could authenticate the peer, so the stream ends here with `<not-authorized/>`
     * (§4.9.3.12) rather than features that offer nothing.
     */
    nothingCanAuthenticate: ({ context, event }) => {
      const verdict = headerVerdict(context, event);
      return (
        verdict?.ok === true &&
        context.saslDomain === undefined &&
        context.secured &&
        !context.input.dialback.dialbackAllowed &&
        !externalOffered(context.secured, context.peerCertificate, verdict.from)
      );
    },
    stageTlsRequired: ({ context }) => stageOf(context.input, context.secured, context.saslDomain !== undefined) === 'tls-required',
    stageAuthenticated: ({ context }) => stageOf(context.input, context.secured, context.saslDomain !== undefined) === 'authenticated',
    /** A voluntary STARTTLS (§5.4.1), only while no pair exists: the restart would discard them (§4.3.3). */
    tlsOffered: ({ context }) => !context.secured && !tlsRequired(context.input) && context.authorized.length + context.verifying.length === 0,
    isStreamError: ({ event }) => kindOf(event) === 'stream-error',
    isStarttls: ({ event }) => kindOf(event) === 'starttls',
    isAuth: ({ event }) => kindOf(event) === 'auth',
    isResponse: ({ event }) => kindOf(event) === 'response',
    isAbort: ({ event }) => kindOf(event) === 'abort',
    isSaslOutOfTurn: ({ event }) => kindOf(event) === 'response' || kindOf(event) === 'sasl-other',
    isStanza: ({ event }) => kindOf(event) === 'stanza',
    isDialback: ({ event }) => kindOf(event) === 'dialback',
    isResultRequest: ({ context, event }) => dialbackRoute(context, event)?.kind === 'result-request',
    isDuplicateResult: ({ context, event }) => dialbackRoute(context, event)?.kind === 'duplicate',
    isVerifyRequest: ({ context, event }) => dialbackRoute(context, event)?.kind === 'verify-request',
    isMalformedDialback: ({ context, event }) => dialbackRoute(context, event)?.kind === 'malformed',
    improperAddressing: ({ context, event }) => stanzaProblem(context, event) === 'improper-addressing',
    hostUnknown: ({ context, event }) => stanzaProblem(context, event) === 'host-unknown',
    invalidFrom: ({ context, event }) => stanzaProblem(context, event) === 'invalid-from',
    addressedToAuthorizedPair: ({ context, event }) => kindOf(event) === 'stanza' && stanzaProblem(context, event) === undefined,
    stepIsChallenge: ({ context }) => context.saslStep?.kind === 'challenge',
    stepIsSuccess: ({ context }) => context.saslStep?.kind === 'success',
    lastAuthAttempt: ({ context }) => context.authFailures + 1 >= context.input.maxAuthAttempts,
    /** §3.1: an answer for a pair we are not verifying is unsolicited. */
    verificationAwaited: ({ context, event }) =>
      (event.type === 'VERIFY_ANSWER' && context.verifying.includes(pairKey(event.answer))) ||
      (event.type === 'VERIFY_FAILED' && context.verifying.includes(pairKey(event)) ),
    pairAuthorizes: ({ event }) => event.type === 'PAIR_COMMAND' && event.command.type === 'pairAuthorized',
    pairClosesStream: ({ event }) => event.type === 'PAIR_COMMAND' && event.command.type === 'pairRejected' && event.command.closeStream,
    pingReplyAwaited: ({ context, event }) => event.type === 'PING_REPLY' && context.pingId !== undefined && event.id === context.pingId,
    /** §4.4 rule 2 after our graceful close (not after a stream error, §4.9.3.12). */
    closingGracefully: ({ context }) => context.outcome?.kind === 'closed' && context.authorized.length > 0,
    inTlsHandshake: stateIn('#receivingServer.open.negotiating.tlsNegotiation.handshake'),
  },
  actions: {
    /** §4.2 response header (§4.7 with domains, fresh id §4.7.3), then the features of this stage (§4.3.2). */
    openStreamWithFeatures: enqueueActions(({ context, event, enqueue }) => {
      const verdict = headerVerdict(context, event);
      if (event.type !== 'HEADER' || verdict?.ok !== true) return;
      const id = newStreamId(context.input.random);
      const saslDone = context.saslDomain !== undefined;
      enqueue.assign({ peer: event.header, localDomain: verdict.to, peerDomain: verdict.from, headerSent: true, streamId: id });
      enqueue.emit({ type: 'openStream', header: serverResponseHeader(event.header, verdict.to, verdict.from, id) });
      const features = featuresElement({
        stage: stageOf(context.input, context.secured, saslDone),
        offerTls: !context.secured && !tlsRequired(context.input) && context.authorized.length + context.verifying.length === 0,
        offerExternal: !saslDone && externalOffered(context.secured, context.peerCertificate, verdict.from),
        dialbackAllowed: context.input.dialback.dialbackAllowed,
      });
      enqueue.emit({ type: 'send', element: features });
    }),
    /** §4.9.1.1: `<stream:error/>`, then `</stream:stream>`; the TCP close waits for the peer (§4.4). */
    streamError: enqueueActions(({ context, enqueue }, params: StreamErrorParams) => {
      const open = openIfNeeded(context);
      if (open) {
        enqueue.assign(open.assign);
        enqueue.emit(open.command);
      }
      enqueue.emit({ type: 'send', element: streamErrorElementFor(params.condition, params.text) });
      enqueue.emit({ type: 'closeStream' });
      enqueue.assign({ outcome: outcome(params.kind ?? 'error-sent', `6120 §${streamErrorSection(params.condition)}`, params.condition, params.text) });
    }),
    /** §4.4: we close first and wait for the peer's closing tag. */
    closeGracefully: enqueueActions(({ context, enqueue }) => {
      const open = openIfNeeded(context);
      if (open) {
        enqueue.assign(open.assign);
        enqueue.emit(open.command);
      }
      enqueue.emit({ type: 'closeStream' });
      enqueue.assign({ outcome: outcome('closed', '6120 §4.4') });
    }),
    /** §4.9.1.1: the peer sent a stream error and closed its stream; close ours and TCP. */
    answerStreamError: enqueueActions(({ context, event, enqueue }) => {
      const element = elementOf(event);
      const condition = element !== undefined ? conditionOf(element, NS.STREAM_ERRORS) : undefined;
      if (context.headerSent) enqueue.emit({ type: 'closeStream' });
      enqueue.emit({ type: 'closeSocket' });
      enqueue.assign({ outcome: outcome('error-received', '6120 §4.9.1.1', condition) });
    }),
    /** §5.4.2.2: `<failure xmlns=tls/>`, close the stream, then TCP (after the peer's close, §4.4). */
    tlsFailure: enqueueActions(({ enqueue }) => {
      enqueue.emit({ type: 'send', element: el('failure', NS.TLS) });
      enqueue.emit({ type: 'closeStream' });
      enqueue.assign({ outcome: outcome('tls-failed', '6120 §5.4.2.2', 'failure', 'STARTTLS not offered') });
    }),

    // §5.4.2.3 / §5.4.3.3 -------------------------------------------------------------
    proceedWithTls: enqueueActions(({ enqueue }) => {
      enqueue.emit({ type: 'send', element: el('proceed', NS.TLS) });
      enqueue.emit({ type: 'startTls' });
    }),
    /** §4.3.3 restart, §5.4.3.3 rule 2: forget what the peer said before; keep what TLS showed (§13.7.2.1). */
    tlsEstablished: assign(({ event }) => ({
      secured: true,
      peerCertificate: event.type === 'TLS_ESTABLISHED' ? event.peerCertificate : undefined,
      headerSent: false,
      streamId: undefined,
      peer: undefined,
    })),

    // §6.4 with XEP-0178 §3 --------------------------------------------------------------
    evaluateAuth: assign({
      saslStep: ({ context, event }) => (event.type === 'ELEMENT' ? externalAuth(event.element, externalView(context)) : undefined),
      // §6.4.2: a new <auth/> discards the exchange in progress.
      challenged: false,
    }),
    evaluateResponse: assign({
      saslStep: ({ context, event }): ExternalStep =>
        event.type === 'ELEMENT' && context.challenged ? externalResponse(text(event.element), externalView(context)) : { kind: 'failure', condition: 'malformed-request' },
      challenged: false,
    }),
    /** §6.4.4 abort → aborted; a `<response/>` (or a server-only SASL element) with no challenge outstanding → malformed-request (§6.5.8). */
    failOutOfTurn: assign({
      saslStep: ({ event }): ExternalStep => ({ kind: 'failure', condition: kindOf(event) === 'abort' ? 'aborted' : 'malformed-request' }),
      challenged: false,
    }),
    /** §6.4.2: no initial response: an empty challenge asks for the authzid. */
    sendChallenge: enqueueActions(({ enqueue }) => {
      enqueue.emit({ type: 'send', element: challengeElement('') });
      enqueue.assign({ challenged: true, saslStep: undefined });
    }),
    /** §6.4.6: `<success/>`, the pair is authenticated, then the stream restarts (§6.3.2): reset the parser. */
    sendSuccess: enqueueActions(({ context, enqueue }) => {
      const step = context.saslStep;
      if (step?.kind !== 'success') return;
      const to = ourDomain(context);
      enqueue.emit({ type: 'send', element: successElement(undefined) });
      enqueue.emit({ type: 'authenticated', from: step.domain, to, method: 'sasl-external' });
      enqueue.emit({ type: 'resetParser' });
      enqueue.assign({
        saslDomain: step.domain,
        authorized: [...context.authorized, pairKey({ from: step.domain, to })],
        saslStep: undefined,
        headerSent: false,
        streamId: undefined,
        peer: undefined,
      });
    }),
    /** §6.4.5: `<failure/>` with the condition; every failure counts toward maxAuthAttempts. */
    sendSaslFailure: enqueueActions(({ context, enqueue }) => {
      const step = context.saslStep;
      if (step?.kind !== 'failure') return;
      enqueue.emit({ type: 'send', element: saslFailureElement(step.condition, step.text) });
      enqueue.assign({ authFailures: context.authFailures + 1, saslStep: undefined, challenged: false });
    }),

    // XEP-0220 ---------------------------------------------------------------------------
    /** §2.2.1: a key for a new pair: its own receivingDialback (multiplexing, §2.6), given the request. */
    startPair: enqueueActions(({ context, event, enqueue }) => {
      const route = dialbackRoute(context, event);
      if (route?.kind !== 'result-request' || context.streamId === undefined) return;
      const id = pairActorId(route.pair);
      enqueue.spawnChild('pairDialback', {
        id,
        input: {
          pair: route.pair,
          dialback: {
            streamId: context.streamId,
            hosted: context.input.hostedDomains,
            secured: context.secured,
            pairsOnStream: context.authorized.length + context.verifying.length,
            // §2.5 policy-violation before TLS whenever the stream requires TLS.
            policy: { ...context.input.dialback, requireTls: context.input.dialback.requireTls || tlsRequired(context.input) },
          },
        },
      });
      enqueue.assign({ verifying: [...context.verifying, route.pair] });
      enqueue.sendTo(id, { type: 'REQUEST', request: route.request });
    }),
    /** §2.2.2: we are the Authoritative Server for the request's 'to'; one element in, one out. */
    answerVerify: enqueueActions(({ context, event, enqueue }) => {
      const route = dialbackRoute(context, event);
      if (route?.kind !== 'verify-request') return;
      enqueue.emit({ type: 'send', element: authoritativeVerify(route.request, context.input.secretFor).element });
    }),
    /** §2.1.2 Step 3 to the pair it answers; §2.2.1 needs to know whether other pairs are verified. */
    forwardVerification: enqueueActions(({ context, event, enqueue }) => {
      if (event.type === 'VERIFY_ANSWER') {
        const pair = pairKey(event.answer);
        enqueue.sendTo(pairActorId(pair), { type: 'VERIFY_ANSWER', answer: event.answer, otherPairsAuthorized: context.authorized.length > 0 });
      } else if (event.type === 'VERIFY_FAILED') {
        enqueue.sendTo(pairActorId(pairKey(event)), { type: 'VERIFY_FAILED', reason: event.reason });
      }
    }),
    /** A pair machine's command, for the runtime; its verdict updates the pair table and ends the child. */
    pairCommand: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'PAIR_COMMAND') return;
      const { command, pair } = event;
      switch (command.type) {
        case 'send':
        case 'verify':
          enqueue.emit(command);
          return;
        case 'pairAuthorized':
          enqueue.emit({ type: 'authenticated', from: command.from, to: command.to, method: 'dialback' });
          enqueue.assign({ authorized: [...context.authorized, pair], verifying: withoutPair(context.verifying, pair) });
          break;
        case 'pairRejected':
        case 'pairFailed':
          enqueue.emit(command);
          enqueue.assign({ verifying: withoutPair(context.verifying, pair) });
          break;
      }
      enqueue.stopChild(pairActorId(pair));
    }),

    // §8, §4.6 ------------------------------------------------------------------------
    /** §8.1.1.2, §8.1.2.2: addresses checked; the stanza goes to §10 routing as it came (servers stamp nothing). */
    deliver: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'ELEMENT') enqueue.emit({ type: 'deliver', stanza: event.element });
    }),
    /** XEP-0199 §4.3: ping the peer's domain from ours, over our outgoing stream (the runtime's). */
    sendPing: enqueueActions(({ context, enqueue }) => {
      const [first] = context.authorized;
      if (first === undefined) return;
      const [peerDomain, localDomain] = first.split(' ') as [string, string];
      const id = newPingId(context.input.random);
      enqueue.assign({ pingId: id });
      enqueue.emit({ type: 'pingPeer', from: localDomain, to: peerDomain, id });
    }),
  },
});
