/**
 * Test paths from the model (./model.ts) with xstate/graph: shortest paths to every model
 * state (`getShortestPaths`) and the adjacency map (`getAdjacencyMap`), then a set of paths
 * that together take every transition of the receiving entity a client can drive and visit
 * every state a client can reach.
 *
 * Which transitions are client-drivable is decided per transition from its trigger
 * (DRIVABLE_TRIGGERS), never from whether the traversal happened to reach it: a drivable
 * transition the traversal does not reach under the target's policy is listed as such.
 */
import { getAdjacencyMap, getShortestPaths, type StatePath } from 'xstate/graph';
import type { AnyMachineSnapshot, AnyStateMachine, Snapshot, TransitionActorLogic } from 'xstate';
import type { Command } from '../machines/protocol.js';
import { describeWithDefinitions, type MachineModel, type TransitionInfo } from '../machines/introspect/model.js';
import type { ClientAction } from './actions.js';
import { outputConditions } from './conditions.js';
import { HEADER_FAULT_NAMES, LIMIT_FAULT_NAMES, LIMIT_FAULTS, MALFORMED_FAULT_NAMES, type StreamLimits } from './faults.js';
import { Model, modelLogic, serializeModelState, type ModelState, type TransitionDef } from './model.js';

/** Who drives a transition: the peer's counterpart over the connection (the test client, or the test server), or the host. */
export type Driver = 'client' | 'server' | 'host';

export interface TransitionClass {
  readonly driver: Driver;
  /** Why: how the client drives it, or which host event triggers it and where it is tested instead. */
  readonly why: string;
}

/**
 * The triggers a client controls over one TCP connection:
 * - what it writes: HEADER, ELEMENT, KEEPALIVE, STREAM_CLOSE and PARSE_ERROR (malformed bytes);
 * - its side of TLS: TLS_ESTABLISHED (it completes the handshake), TLS_FAILED (it writes
 *   plaintext where the ClientHello belongs);
 * - SOCKET_CLOSED (it closes TCP);
 * - the server's timers (`after`): it stays silent;
 * - eventless (`always`) transitions, which follow one of the above at once;
 * - the host's answers to what the client asked for: CREDENTIALS for the account or an
 *   unknown user, RESOURCE_STATUS for a free resource.
 * Host-internal (covered by the unit tests in test/machines/receiving/ instead):
 * - SHUTDOWN, FAIL, CLOSE (the operator or runtime ends the stream), ROUTE_IN (another
 *   session's stanza), REPLACED (another session takes the full JID), WRITE_FAILED (a write
 *   fails locally);
 * - CREDENTIALS while the store is unavailable, RESOURCE_STATUS for a resource in use or over
 *   the account's limit (needs other sessions or a failing store);
 * - events in the TLS handshake state other than the handshake's own result: on a socket the
 *   client's plaintext bytes go to the TLS layer, never to the XML parser (§5.4.3.3).
 */
