/**
 * The receiving entity's implementations: guards and actions (what each transition of
 * ./machine.ts does), on top of the stream rules both ends share (../stream/setup.ts).
 * Every protocol decision they make is cited where it is made.
 */
import { assign, enqueueActions, stateIn } from 'xstate';
import { conditionOf, streamErrorSection, type StreamErrorCondition } from '../conditions.js';
import { NS } from '../ns.js';
import type { Command, StreamOutcome } from '../protocol.js';
import { el, type XmlElement } from '../xml.js';
import {
  authStep,
  authorizedBareJid,
  challengeElement,
  credentialsStep,
  responseStep,
  saslFailureElement,
  successCheck,
  successElement,
} from './auth.js';
import { bindError, bindResult, decideBinding, DEFAULT_MAX_BIND_ATTEMPTS, generateResource, parseBindRequest } from './bind.js';
import { classifyElement, unexpectedElementCondition, type ElementKind } from './elements.js';
import { streamErrorElementFor } from './errors.js';
import { stageOf, tlsOffered, featuresElement } from './features.js';
import { headerError, newStreamId, responseHeader } from './header.js';
import { fromIsValid, isPingReply, newPingId, pingElement, stampStanza } from './stanza.js';
import { outcome } from '../stream/outcome.js';
import { streamSetup } from '../stream/setup.js';
import type { PendingSaslStep, ReceivingEntityContext, ReceivingEntityEvent, ReceivingEntityMachineInput } from './types.js';

type Ctx = ReceivingEntityContext;
type Ev = ReceivingEntityEvent;

const elementOf = (e: Ev): XmlElement | undefined => (e.type === 'ELEMENT' ? e.element : undefined);
export const kindOf = (e: Ev): ElementKind | undefined => (e.type === 'ELEMENT' ? classifyElement(e.element) : undefined);
/** streamError params for an element the current state does not accept: the condition its kind calls for (§4.9.3). */
export const unexpectedElementError = ({ event }: { event: Ev }) => ({ condition: unexpectedElementCondition(kindOf(event) ?? 'other') });
const saslCtx = (c: Ctx) => ({ random: c.input.random, ...(c.input.fakeSaltSecret !== undefined ? { fakeSaltSecret: c.input.fakeSaltSecret } : {}) });
const maxBindAttempts = (c: Ctx) => c.input.maxBindAttempts ?? DEFAULT_MAX_BIND_ATTEMPTS;
const bindingFor = (c: Ctx, e: Ev) =>
  e.type === 'RESOURCE_STATUS' && c.pendingBind !== undefined && e.resource === c.pendingBind.resource
    ? decideBinding(c.pendingBind, e, c.input)
    : undefined;

/** §6.4.6 checks applied to every success a mechanism reports (see successCheck). */
function checked(step: PendingSaslStep, c: Ctx): PendingSaslStep {
  if (step.kind !== 'success') return step;
  return successCheck(step, c.input.domain, c.peer, c.secured) ?? step;
}

/** §4.9.1.2: the response header to write first when our stream is not open yet (fresh id, §4.7.3). */
function openIfNeeded(c: Ctx): { assign: { headerSent: true; streamId: string }; command: Command } | undefined {
  if (c.headerSent) return undefined;
  const id = newStreamId(c.input.random);
  return { assign: { headerSent: true, streamId: id }, command: { type: 'openStream', header: responseHeader(c.peer, c.input.domain, id) } };
}

/** Parameters of the stream error procedure. */
interface StreamErrorParams {
  readonly condition: StreamErrorCondition;
  readonly text?: string;
  readonly kind?: StreamOutcome['kind'];
}

