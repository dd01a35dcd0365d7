/**
 * Test paths for clients from the initiating-entity model (./model.ts), with the planner the
 * server tests use (../paths.ts planCoverage): xstate/graph over the machine driven by the
 * server's alphabet, the cheapest path to every server-drivable transition, output condition
 * and input class, and to every state.
 *
 * Which transitions the server drives is decided per transition from its trigger
 * (classifyClientTransition), never from whether the traversal reached it.
 */
import type { AnyMachineSnapshot } from 'xstate';
import { describeWithDefinitions, type TransitionInfo } from '../../machines/introspect/model.js';
import { afterTransitionsOf, planCoverage, type PathPlan, type TransitionClass } from '../paths.js';
import type { ServerAction } from './actions.js';
import { ClientModel, clientModelLogic, serializeClientModelState, type ClientModelState } from './model.js';

export type ClientPathPlan = PathPlan<ServerAction>;

/**
 * The triggers a server controls over one TCP connection:
 * - what it writes: HEADER (the response header), ELEMENT, KEEPALIVE, STREAM_CLOSE and
 *   PARSE_ERROR (malformed XML);
 * - its side of TLS: TLS_ESTABLISHED (a certificate the client trusts), TLS_FAILED in the
 *   handshake (a certificate it must not trust, §13.7.2);
 * - SOCKET_CLOSED (it closes TCP); the client's timers (`after`): it stays silent;
 * - eventless (`always`) transitions, which follow one of the above at once.
 * Host-internal (unit-tested in test/machines/initiating/ instead):
 * - SEND and CLOSE: the application's stanzas and its end of the session. A client under test
 *   does them on its own; the runner feeds them to the oracle when the client's output shows
 *   them, but no path can plan them;
 * - WRITE_FAILED, TLS_FAILED after the handshake (a local failure);
 * - bytes during the TLS handshake (they reach the TLS layer, not the parser, §5.4.3.3);
 * - a second header mid-stream (the XML layer makes a nested <stream:stream> a child, §4.2);
 * - stanzas after the client's own graceful close (§4.4 rule 2: needs the application's CLOSE).
 */
export function classifyClientTransition(t: TransitionInfo): TransitionClass {
  const inHandshake = t.source.endsWith('tlsNegotiation.handshake');
  switch (t.kind) {
    case 'always':
      return { driver: 'server', why: 'eventless: follows the server event that led here' };
    case 'after':
      return { driver: 'server', why: 'the server stays silent until the client\'s timer fires' };
    case 'event':
      break;
    default:
      return { driver: 'host', why: `${t.event}: not an input of the protocol` };
  }
  if (t.eventType === 'HEADER' && t.source === 'open') {
    return { driver: 'host', why: 'the XML layer reports a header only where one is due (a nested <stream:stream> is a child element, §4.2); unit-tested' };
  }
  if (t.eventType === 'ELEMENT' && t.source === 'closing') {
    return { driver: 'host', why: 'only after the client itself closed gracefully (the application\'s CLOSE, §4.4 rule 2); unit-tested' };
  }
  switch (t.eventType) {
    case 'HEADER':
    case 'ELEMENT':
    case 'KEEPALIVE':
    case 'STREAM_CLOSE':
    case 'PARSE_ERROR':
      return inHandshake
        ? { driver: 'host', why: 'during the TLS handshake the server\'s bytes reach the TLS layer, not the parser (§5.4.3.3); unit-tested' }
        : { driver: 'server', why: 'the server writes it' };
    case 'TLS_ESTABLISHED':
      return { driver: 'server', why: 'the server completes the TLS handshake with a certificate the client trusts' };
    case 'TLS_FAILED':
      return inHandshake
        ? { driver: 'server', why: 'the server presents a certificate the client must not trust (§13.7.2)' }
        : { driver: 'host', why: 'TLS fails after the handshake only on a broken record layer; unit-tested' };
    case 'SOCKET_CLOSED':
      return { driver: 'server', why: 'the server closes TCP' };
    case 'SEND':
    case 'CLOSE':
      return { driver: 'host', why: 'the application\'s doing (a stanza, the end of the session); fed to the oracle when the client shows it, unit-tested' };
    case 'WRITE_FAILED':
      return { driver: 'host', why: 'a local write failure; unit-tested' };
    default:
      return { driver: 'host', why: `${t.eventType}: not an input a server controls` };
  }
}