export function classifyTransition(t: TransitionInfo): TransitionClass {
  const inHandshake = t.source.endsWith('tlsNegotiation.handshake');
  switch (t.kind) {
    case 'always':
      return { driver: 'client', why: 'eventless: follows the client event that led here' };
    case 'after':
      return { driver: 'client', why: 'the client stays silent until the timer fires' };
    case 'event':
      break;
    default:
      return { driver: 'host', why: `${t.event}: not an input of the protocol` };
  }
  if (t.eventType === 'HEADER' && t.source === 'open') {
    return { driver: 'host', why: 'the XML layer reports a header only where one is due (a nested <stream:stream> is a child element, §4.2); unit-tested' };
  }
  if (t.eventType === 'ELEMENT' && t.source === 'closing') {
    return { driver: 'host', why: 'only after the server itself closed gracefully (CLOSE from the host, §4.4 rule 2); unit-tested' };
  }
  switch (t.eventType) {
    case 'HEADER':
    case 'ELEMENT':
    case 'KEEPALIVE':
    case 'STREAM_CLOSE':
    case 'PARSE_ERROR':
      return inHandshake
        ? { driver: 'host', why: 'during the TLS handshake the client\'s bytes reach the TLS layer, not the parser (§5.4.3.3); unit-tested' }
        : { driver: 'client', why: 'the client writes it' };
    case 'TLS_ESTABLISHED':
      return { driver: 'client', why: 'the client completes the TLS handshake' };
    case 'TLS_FAILED':
      return inHandshake
        ? { driver: 'client', why: 'the client writes plaintext instead of a ClientHello' }
        : { driver: 'host', why: 'TLS fails after the handshake only on a broken record layer; unit-tested' };
    case 'SOCKET_CLOSED':
      return { driver: 'client', why: 'the client closes TCP' };
    case 'CREDENTIALS':
      return { driver: 'client', why: 'the account store answers the client\'s <auth/> (account or unknown user)' };
    case 'RESOURCE_STATUS':
      return t.guard === 'bindAccepted'
        ? { driver: 'client', why: 'the registry answers the client\'s bind request (resource free)' }
        : { driver: 'host', why: 'needs another session holding the resource or the account\'s resource limit; unit-tested (bind.test.ts)' };
    case 'WRITE_FAILED':
      return { driver: 'host', why: 'a local write failure; unit-tested' };
    case 'SHUTDOWN':
    case 'FAIL':
    case 'CLOSE':
      return { driver: 'host', why: 'the operator or runtime ends the stream; unit-tested' };
    case 'ROUTE_IN':
    case 'REPLACED':
      return { driver: 'host', why: 'another session\'s doing; unit-tested and covered by the server tests' };
    default:
      return { driver: 'host', why: `${t.eventType}: not an input a client controls` };
  }
}

/** The client actions worth trying in a model state (a client mid TLS handshake writes no XML). */
export function enabledActions(
  state: ModelState,
  afterTransitions: readonly { eventType: string; delay: string; sourceId: string }[],
  limits?: StreamLimits,
): ClientAction[] {
  const m = state.machine;
  if (m.status !== 'active') return [];
  const active = new Set((m as AnyMachineSnapshot & { _nodes: { id: string }[] })._nodes.map((n) => n.id));
  const waits: ClientAction[] = afterTransitions
    .filter((a) => active.has(a.sourceId))
    .map((a) => ({ type: 'wait', delay: a.delay, eventType: a.eventType }));
  const dedupWaits = waits.filter((w, i) => waits.findIndex((x) => x.type === 'wait' && w.type === 'wait' && x.eventType === w.eventType) === i);
  if (m.matches({ open: { negotiating: { tlsNegotiation: 'handshake' } } })) {
    return [{ type: 'tlsHandshake' }, { type: 'tlsGarbage' }, { type: 'closeSocket' }, ...dedupWaits];
  }
  if (m.matches('closing')) return [{ type: 'close' }, { type: 'closeSocket' }, ...dedupWaits];
  // Before a header (the first, or after a restart) the XML layer accepts only a stream header
  // (§4.2): anything else is a parse error of the header, not an event of this state.
  if (m.matches({ open: { negotiating: 'awaitingStreamHeader' } })) {
    return [{ type: 'open' }, ...HEADER_FAULT_NAMES.map((fault): ClientAction => ({ type: 'openBad', fault })), { type: 'closeSocket' }, ...dedupWaits];
  }
  const actions: ClientAction[] = [
    { type: 'starttls' },
    { type: 'authPlain', password: 'right' },
    { type: 'authPlain', password: 'wrong' },
    { type: 'authPlain', password: 'unknown-user' },
    { type: 'authForeignAuthzid' },
    { type: 'authBadEncoding' },
    { type: 'authScram', mechanism: 'SCRAM-SHA-256' },
    { type: 'authScram', mechanism: 'SCRAM-SHA-1' },
    { type: 'authEmpty', mechanism: 'SCRAM-SHA-256' },
    { type: 'authUnknownMechanism' },
    { type: 'responseOutOfTurn' },
    { type: 'abort' },
    { type: 'bind', resource: 'mbt' },
    { type: 'bind' },
    { type: 'bindBad' },
    { type: 'message' },
    { type: 'messageBadFrom' },
    { type: 'unknownElement' },
    { type: 'streamError' },
    { type: 'keepalive' },
    { type: 'close' },
    ...MALFORMED_FAULT_NAMES.map((fault): ClientAction => ({ type: 'malformed', fault })),
    ...(limits ? LIMIT_FAULT_NAMES.map((fault): ClientAction => ({ type: 'overLimit', fault, limit: limits[LIMIT_FAULTS[fault].limit] })) : []),
    { type: 'closeSocket' },
  ];
  const filtered = [...actions];
  const c = state.client;
  if (c.sasl !== undefined && (c.challenge !== undefined || c.pendingFirst !== undefined)) {
    filtered.push({ type: 'response', proof: 'right' }, { type: 'response', proof: 'wrong' });
  }
  if (c.pingId !== undefined) filtered.push({ type: 'pingReply' });
  return [...filtered, ...dedupWaits];
}

