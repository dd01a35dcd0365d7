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
 * which carries those transitions' `meta.rfc`; this file places it and supplies what differs.
 *
 * Stanzas before `online`: SEND events that arrive before the stream is bound are dropped
 * (§4.3.5: the initiating entity MUST NOT send stanzas before negotiation completes; §7.1:
 * nor before a resource is bound). The machine keeps no queue, so that its context stays
 * bounded; the runtime holds the application's stanzas until it sees the `online` command.
 */
import { and, assign, enqueueActions, not, setup, stateIn } from 'xstate';
import { streamErrorElement, streamErrorSection, type StreamErrorCondition } from '../conditions.js';
import { NS } from '../ns.js';
import type { Command, StreamOutcome } from '../protocol.js';
import { el, type XmlElement } from '../xml.js';
import { abortElement, authElement, authzidOf, challengeStep, responseElement, saslFailureCondition, startStep, successStep } from './auth.js';
import { bindableAccounts, bindRequest, newStanzaId, readBindReply } from './bind.js';
import { decideFeatures, offeredFeatures, type FeatureDecision } from './features.js';
import { identityOf, initialHeader, responseHeaderProblem } from './header.js';
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
import { outcome, streamDelays, streamGuards, streamOutput } from '../stream/outcome.js';
import { closedState, closingState, livenessRegion, plaintextIgnored, tlsHandshakeTimeout, transportLost } from '../stream/states.js';
import type { InitiatingEntityContext, InitiatingEntityEvent, InitiatingEntityMachineInput, PendingClientStep } from './types.js';

type Ctx = InitiatingEntityContext;
type Ev = InitiatingEntityEvent;

const elementOf = (e: Ev): XmlElement | undefined => (e.type === 'ELEMENT' ? e.element : undefined);
const kindOf = (e: Ev): ServerElementKind | undefined => (e.type === 'ELEMENT' ? classifyServerElement(e.element) : undefined);
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