/** The server actions worth trying in a model state. */
export function enabledServerActions(
  state: ClientModelState,
  afterTransitions: readonly { eventType: string; delay: string; sourceId: string }[],
): ServerAction[] {
  const m = state.machine;
  if (m.status !== 'active') return [];
  const active = new Set((m as AnyMachineSnapshot & { _nodes: { id: string }[] })._nodes.map((n) => n.id));
  const waits: ServerAction[] = [];
  for (const a of afterTransitions) {
    if (active.has(a.sourceId) && !waits.some((w) => w.type === 'wait' && w.eventType === a.eventType)) waits.push({ type: 'wait', delay: a.delay, eventType: a.eventType });
  }
  const ctx = m.context as { secured: boolean; authenticated: boolean; mechanism?: string };
  const s = state.server;
  if (m.matches({ open: { negotiating: { tlsNegotiation: 'handshake' } } })) {
    return [{ type: 'tlsHandshake' }, { type: 'tlsBadCertificate' }, { type: 'closeSocket' }, ...waits];
  }
  const ending: ServerAction[] = [{ type: 'close' }, { type: 'closeSocket' }];
  if (m.matches('closing')) return [...ending, ...waits];
  const common: ServerAction[] = [
    { type: 'streamError', condition: 'see-other-host' },
    { type: 'streamError', condition: 'system-shutdown' },
    { type: 'malformed' },
    { type: 'unknownElement' },
    ...ending,
  ];
  if (m.matches({ open: { negotiating: 'awaitingStreamHeader' } })) {
    return [{ type: 'header' }, { type: 'headerBad', fault: 'no-version' }, { type: 'headerBad', fault: 'bad-namespace' }, { type: 'closeSocket' }, ...waits];
  }
  const out: ServerAction[] = [];
  if (m.matches({ open: { negotiating: 'awaitingFeatures' } })) {
    if (!ctx.authenticated) {
      if (!ctx.secured) out.push({ type: 'featuresStarttls' });
      out.push({ type: 'featuresSasl', mechanism: 'SCRAM-SHA-1' }, { type: 'featuresSasl', mechanism: 'PLAIN' });
    } else out.push({ type: 'featuresBind' });
    out.push({ type: 'featuresEmpty' });
  } else if (m.matches({ open: { negotiating: { tlsNegotiation: 'requested' } } })) {
    out.push({ type: 'proceed' }, { type: 'tlsFailure' });
  } else if (m.matches({ open: { negotiating: { saslNegotiation: 'exchanging' } } })) {
    const scram = ctx.mechanism !== undefined && ctx.mechanism.startsWith('SCRAM');
    if (scram && s.sasl === undefined) out.push({ type: 'challenge' });
    if (!scram || s.sasl !== undefined) out.push({ type: 'success', signature: 'right' });
    if (scram && s.sasl !== undefined) out.push({ type: 'success', signature: 'wrong' });
    out.push({ type: 'saslFailure' });
  } else if (m.matches({ open: { negotiating: { saslNegotiation: 'aborting' } } })) {
    out.push({ type: 'saslFailure' });
  } else if (m.matches({ open: { negotiating: 'resourceBinding' } })) {
    out.push({ type: 'bindResult' }, { type: 'bindError' });
  } else if (m.matches({ open: 'established' })) {
    out.push({ type: 'ping' }, { type: 'message' }, { type: 'keepalive' });
    if (s.pingId !== undefined) out.push({ type: 'pingReply' });
  }
  return [...out, ...common, ...waits];
}

export interface ClientPlanOptions {
  /** Leave out paths that wait for a client timer (a client whose timeouts are unknown or long). */
  readonly noWaits?: boolean;
}

/** The input class of an action: which fault, condition or mechanism (each gets a path of its own). */
function inputClass(a: ServerAction): string {
  switch (a.type) {
    case 'headerBad':
      return a.fault;
    case 'streamError':
      return a.condition;
    case 'featuresSasl':
      return a.mechanism;
    case 'success':
      return a.signature;
    default:
      return '';
  }
}

export function planClientPaths(model: ClientModel, opts: ClientPlanOptions = {}): ClientPathPlan {
  const { model: described } = describeWithDefinitions(model.machine);
  const afters = afterTransitionsOf(model.machine, described);
  return planCoverage<ClientModelState, ServerAction>({
    machine: model.machine,
    logic: clientModelLogic(model),
    serialize: serializeClientModelState,
    events: (s) => enabledServerActions(s, afters).filter((a) => !(opts.noWaits && a.type === 'wait')),
    classify: classifyClientTransition,
    initialFired: model.initial().fired,
    inputClass,
    isWait: (a) => a.type === 'wait',
  });
}