export interface TestStep {
  readonly action: ClientAction;
}

export interface TestPath<A = ClientAction> {
  /** 'path-07' */
  readonly id: string;
  readonly actions: readonly A[];
  /** What the path is for: the transition (or state) it was chosen to reach. */
  readonly goal: string;
}

export interface PathPlan<A = ClientAction> {
  readonly model: MachineModel;
  readonly definitions: readonly TransitionDef[];
  readonly classes: readonly TransitionClass[];
  readonly paths: readonly TestPath<A>[];
  /** Indexes (into model.transitions) of client-drivable transitions the traversal reached. */
  readonly reachable: readonly number[];
  /** Client-drivable transitions the traversal could not reach under this policy. */
  readonly unreachable: readonly number[];
  /** Machine state paths the traversal reached. */
  readonly reachableStates: readonly string[];
  /** Error conditions ('stream restricted-xml', 'sasl not-authorized', 'stanza conflict') some client input makes the model send. */
  readonly conditionsReachable: readonly string[];
  readonly modelStates: number;
  readonly modelEdges: number;
}

export interface PlanOptions {
  /** Leave out paths that wait for a timer (a target whose timeouts are unknown or too long). */
  readonly noWaits?: boolean;
  /** The target's §13.12 limits, when known: each gets a path one unit over it. */
  readonly limits?: StreamLimits;
}

/** Which transitions (by index) and states (by path) one step fired / made active. */
export function indexOfDefinitions(definitions: readonly TransitionDef[]): Map<TransitionDef, number> {
  return new Map(definitions.map((d, i) => [d, i]));
}

export function activeStatePaths(m: AnyMachineSnapshot): string[] {
  return (m as AnyMachineSnapshot & { _nodes: { path: string[] }[] })._nodes.map((n) => n.path.join('.')).filter((p) => p !== '');
}

/**
 * States a step went through: active afterwards, or entered on the way (transient states
 * such as `evaluating`, or `awaitingCredentials` when the store answers at once): the targets
 * of the transitions it took and their ancestors.
 */
export function visitedStatePaths(m: AnyMachineSnapshot, fired: readonly TransitionDef[]): string[] {
  const out = new Set(activeStatePaths(m));
  for (const d of fired) {
    for (const target of (d as { target?: readonly { path: readonly string[] }[] }).target ?? []) {
      for (let k = 1; k <= target.path.length; k++) out.add(target.path.slice(0, k).join('.'));
    }
  }
  return [...out];
}