export const initiatingEntityMachine = setup({
  types: {
    context: {} as Ctx,
    events: {} as Ev,
    input: {} as InitiatingEntityMachineInput,
    emitted: {} as Command,
    output: {} as StreamOutcome,
  },
  delays: streamDelays,
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
    ...streamGuards,
  },
  actions: {
    /** §4.2 / §4.3.3: our (new) initial stream header. */
    openStream: enqueueActions(({ context, enqueue }) => {
      if (context.identity === undefined) return;
      enqueue.emit({ type: 'openStream', header: initialHeader(context.identity, context.input, context.secured) });
      enqueue.assign({ streamOpen: true });
    }),
    rememberHeader: assign({ peer: ({ event }) => (event.type === 'HEADER' ? event.header : undefined) }),
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
    /** §4.4 step 4 for the peer that closed first: our reciprocal tag, then TCP. */
    answerClose: enqueueActions(({ context, enqueue }) => {
      if (context.streamOpen) enqueue.emit({ type: 'closeStream' });
      enqueue.emit({ type: 'closeSocket' });
      enqueue.assign({ streamOpen: false, outcome: outcome('closed', '6120 §4.4') });
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
    closeSocket: enqueueActions(({ enqueue }) => enqueue.emit({ type: 'closeSocket' })),
    recordOutcome: assign({ outcome: (_, params: StreamOutcome) => params }),
    emitEnded: enqueueActions(({ context, enqueue }) => {
      enqueue.emit({ type: 'ended', outcome: streamOutput({ context }) });
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
    consumePingReply: assign({ pingId: undefined }),
    sendPing: enqueueActions(({ context, enqueue }) => {
      if (context.identity === undefined) return;
      const id = newStanzaId('ping', context.input.random);
      enqueue.assign({ pingId: id });
      enqueue.emit({ type: 'send', element: clientPing(id, context.identity.domain) });
    }),
    sendWhitespace: enqueueActions(({ enqueue }) => enqueue.emit({ type: 'sendWhitespace' })),
  },
}).createMachine({
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
        ...transportLost, // §4.6.1: SOCKET_CLOSED, WRITE_FAILED
        TLS_FAILED: {
          target: 'closed',
          actions: ['closeSocket', { type: 'recordOutcome', params: ({ event }) => outcome('tls-failed', '6120 §5.4.3.2', undefined, event.reason) }],
          meta: { rfc: '6120 §5.4.3.2' },
          description: 'The TLS layer failed: terminate TCP, no closing tag.',
        },
        STREAM_CLOSE: {
          target: 'closed',
          actions: 'answerClose',
          meta: { rfc: '6120 §4.4' },
          description: 'The server closed first: answer with our closing tag and close TCP.',
        },
        PARSE_ERROR: {
          target: 'closing',
          actions: { type: 'streamError', params: ({ event }) => ({ condition: event.condition, ...(event.text !== undefined ? { text: event.text } : {}) }) },
          meta: { rfc: '6120 §4.9.3, §4.9.3.1, §4.9.3.2, §4.9.3.10, §4.9.3.13, §4.9.3.14, §4.9.3.18, §4.9.3.22' },
          description:
            'The XML layer rejected the input (§11): bad-format, bad-namespace-prefix, invalid-namespace, not-well-formed, policy-violation (size limits), restricted-xml or unsupported-encoding.',
        },
        HEADER: {
          target: 'closing',
          actions: { type: 'streamError', params: { condition: 'bad-format', text: 'unexpected stream header' } },
          meta: { rfc: '6120 §4.9.3.1' },
          description: 'A response header where no restart is due.',
        },
        CLOSE: {
          target: 'closing',
          actions: 'closeGracefully',
          meta: { rfc: '6120 §4.4' },
          description: 'The application ends the session: our closing tag, then wait for the server\'s.',
        },
        SEND: {
          meta: { rfc: '6120 §4.3.5' },
          description: 'Before the stream is bound no stanza may be sent (§4.3.5, §7.1): dropped; the runtime queues until online.',
        },
        ELEMENT: [
          {
            guard: 'isStreamError',
            target: 'closed',
            actions: 'answerStreamError',
            meta: { rfc: '6120 §4.9.1.1, §4.9.3.3, §4.9.3.5, §4.9.3.6, §4.9.3.8, §4.9.3.9, §4.9.3.11, §4.9.3.15, §4.9.3.16, §4.9.3.17, §4.9.3.19, §4.9.3.20, §4.9.3.25' },
            description:
              'The server sent a stream error (any of §4.9.3; the cited ones only a server sends) and closed its stream; the condition (for see-other-host the host, §4.9.3.19) goes into the outcome.',
          },
          {
            target: 'closing',
            actions: { type: 'streamError', params: ({ event }) => ({ condition: unexpectedElementCondition(kindOf(event) ?? 'other') }) },
            meta: { rfc: '6120 §4.9.3.24, §4.9.3.10' },
            description: 'An element this state does not accept: unsupported-stanza-type (invalid-namespace for a jabber:server stanza, §4.9.3.10).',
          },
        ],
      },
      states: {
        negotiating: {
          meta: { rfc: '6120 §4.3', summary: 'Stream negotiation: from our first header until a resource is bound' },
          initial: 'awaitingStreamHeader',
          after: {
            negotiationTimeout: [
              tlsHandshakeTimeout('initiatingEntity'), // §5.4.3.1
              {
                target: '#initiatingEntity.closing',
                actions: { type: 'streamError', params: { condition: 'connection-timeout', kind: 'timeout', rfc: '6120 §4.6.2' } },
                meta: { rfc: '6120 §4.6.2, §4.9.3.4' },
                description: 'The server did not complete negotiation in time: it is not responding (§4.9.3.4).',
              },
            ],
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
            tlsNegotiation: {
              meta: { rfc: '6120 §5', summary: 'STARTTLS: command sent, then the TLS handshake' },
              initial: 'requested',
              states: {
                requested: {
                  meta: { rfc: '6120 §5.4.2.1', summary: '<starttls/> sent; waiting for <proceed/> or <failure/>' },
                  on: {
                    ELEMENT: [
                      {
                        guard: 'isProceed',
                        target: 'handshake',
                        actions: 'startTls',
                        meta: { rfc: '6120 §5.4.2.3' },
                        description: 'Proceed: start the TLS handshake over the TCP connection.',
                      },
                      {
                        guard: 'isTlsFailure',
                        target: '#initiatingEntity.closing',
                        actions: {
                          type: 'closeGracefully',
                          params: outcome('tls-failed', '6120 §5.4.2.2', 'failure', 'the server refused STARTTLS'),
                        },
                        meta: { rfc: '6120 §5.4.2.2' },
                        description: 'Failure: the server closes its stream and TCP; we answer with our closing tag (§4.4) and wait for it.',
                      },
                    ],
                  },
                },
                handshake: {
                  meta: { rfc: '6120 §5.4.3', summary: 'TLS handshake running; no XML either way (§5.4.3.1)' },
                  on: {
                    TLS_ESTABLISHED: {
                      target: '#initiatingEntity.open.negotiating.awaitingStreamHeader',
                      actions: 'restartAfterTls',
                      meta: { rfc: '6120 §5.4.3.3, §5.3.2, §4.3.3, §4.7.1' },
                      description: 'TLS is on: reset the parser, forget the old stream, send a new initial header (with from, §4.7.1).',
                    },
                    TLS_FAILED: {
                      target: '#initiatingEntity.closed',
                      actions: ['closeSocket', { type: 'recordOutcome', params: ({ event }) => outcome('tls-failed', '6120 §5.4.3.2', undefined, event.reason) }],
                      meta: { rfc: '6120 §5.4.3.2' },
                      description: 'Handshake failed: terminate TCP without a closing stream tag.',
                    },
                    CLOSE: {
                      target: '#initiatingEntity.closed',
                      actions: ['closeSocket', { type: 'recordOutcome', params: outcome('closed', '6120 §5.4.3.1') }],
                      meta: { rfc: '6120 §5.4.3.1' },
                      description: 'No XML may be sent until TLS completes: just close TCP.',
                    },
                    SEND: { meta: { rfc: '6120 §4.3.5' }, description: 'No stanzas before negotiation completes: dropped.' },
                    ...plaintextIgnored('<proceed/>'), // §5.4.3.3: ELEMENT, HEADER, STREAM_CLOSE, PARSE_ERROR
                  },
                },
              },
            },
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
        established: {
          meta: { rfc: '6120 §4.3.5', summary: 'Negotiation complete: stanza exchange, with liveness checks alongside (§4.6)' },
          type: 'parallel',
          states: {
            // Listed first on purpose: when an element ends the stream, this region's transition
            // wins over the liveness region's reset (XState resolves conflicts in document order).
            // For the same reason every ELEMENT outcome is handled here, not left to `open`.
            stanzas: {
              meta: { rfc: '6120 §8', summary: 'Stanzas in both directions' },
              initial: 'exchanging',
              states: {
                exchanging: {
                  meta: { rfc: '6120 §8', summary: 'Application stanzas are written; server stanzas are delivered' },
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
                    ELEMENT: [
                      {
                        guard: 'isStreamError',
                        target: '#initiatingEntity.closed',
                        actions: 'answerStreamError',
                        meta: { rfc: '6120 §4.9.1.1, §4.9.3.3, §4.9.3.5, §4.9.3.6, §4.9.3.8, §4.9.3.9, §4.9.3.11, §4.9.3.15, §4.9.3.16, §4.9.3.17, §4.9.3.19, §4.9.3.20, §4.9.3.25' },
                        description: 'The server sent a stream error (any of §4.9.3) and closed its stream; the condition goes into the outcome.',
                      },
                      {
                        guard: and(['isStanza', 'isPingReply']),
                        actions: 'consumePingReply',
                        meta: { rfc: 'XEP-0199 §4.3, RFC 6120 §4.6.3, §8.2.3' },
                        description: 'The answer to our ping (result or error with its id): the stream is alive; not delivered.',
                      },
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
                      {
                        target: '#initiatingEntity.closing',
                        actions: { type: 'streamError', params: ({ event }) => ({ condition: unexpectedElementCondition(kindOf(event) ?? 'other') }) },
                        meta: { rfc: '6120 §4.9.3.24, §4.9.3.10' },
                        description: 'A negotiation element after binding or an unknown element: unsupported-stanza-type (invalid-namespace for jabber:server).',
                      },
                    ],
                  },
                },
              },
            },
            // §4.6: idle → (whitespace keepalive | ping) → pinging → idle, or a connection-timeout stream error.
            liveness: livenessRegion({
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
            }),
          },
        },
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
