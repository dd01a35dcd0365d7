/**
 * `npm run dump:machines [-- OUT]`: every documented machine's definition as stable JSON
 * (states with type, initial, meta, description, entry/exit, tags; every transition with
 * event or delay, guard rendered structurally, targets, reenter, actions with their literal
 * params, meta and description). Refactoring a machine must leave this dump unchanged:
 * dump before, dump after, diff. Functions (guards and params computed at run time) are
 * written as "<function>", so only the structure and the words are compared.
 */
import { writeFileSync } from 'node:fs';
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { loadMachines } from '../machines/introspect/catalog.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A value as JSON: functions as "<function>", objects with sorted keys. */
function plain(v: unknown): Json {
  if (typeof v === 'function') return '<function>';
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') {
    const out: Record<string, Json> = {};
    for (const k of Object.keys(v).sort()) out[k] = plain((v as Record<string, unknown>)[k]);
    return out;
  }
  return v as Json;
}

/** XState keeps built-in guards (and, or, not, stateIn) as functions with their arguments attached. */
function guardOf(g: unknown): Json {
  if (g === undefined) return null;
  if (typeof g === 'string') return g;
  if (typeof g === 'function') {
    const f = g as { check?: unknown; guards?: unknown[]; stateValue?: unknown; type?: string };
    const kind = (f as { name?: string }).name;
    if (Array.isArray(f.guards)) return { [kind ?? 'combinator']: f.guards.map(guardOf) };
    if (f.stateValue !== undefined) return { stateIn: plain(f.stateValue) };
    return '<function>';
  }
  const o = g as { type?: unknown; params?: unknown };
  return { type: plain(o.type), ...(o.params !== undefined ? { params: plain(o.params) } : {}) };
}

function actionOf(a: unknown): Json {
  if (typeof a === 'string') return a;
  if (typeof a === 'function') {
    const f = a as { type?: string; name?: string };
    return `<${f.type ?? (f.name || 'function')}>`;
  }
  const o = a as { type?: unknown; params?: unknown };
  return { type: plain(o.type), ...(o.params !== undefined ? { params: plain(o.params) } : {}) };
}

interface RawTransition {
  readonly target?: readonly AnyStateNode[];
  readonly guard?: unknown;
  readonly actions?: readonly unknown[];
  readonly reenter?: boolean;
  readonly meta?: unknown;
  readonly description?: string;
  readonly delay?: unknown;
}

function transitionOf(t: RawTransition): Json {
  return {
    guard: guardOf(t.guard),
    targets: (t.target ?? []).map((n) => n.id),
    reenter: t.reenter ?? false,
    actions: (t.actions ?? []).map(actionOf),
    meta: plain(t.meta),
    description: t.description ?? null,
    ...(t.delay !== undefined ? { delay: plain(t.delay) } : {}),
  };
}

function stateOf(node: AnyStateNode): Json {
  const transitions: Record<string, Json> = {};
  for (const [event, list] of node.transitions) transitions[event] = (list as RawTransition[]).map(transitionOf);
  const config = node.config as { tags?: unknown };
  return {
    id: node.id,
    type: node.type,
    initial: node.type === 'compound' ? (node.initial.target as AnyStateNode[]).map((n) => n.id) : null,
    meta: plain(node.meta),
    description: node.description ?? null,
    entry: node.entry.map(actionOf),
    exit: node.exit.map(actionOf),
    tags: plain(config.tags),
    transitions,
    always: ((node.always ?? []) as RawTransition[]).map(transitionOf),
  };
}

export function dumpMachine(machine: AnyStateMachine): Json {
  const states: Json[] = [];
  const walk = (node: AnyStateNode): void => {
    states.push(stateOf(node));
    for (const child of Object.values(node.states) as AnyStateNode[]) walk(child);
  };
  walk(machine.root);
  const impl = machine.implementations as { delays?: Record<string, unknown> };
  return { id: machine.id, delays: Object.keys(impl.delays ?? {}).sort(), states };
}

const out = process.argv[2] ?? 'machines.dump.json';
const machines = await loadMachines();
const dump = Object.fromEntries(machines.map((m) => [m.name, dumpMachine(m.machine)]));
writeFileSync(out, `${JSON.stringify(dump, null, 1)}\n`);
console.log(`wrote ${out}: ${machines.map((m) => m.name).join(', ')}`);