/** Plan the paths for a model (its policy and account fix what is reachable). */
export function planPaths(model: Model, opts: PlanOptions = {}): PathPlan {
  const machine: AnyStateMachine = model.machine;
  const { model: described } = describeWithDefinitions(machine);
  const afters = afterTransitionsOf(machine, described);
  const logic = modelLogic(model);
  const plan = planCoverage<ModelState, ClientAction>({
    machine,
    logic,
    serialize: serializeModelState,
    events: (s) => enabledActions(s, afters, opts.limits).filter((a) => !(opts.noWaits && a.type === 'wait')),
    classify: classifyTransition,
    initialFired: model.initial().fired,
    inputClass: (last) => ('fault' in last ? last.fault : ''),
    isWait: (a) => a.type === 'wait',
  });
  const paths: TestPath[] = [...plan.paths];
  scenarios(model).forEach((sc, i) => paths.push({ id: `scenario-${String(i + 1).padStart(2, '0')}`, actions: sc.actions, goal: sc.goal }));
  return { ...plan, paths };
}

/** The `after` transitions of a machine, as enabledActions needs them (event type, delay, source state id). */
export function afterTransitionsOf(machine: AnyStateMachine, described: MachineModel): { eventType: string; delay: string; sourceId: string }[] {
  return described.transitions
    .filter((t) => t.kind === 'after')
    .map((t) => ({ eventType: t.eventType, delay: String(t.delay), sourceId: `${machine.id}${t.source ? `.${t.source}` : ''}` }));
}

/** The part of a model state the planner reads: the machine snapshot, and what the last step fired and emitted. */
export interface PlannedState {
  readonly machine: AnyMachineSnapshot;
  readonly fired: readonly TransitionDef[];
  readonly commands: readonly Command[];
}

export interface CoverageInput<S extends PlannedState, A extends { readonly type: string }> {
  readonly machine: AnyStateMachine;
  /** xstate/graph logic: model states as context, the peer's actions as events. */
  readonly logic: TransitionActorLogic<S, A, unknown>;
  readonly serialize: (s: S) => string;
  readonly events: (s: S) => A[];
  readonly classify: (t: TransitionInfo) => TransitionClass;
  /** Transitions taken by entering the machine: every path takes them. */
  readonly initialFired: readonly TransitionDef[];
  /** The input class of an action (a fault name): a transition reached with different input classes gets a path for each. */
  readonly inputClass: (a: A) => string;
  /** Actions that take real time (timers): a path avoids them where it can. */
  readonly isWait: (a: A) => boolean;
}

/**
 * The planner both directions share (servers tested against the receiving entity, clients
 * against the initiating entity): the adjacency map and shortest paths of xstate/graph over
 * the model, the cheapest path to every (drivable transition, output conditions, input class)
 * and to every state, and a greedy choice that drops paths which are prefixes of others.
 */
