/**
 * A plain, JSON-able description of an XState v5 machine definition: its states (in
 * document order) and every transition with event, guard, targets and the RFC section
 * it cites. The diagram, the report and the page are all generated from this one walk,
 * so they can never disagree with each other or with the machine.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';

export type StateType = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

export interface StateInfo {
  /** Dotted path from the root ('negotiating.sasl'); '' is the machine itself. */
  readonly path: string;
  readonly key: string;
  readonly type: StateType;
  /** Path of the parent state ('' for top-level states). */
  readonly parent: string;
  /** Key of the initial child (compound states only). */
  readonly initial?: string;
  readonly rfc?: string;
  readonly summary?: string;
  /** Actors the state invokes while active (their `src` name, or id when `src` is inline logic). */
  readonly invokes?: readonly string[];
}

export type TransitionKind = 'event' | 'after' | 'always' | 'done' | 'actor';

export interface TransitionInfo {
  /** Path of the state that owns the transition ('' for the machine root: any state). */
  readonly source: string;
  /** The event as XState sees it ('HEADER', 'xstate.after.idleTimeout.stream.open', '' for always). */
  readonly eventType: string;
  /** The event as a reader should see it ('HEADER', 'after idleTimeout', 'always', 'done'). */
  readonly event: string;
  readonly kind: TransitionKind;
  /** Named delay or number of milliseconds, for `after` transitions. */
  readonly delay?: string | number;
  /** The delay in milliseconds: as written, or a named delay's default value (see DescribeOptions). */
  readonly delayMs?: number;
  readonly guard?: string;
  /** Target state paths; empty for a targetless transition (the state is not left). */
  readonly targets: readonly string[];
  readonly reenter: boolean;
  readonly rfc?: string;
  /** The transition's own words: what happens and why. */
  readonly description?: string;
  /** Action names in order ('emit send', 'assign attempts', 'recordFailure'). */
  readonly actions: readonly string[];
}

export interface MachineModel {
  readonly id: string;
  readonly rfc?: string;
  readonly summary?: string;
  /** Path of the initial top-level state. */
  readonly initial?: string;
  /** Every state below the root, parents before children, in document order. */
  readonly states: readonly StateInfo[];
  readonly transitions: readonly TransitionInfo[];
}

export function describeMachine(machine: AnyStateMachine, opts: DescribeOptions = {}): MachineModel {
  return describeWithDefinitions(machine, opts).model;
}

export interface DescribeOptions {
  /**
   * Default timeouts (machines/policy.ts DEFAULT_TIMEOUTS): a named delay whose implementation
   * reads `…timeouts.<key>` from context is shown with the default value it resolves to.
   */
  readonly timeouts?: Readonly<Record<string, number>>;
}

/** The model and, index for index, XState's own transition definitions (what an inspector reports as taken). */
export function describeWithDefinitions(machine: AnyStateMachine, opts: DescribeOptions = {}): { model: MachineModel; definitions: readonly object[] } {
  const states: StateInfo[] = [];
  const transitions: TransitionInfo[] = [];
  const definitions: object[] = [];
  const delays = (machine.implementations as { delays?: Record<string, unknown> }).delays ?? {};
  const resolve = (delay: string | number | undefined): number | undefined => resolveDelay(delay, delays, opts.timeouts);
  const add = (node: AnyStateNode): void => {
    for (const [t, def] of describeTransitions(node, resolve)) {
      transitions.push(t);
      definitions.push(def);
    }
  };
  const walk = (node: AnyStateNode): void => {
    for (const child of Object.values(node.states) as AnyStateNode[]) {
      states.push(describeState(child));
      add(child);
      walk(child);
    }
  };
  add(machine.root);
  walk(machine.root);
  const meta = metaOf(machine.root.meta);
  const initial = machine.root.type === 'compound' ? machine.root.initial.target[0] : undefined;
  return { model: { id: machine.id, ...meta, ...(initial && { initial: pathOf(initial) }), states, transitions }, definitions };
}

/**
 * A delay's value in milliseconds: a number as written, a named delay implemented as a
 * number, or one implemented as a function of context that reads `timeouts.<key>`, called
 * with a probe context whose every `timeouts` is the given defaults. Undefined otherwise.
 */