export const receivingEntitySetup = streamSetup<Ctx, Ev, ReceivingEntityMachineInput>({ isOpen: (c) => c.headerSent, closed: {} }).extend({
  guards: {
    headerInvalid: ({ context, event }) => event.type === 'HEADER' && headerError(event.header, context.input.domain) !== undefined,
    stageTlsRequired: ({ context }) => stageOf(context.input, context.secured, context.authenticated) === 'tls-required',
    stageSasl: ({ context }) => stageOf(context.input, context.secured, context.authenticated) === 'sasl',
    tlsOffered: ({ context }) => tlsOffered(context.input, context.secured, context.authenticated),
    isStreamError: ({ event }) => kindOf(event) === 'stream-error',
    isStarttls: ({ event }) => kindOf(event) === 'starttls',
    isAuth: ({ event }) => kindOf(event) === 'auth',
    isResponse: ({ event }) => kindOf(event) === 'response',
    isAbort: ({ event }) => kindOf(event) === 'abort',
    isSaslOutOfTurn: ({ event }) => kindOf(event) === 'response' || kindOf(event) === 'sasl-other',
    isBindRequest: ({ event }) => kindOf(event) === 'bind-request',
    bindRequestValid: ({ event }) => event.type === 'ELEMENT' && parseBindRequest(event.element).ok,
    isStanza: ({ event }) => kindOf(event) === 'stanza',
    fromInvalid: ({ context, event }) => event.type === 'ELEMENT' && context.boundJid !== undefined && !fromIsValid(event.element, context.boundJid),
    isPingReply: ({ context, event }) => event.type === 'ELEMENT' && isPingReply(event.element, context.pingId),
    credentialsAwaited: ({ context, event }) => event.type === 'CREDENTIALS' && event.username === context.lookupUsername,
    stepIsLookup: ({ context }) => context.saslStep?.kind === 'lookup',
    stepIsChallenge: ({ context }) => context.saslStep?.kind === 'challenge',
    stepIsSuccess: ({ context }) => context.saslStep?.kind === 'success',
    lastAuthAttempt: ({ context }) => context.authFailures + 1 >= context.input.maxAuthAttempts,
    lastBindAttempt: ({ context }) => context.bindFailures + 1 >= maxBindAttempts(context),
    bindAccepted: ({ context, event }) => bindingFor(context, event)?.kind === 'bind',
    bindRegenerate: ({ context, event }) => bindingFor(context, event)?.kind === 'regenerate',
    bindRefused: ({ context, event }) => bindingFor(context, event)?.kind === 'error',
    inTlsHandshake: stateIn('#receivingEntity.open.negotiating.tlsNegotiation.handshake'),
  },
  actions: {
    /** §4.2 response header with a fresh id (§4.7.3), then §4.3.2 / §4.3.4 features. */
    openStreamWithFeatures: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'HEADER') return;
      const id = newStreamId(context.input.random);
      enqueue.assign({ peer: event.header, headerSent: true, streamId: id });
      enqueue.emit({ type: 'openStream', header: responseHeader(event.header, context.input.domain, id) });
      enqueue.emit({ type: 'send', element: featuresElement(context.input, context.secured, context.authenticated) });
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
      enqueue.assign({
        outcome: outcome(params.kind ?? 'error-sent', `6120 §${streamErrorSection(params.condition)}`, params.condition, params.text),
      });
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
    tlsFailure: enqueueActions(({ context, enqueue }) => {
      const open = openIfNeeded(context);
      if (open) {
        enqueue.assign(open.assign);
        enqueue.emit(open.command);
      }
      enqueue.emit({ type: 'send', element: el('failure', NS.TLS) });
      enqueue.emit({ type: 'closeStream' });
      enqueue.assign({ outcome: outcome('tls-failed', '6120 §5.4.2.2', 'failure', 'STARTTLS not offered') });
    }),

    // §5.4.2.3 / §5.4.3.3 -------------------------------------------------------------
    proceedWithTls: enqueueActions(({ enqueue }) => {
      enqueue.emit({ type: 'send', element: el('proceed', NS.TLS) });
      enqueue.emit({ type: 'startTls' });
    }),
    /** §4.3.3 restart: the old stream is replaced; §5.4.3.3 rule 2: forget what the peer said before. */
    restartStream: assign({ headerSent: false, streamId: undefined, peer: undefined }),

    // §6.4 -----------------------------------------------------------------------------
    evaluateAuth: assign({
      saslStep: ({ context, event }) =>
        event.type === 'ELEMENT' ? checked(authStep(event.element, context.input, context.secured, saslCtx(context)), context) : undefined,
      // §6.4.2: a new <auth/> discards the handshake in progress.
      sasl: undefined,
      lookupUsername: undefined,
    }),
    evaluateCredentials: assign({
      saslStep: ({ context, event }) =>
        event.type === 'CREDENTIALS' && context.sasl !== undefined
          ? checked(credentialsStep(context.sasl, event, saslCtx(context)), context)
          : { kind: 'failure', condition: 'temporary-auth-failure' },
      lookupUsername: undefined,
    }),
    evaluateResponse: assign({
      saslStep: ({ context, event }) =>
        event.type === 'ELEMENT' && context.sasl !== undefined
          ? checked(responseStep(context.sasl, event.element, saslCtx(context)), context)
          : { kind: 'failure', condition: 'malformed-request' },
    }),
    /** §6.4.4 abort → aborted; a `<response/>` (or a server-only SASL element) with no challenge outstanding → malformed-request (§6.5.8). */
    failOutOfTurn: assign({
      saslStep: ({ event }): PendingSaslStep => ({ kind: 'failure', condition: kindOf(event) === 'abort' ? 'aborted' : 'malformed-request' }),
      sasl: undefined,
      lookupUsername: undefined,
    }),
    lookupCredentials: enqueueActions(({ context, enqueue }) => {
      const step = context.saslStep;
      if (step?.kind !== 'lookup') return;
      enqueue.assign({ sasl: step.state, lookupUsername: step.username, saslStep: undefined });
      enqueue.emit({ type: 'lookupCredentials', username: step.username });
    }),
    sendChallenge: enqueueActions(({ context, enqueue }) => {
      const step = context.saslStep;
      if (step?.kind !== 'challenge') return;
      enqueue.assign({ sasl: step.state, saslStep: undefined });
      enqueue.emit({ type: 'send', element: challengeElement(step.data) });
    }),
    /** §6.4.6: `<success/>`, then the stream restarts (§6.3.2): reset the parser for a new header. */
    sendSuccess: enqueueActions(({ context, enqueue }) => {
      const step = context.saslStep;
      if (step?.kind !== 'success') return;
      const username = authorizedBareJid(step.username, context.input.domain).split('@')[0]!;
      enqueue.emit({ type: 'send', element: successElement(step.additionalData) });
      enqueue.emit({ type: 'authenticated', username, ...(step.authzid ? { authzid: step.authzid } : {}) });
      enqueue.emit({ type: 'resetParser' });
      enqueue.assign({ authenticated: true, username, sasl: undefined, saslStep: undefined, headerSent: false, streamId: undefined, peer: undefined });
    }),
    /** §6.4.5: `<failure/>` with the condition; every failure counts toward maxAuthAttempts. */
    sendSaslFailure: enqueueActions(({ context, enqueue }) => {
      const step = context.saslStep;
      if (step?.kind !== 'failure') return;
      enqueue.emit({ type: 'send', element: saslFailureElement(step.condition, step.text) });
      enqueue.assign({ authFailures: context.authFailures + 1, sasl: undefined, saslStep: undefined, lookupUsername: undefined });
    }),

    // §7 -----------------------------------------------------------------------------
    /** §7.6.1 / §7.7.1: take the request, generate a resourcepart if none was submitted (§7.6), ask the registry. */
    queryResource: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ELEMENT' || context.username === undefined) return;
      const request = parseBindRequest(event.element);
      if (!request.ok) return;
      const submitted = request.resource !== undefined;
      const resource = request.resource ?? generateResource(context.input.random);
      enqueue.assign({ pendingBind: { iqId: request.iqId, resource, submitted, regenerations: 0 } });
      enqueue.emit({ type: 'queryResource', username: context.username, resource });
    }),
    /** §7.6 / §7.7.2.2 #1: a fresh server-generated resourcepart, asked about again. */
    regenerateResource: enqueueActions(({ context, enqueue }) => {
      const pending = context.pendingBind;
      if (pending === undefined || context.username === undefined) return;
      const resource = generateResource(context.input.random);
      enqueue.assign({
        pendingBind: { ...pending, resource, submitted: false, regenerations: pending.submitted ? 0 : pending.regenerations + 1 },
      });
      enqueue.emit({ type: 'queryResource', username: context.username, resource });
    }),
    /** §7.6.1 / §7.7.1: register the full JID for routing, then answer the IQ. */
    bindResource: enqueueActions(({ context, event, enqueue }) => {
      const decision = bindingFor(context, event);
      if (decision?.kind !== 'bind' || context.username === undefined || context.pendingBind === undefined) return;
      const jid = `${authorizedBareJid(context.username, context.input.domain)}/${decision.resource}`;
      enqueue.emit({ type: 'bound', jid, replace: decision.replace });
      enqueue.emit({ type: 'send', element: bindResult(context.pendingBind.iqId, jid) });
      enqueue.assign({ boundJid: jid, pendingBind: undefined });
    }),
    /** §7.6.2 / §7.7.2: the stanza error; it counts toward the §7.7.3 retry limit. */
    sendBindError: enqueueActions(({ context, event, enqueue }) => {
      const decision = bindingFor(context, event);
      const condition = decision?.kind === 'error' ? decision.condition : 'bad-request';
      const iqId = event.type === 'ELEMENT' ? event.element.attrs['id'] : context.pendingBind?.iqId;
      enqueue.emit({ type: 'send', element: bindError(iqId, condition) });
      enqueue.assign({ bindFailures: context.bindFailures + 1, pendingBind: undefined });
    }),

    // §8, §4.6 ------------------------------------------------------------------------
    /** §8.1.2.1: stamp 'from' and hand the stanza to the router. */
    deliver: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ELEMENT' || context.boundJid === undefined) return;
      enqueue.emit({ type: 'deliver', stanza: stampStanza(event.element, context.boundJid, context.peer?.lang) });
    }),
    writeRoutedStanza: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'ROUTE_IN') enqueue.emit({ type: 'send', element: event.stanza });
    }),
    sendPing: enqueueActions(({ context, enqueue }) => {
      if (context.boundJid === undefined) return;
      const id = newPingId(context.input.random);
      enqueue.assign({ pingId: id });
      enqueue.emit({ type: 'send', element: pingElement(id, context.input.domain, context.boundJid) });
    }),
  },
});