export function planCoverage<S extends PlannedState, A extends { readonly type: string }>(input: CoverageInput<S, A>): PathPlan<A> {
  const { model: described, definitions } = describeWithDefinitions(input.machine);
  const classes = described.transitions.map(input.classify);
  const index = indexOfDefinitions(definitions);
  type Snap = Snapshot<unknown> & { context: S };
  const options = {
    serializeState: (s: Snap) => input.serialize(s.context),
    events: (s: Snap) => input.events(s.context),
  };
  const adjacency = getAdjacencyMap(input.logic as never, options as never) as Record<string, { state: Snap; transitions: Record<string, { event: A; state: Snap }> }>;
  const shortest = getShortestPaths(input.logic as never, options as never) as unknown as StatePath<Snap, A>[];
  const pathTo = new Map<string, StatePath<Snap, A>>();
  for (const p of shortest) pathTo.set(input.serialize(p.state.context), p);

  // Cost: a wait takes real time on a real peer; prefer paths with fewer of them.
  const cost = (actions: readonly A[]): number => actions.reduce((n, a) => n + (input.isWait(a) ? 50 : 1), 0);
  const actionsOf = (p: StatePath<Snap, A>): A[] => p.steps.map((s) => s.event).filter((e) => !String(e.type).startsWith('xstate.'));

  // For each transition and the conditions its step sends: the cheapest path that takes it
  // (path to the edge's source + the edge). One path per condition class, not per transition:
  // a server that answers an XML comment with not-well-formed must fail a test of its own.
  const best = new Map<string, { transition: number; conditions: readonly string[]; actions: A[] }>();
  const conditionsReachable = new Set<string>();
  const bestState = new Map<string, A[]>();
  const reachableStates = new Set<string>();
  const consider = (actions: A[], fired: readonly TransitionDef[], active: readonly string[], conditions: readonly string[] = []): void => {
    for (const c of conditions) conditionsReachable.add(c);
    for (const d of fired) {
      const i = index.get(d);
      if (i === undefined) continue;
      // The input class too: a comment and a DTD both require restricted-xml, and each is a test.
      const last = actions[actions.length - 1];
      const inputClass = last !== undefined ? input.inputClass(last) : '';
      const key = `${i}|${conditions.join(',')}|${inputClass}`;
      const known = best.get(key);
      if (known === undefined || cost(actions) < cost(known.actions)) best.set(key, { transition: i, conditions, actions });
    }
    for (const s of active) {
      reachableStates.add(s);
      const known = bestState.get(s);
      if (known === undefined || cost(actions) < cost(known)) bestState.set(s, actions);
    }
  };
  let edges = 0;
  for (const [key, value] of Object.entries(adjacency)) {
    const prefix = pathTo.get(key);
    if (prefix === undefined) continue;
    const base = actionsOf(prefix);
    consider(base, [], activeStatePaths(value.state.context.machine));
    for (const { event, state } of Object.values(value.transitions)) {
      edges++;
      consider([...base, event], state.context.fired, visitedStatePaths(state.context.machine, state.context.fired), outputConditions(state.context.commands));
    }
  }
  // Initial transitions (entering the machine) count as taken by every path.
  for (const d of input.initialFired) {
    const i = index.get(d);
    if (i !== undefined && !best.has(`${i}||`)) best.set(`${i}||`, { transition: i, conditions: [], actions: [] });
  }

  const taken = new Set([...best.values()].map((b) => b.transition));
  const drivable = classes.map((c, i) => (c.driver !== 'host' ? i : -1)).filter((i) => i >= 0);
  const isDrivable = new Set(drivable);
  const reachable = drivable.filter((i) => taken.has(i));
  const unreachable = drivable.filter((i) => !taken.has(i));

  // Greedy: longest-goal first keeps shorter goals as prefixes, which are then dropped.
  const goals: { goal: string; actions: A[] }[] = [
    ...[...best.values()]
      .filter((b) => isDrivable.has(b.transition))
      .map((b) => ({ goal: `${transitionName(described.transitions[b.transition]!)}${b.conditions.length > 0 ? ` ⇒ ${b.conditions.join(', ')}` : ''}`, actions: b.actions })),
    ...[...bestState.entries()].map(([s, actions]) => ({ goal: `state ${s}`, actions })),
  ].filter((g) => g.actions.length > 0);
  goals.sort((a, b) => b.actions.length - a.actions.length || a.goal.localeCompare(b.goal));
  const chosen: { goal: string; actions: A[] }[] = [];
  const key = (actions: readonly A[]): string => actions.map((a) => JSON.stringify(a)).join('|');
  for (const g of goals) {
    const k = key(g.actions);
    if (chosen.some((c) => key(c.actions).startsWith(k) && (key(c.actions).length === k.length || key(c.actions)[k.length] === '|'))) continue;
    chosen.push(g);
  }
  // Stable order: shortest first, then by goal text.
  chosen.sort((a, b) => a.actions.length - b.actions.length || a.goal.localeCompare(b.goal));
  const paths: TestPath<A>[] = chosen.map((c, i) => ({ id: `path-${String(i + 1).padStart(2, '0')}`, actions: c.actions, goal: c.goal }));
  return {
    model: described,
    definitions,
    classes,
    paths,
    reachable,
    unreachable,
    reachableStates: [...reachableStates].sort(),
    conditionsReachable: [...conditionsReachable].sort(),
    modelStates: Object.keys(adjacency).length,
    modelEdges: edges,
  };
}