function resolveDelay(delay: string | number | undefined, delays: Record<string, unknown>, timeouts: Readonly<Record<string, number>> | undefined): number | undefined {
  if (typeof delay === 'number') return delay;
  if (delay === undefined) return undefined;
  const impl = delays[delay];
  if (typeof impl === 'number') return impl;
  if (typeof impl !== 'function' || timeouts === undefined) return undefined;
  const probe: object = new Proxy({}, { get: (_, key) => (key === 'timeouts' ? timeouts : key === Symbol.toPrimitive ? () => NaN : probe) });
  try {
    const value: unknown = (impl as (args: unknown) => unknown)({ context: probe, event: { type: '' } });
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function pathOf(node: AnyStateNode): string {
  return node.path.join('.');
}

function describeState(node: AnyStateNode): StateInfo {
  const initial = node.type === 'compound' ? node.initial.target[0]?.key : undefined;
  const invokes = ((node as { invoke?: readonly { id: string; src: unknown }[] }).invoke ?? []).map((i) => (typeof i.src === 'string' ? i.src : i.id));
  return {
    path: pathOf(node),
    key: node.key,
    type: node.type,
    parent: node.parent ? pathOf(node.parent) : '',
    ...(initial !== undefined && { initial }),
    ...metaOf(node.meta),
    ...(invokes.length > 0 && { invokes }),
  };
}

function metaOf(meta: unknown): { rfc?: string; summary?: string } {
  if (typeof meta !== 'object' || meta === null) return {};
  const m = meta as Record<string, unknown>;
  return {
    ...(typeof m.rfc === 'string' && { rfc: m.rfc }),
    ...(typeof m.summary === 'string' && { summary: m.summary }),
  };
}

interface RawTransition {
  readonly target?: readonly AnyStateNode[] | undefined;
  readonly guard?: unknown;
  readonly meta?: unknown;
  readonly reenter?: boolean;
  readonly actions?: readonly unknown[];
  readonly description?: string;
  readonly delay?: string | number;
}

function describeTransitions(node: AnyStateNode, resolve: (delay: string | number | undefined) => number | undefined): [TransitionInfo, object][] {
  const out: [TransitionInfo, object][] = [];
  const add = (eventType: string, t: RawTransition): void => {
    const delayMs = eventType.startsWith('xstate.after.') ? resolve(t.delay) : undefined;
    const { event, kind } = eventLabel(eventType, t.delay, delayMs);
    const guard = t.guard === undefined ? undefined : formatGuard(t.guard);
    const rfc = metaOf(t.meta).rfc;
    const info: TransitionInfo = {
      source: pathOf(node),
      eventType,
      event,
      kind,
      ...(t.delay !== undefined && { delay: t.delay }),
      ...(delayMs !== undefined && { delayMs }),
      ...(guard !== undefined && { guard }),
      targets: (t.target ?? []).map(pathOf),
      reenter: t.reenter ?? false,
      ...(rfc !== undefined && { rfc }),
      ...(t.description !== undefined && { description: t.description }),
      actions: (t.actions ?? []).map(formatAction),
    };
    out.push([info, t]);
  };
  // Map order is config order: `on` first, then onDone, invoke, after (XState's formatTransitions).
  for (const [eventType, list] of node.transitions) for (const t of list as RawTransition[]) add(eventType, t);
  for (const t of (node.always ?? []) as RawTransition[]) add('', t);
  return out;
}

/** 'after 5000 ms', 'after idleTimeout = 300000 ms' (named delay with its default), 'after closeWait' (unknown value). */
function eventLabel(eventType: string, delay: string | number | undefined, delayMs: number | undefined): { event: string; kind: TransitionKind } {
  if (eventType === '') return { event: 'always', kind: 'always' };
  if (eventType.startsWith('xstate.after.')) {
    if (typeof delay === 'number') return { event: `after ${delay} ms`, kind: 'after' };
    const name = delay ?? '?';
    return { event: delayMs !== undefined ? `after ${name} = ${delayMs} ms` : `after ${name}`, kind: 'after' };
  }
  if (eventType.startsWith('xstate.done.state.')) return { event: 'done', kind: 'done' };
  for (const [prefix, word] of [
    ['xstate.done.actor.', 'done'],
    ['xstate.error.actor.', 'error'],
    ['xstate.snapshot.', 'snapshot'],
  ] as const) {
    if (eventType.startsWith(prefix)) return { event: `${word}(${eventType.slice(prefix.length)})`, kind: 'actor' };
  }
  return { event: eventType, kind: 'event' };
}

/** 'name', '!name', 'a && b', 'a || b', 'in(state)': what the guard checks, by name. */
export function formatGuard(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const g = guard as { name?: string; guards?: unknown[]; stateValue?: unknown };
    const parts = (g.guards ?? []).map((x) => {
      const s = formatGuard(x);
      return /\s/.test(s) ? `(${s})` : s;
    });
    if (g.name === 'not' && parts.length === 1) return `!${parts[0]}`;
    if (g.name === 'and' && g.guards) return parts.join(' && ');
    if (g.name === 'or' && g.guards) return parts.join(' || ');
    if (g.name === 'stateIn') return `in(${JSON.stringify(g.stateValue)})`;
    return g.name ? g.name : 'inline';
  }
  if (typeof guard === 'object' && guard !== null && 'type' in guard) return String((guard as { type: unknown }).type);
  return 'inline';
}

/** An action's name; built-ins say what they do ('emit send', 'assign attempts'). */
export function formatAction(action: unknown): string {
  if (typeof action === 'string') return action;
  if (typeof action === 'object' && action !== null && 'type' in action) return String((action as { type: unknown }).type);
  if (typeof action !== 'function') return 'inline';
  const a = action as { type?: string; event?: unknown; assignment?: unknown; name?: string };
  const eventName = (e: unknown): string =>
    typeof e === 'object' && e !== null && 'type' in e ? ` ${String((e as { type: unknown }).type)}` : '';
  switch (a.type) {
    case 'xstate.emit':
      return `emit${eventName(a.event)}`;
    case 'xstate.raise':
      return `raise${eventName(a.event)}`;
    case 'xstate.assign':
      return typeof a.assignment === 'object' && a.assignment !== null
        ? `assign ${Object.keys(a.assignment).join(', ')}`
        : 'assign';
    case undefined:
      return a.name ? a.name : 'inline';
    default:
      return a.type.replace(/^xstate\./, '');
  }
}