/** 'open.negotiating.saslNegotiation.featuresSent ELEMENT [isAuth] → evaluating (6120 §6.4.2)' */
export function transitionName(t: TransitionInfo): string {
  const guard = t.guard !== undefined ? ` [${t.guard}]` : '';
  const to = t.targets.length === 0 ? '(stays)' : t.targets.join(', ');
  return `${t.source || '(root)'} ${t.event}${guard} → ${to}${t.rfc !== undefined ? ` (${t.rfc})` : ''}`;
}

/**
 * Hand-named journeys on top of the coverage paths: the transitions they take are covered
 * already (by PLAIN, mostly), but the exchanges differ on the wire and servers differ in them:
 * full SCRAM logins, SCRAM without an initial response, a wrong proof, an unknown user, a
 * mechanism nobody offers, a generated resource and a clean close of a bound stream.
 * Only mechanisms the policy offers are used.
 */
export function scenarios(model: Model): { goal: string; actions: ClientAction[] }[] {
  const policy = model.input;
  const prefix: ClientAction[] = policy.tls === 'none' || policy.secure ? [{ type: 'open' }] : [{ type: 'open' }, { type: 'starttls' }, { type: 'tlsHandshake' }, { type: 'open' }];
  const has = (m: string): boolean => (policy.mechanisms as readonly string[]).includes(m);
  const out: { goal: string; actions: ClientAction[] }[] = [];
  const plainOk = has('PLAIN') && (policy.tls !== 'none' || policy.allowPlainWithoutTls);
  if (has('SCRAM-SHA-256')) {
    out.push({
      goal: 'SCRAM-SHA-256 login (RFC 7677), bind a chosen resource (§7.7), close (§4.4)',
      actions: [...prefix, { type: 'authScram', mechanism: 'SCRAM-SHA-256' }, { type: 'response', proof: 'right' }, { type: 'open' }, { type: 'bind', resource: 'mbt' }, { type: 'close' }],
    });
    out.push({
      goal: 'SCRAM-SHA-256 without an initial response: empty challenge first (§6.4.2)',
      actions: [...prefix, { type: 'authEmpty', mechanism: 'SCRAM-SHA-256' }, { type: 'response', proof: 'right' }, { type: 'response', proof: 'right' }, { type: 'open' }],
    });
    out.push({ goal: 'SCRAM-SHA-256 with a wrong proof: not-authorized (§6.5.10)', actions: [...prefix, { type: 'authScram', mechanism: 'SCRAM-SHA-256' }, { type: 'response', proof: 'wrong' }] });
  }
  if (has('SCRAM-SHA-1')) {
    out.push({
      goal: 'SCRAM-SHA-1 login (RFC 5802), server-generated resource (§7.6), close (§4.4)',
      actions: [...prefix, { type: 'authScram', mechanism: 'SCRAM-SHA-1' }, { type: 'response', proof: 'right' }, { type: 'open' }, { type: 'bind' }, { type: 'close' }],
    });
  }
  if (plainOk) {
    out.push({ goal: 'PLAIN for an unknown user: the same not-authorized as a wrong password (§6.5.10)', actions: [...prefix, { type: 'authPlain', password: 'unknown-user' }] });
    out.push({ goal: 'PLAIN with a wrong password: not-authorized (§6.5.10)', actions: [...prefix, { type: 'authPlain', password: 'wrong' }] });
    out.push({
      goal: 'stanzas after binding: delivered; an unknown element is a stream error (§4.9.3.24)',
      actions: [...prefix, { type: 'authPlain', password: 'right' }, { type: 'open' }, { type: 'bind', resource: 'mbt' }, { type: 'message' }, { type: 'unknownElement' }],
    });
  }
  out.push({ goal: 'a mechanism the server does not offer: invalid-mechanism (§6.5.7)', actions: [...prefix, { type: 'authUnknownMechanism' }] });
  out.push({ goal: 'a stanza before authentication is not delivered: stream error (§4.3.5, §4.9.3.12)', actions: [...prefix, { type: 'message' }] });
  return out;
}
