/**
 * The model-based test report: per path pass / deviation (with the RFC section, expected and
 * received XML), and coverage of the receiving entity's transitions and states, as JSON and
 * as text. Coverage is the union over the run's policy profiles.
 */
import type { MachineModel } from '../machines/introspect/model.js';
import type { PathPlan, TransitionClass } from './paths.js';
import { transitionName } from './paths.js';
import type { PathResult, ProfileResult } from './run.js';

export interface CoverageRow {
  readonly transition: string;
  readonly rfc?: string;
  readonly why: string;
}

export interface MbtReport {
  readonly target: string;
  readonly machine: string;
  /** Who drives the model: 'client' (a server under test, receiving entity) or 'server' (a client under test, initiating entity). */
  readonly drivenBy: 'client' | 'server';
  readonly profiles: readonly ProfileResult[];
  readonly totals: {
    readonly paths: number;
    readonly passed: number;
    readonly deviations: number;
    readonly errors: number;
    /** Paths the peer did not let us reach (client tests: it closed on its own, or never connected). */
    readonly notReached: number;
  };
  readonly coverage: {
    /** Transitions of the machine, all kinds. */
    readonly transitions: number;
    /** Client-drivable transitions (paths.ts classifyTransition). */
    readonly drivable: number;
    /** Drivable transitions the traversal reached under at least one profile's policy. */
    readonly reachable: number;
    /** Reachable transitions taken in steps whose output matched the model. */
    readonly covered: number;
    /** covered / drivable, percent with one decimal. */
    readonly percent: number;
    readonly states: { readonly total: number; readonly reachable: number; readonly covered: number; readonly percent: number };
    /** Error conditions: those client input makes the model send (under the policies run), and those exercised. */
    readonly conditions: { readonly reachable: number; readonly covered: number; readonly percent: number; readonly uncovered: readonly string[] };
    readonly uncovered: readonly CoverageRow[];
    /** Drivable but not reachable under the policies run (the target's configuration). */
    readonly unreachable: readonly CoverageRow[];
    /** Host-internal transitions: covered by the unit tests, listed for completeness. */
    readonly hostInternal: readonly CoverageRow[];
  };
}

export function buildReport(target: string, plans: readonly PathPlan<unknown>[], profiles: readonly ProfileResult[]): MbtReport {
  const plan = plans[0];
  if (plan === undefined) throw new Error('no profile was run');
  const model: MachineModel = plan.model;
  const classes: readonly TransitionClass[] = plan.classes;
  const row = (i: number): CoverageRow => {
    const t = model.transitions[i]!;
    return { transition: transitionName(t), ...(t.rfc !== undefined ? { rfc: t.rfc } : {}), why: classes[i]!.why };
  };
  const drivenBy = classes.some((c) => c.driver === 'server') ? 'server' : 'client';
  const drivable = classes.map((c, i) => (c.driver !== 'host' ? i : -1)).filter((i) => i >= 0);
  const reachable = new Set(plans.flatMap((p) => p.reachable));
  const covered = new Set(profiles.flatMap((p) => p.covered.filter((i) => classes[i] !== undefined && classes[i]!.driver !== 'host')));
  const statesReachable = new Set(profiles.flatMap((p) => p.statesReachable));
  const statesCovered = new Set(profiles.flatMap((p) => p.statesCovered));
  const conditionsReachable = new Set(profiles.flatMap((p) => p.conditionsReachable));
  const conditionsCovered = new Set(profiles.flatMap((p) => p.conditionsCovered));
  const paths = profiles.flatMap((p) => p.paths);
  const pct = (a: number, b: number): number => (b === 0 ? 100 : Math.round((1000 * a) / b) / 10);
  return {
    target,
    machine: model.id,
    drivenBy,
    profiles,
    totals: {
      paths: paths.length,
      passed: paths.filter((p) => p.status === 'pass').length,
      deviations: paths.filter((p) => p.status === 'deviation').length,
      errors: paths.filter((p) => p.status === 'error').length,
      notReached: paths.filter((p) => p.status === 'not-reached').length,
    },
    coverage: {
      transitions: model.transitions.length,
      drivable: drivable.length,
      reachable: drivable.filter((i) => reachable.has(i)).length,
      covered: drivable.filter((i) => covered.has(i)).length,
      percent: pct(drivable.filter((i) => covered.has(i)).length, drivable.length),
      states: {
        total: model.states.length,
        reachable: statesReachable.size,
        covered: statesCovered.size,
        percent: pct(statesCovered.size, model.states.length),
      },
      conditions: {
        reachable: conditionsReachable.size,
        covered: [...conditionsReachable].filter((c) => conditionsCovered.has(c)).length,
        percent: pct([...conditionsReachable].filter((c) => conditionsCovered.has(c)).length, conditionsReachable.size),
        uncovered: [...conditionsReachable].filter((c) => !conditionsCovered.has(c)).sort(),
      },
      uncovered: drivable.filter((i) => reachable.has(i) && !covered.has(i)).map(row),
      unreachable: drivable.filter((i) => !reachable.has(i)).map(row),
      hostInternal: classes.map((c, i) => (c.driver === 'host' ? i : -1)).filter((i) => i >= 0).map(row),
    },
  };
}

export function renderText(r: MbtReport): string {
  const out: string[] = [];
  const c = r.coverage;
  out.push(`model-based test of ${r.target} against the ${r.machine} model (RFC 6120)`);
  const d = r.drivenBy;
  out.push(`paths: ${r.totals.paths}, passed ${r.totals.passed}, deviations ${r.totals.deviations}, errors ${r.totals.errors}${r.totals.notReached > 0 ? `, not reached ${r.totals.notReached}` : ''}`);
  out.push(
    `transition coverage: ${c.covered}/${c.drivable} ${d}-drivable (${c.percent}%), ${c.reachable} reachable under the policies run; ${c.transitions} transitions in all, ${c.hostInternal.length} host-internal`,
  );
  out.push(`state coverage: ${c.states.covered}/${c.states.total} (${c.states.percent}%)`);
  out.push(`condition coverage: ${c.conditions.covered}/${c.conditions.reachable} error conditions the model sends on ${d} input (${c.conditions.percent}%)`);
  for (const p of r.profiles) {
    out.push('', `profile ${p.name}: ${p.paths.length} paths from ${p.modelStates} model states, ${p.modelEdges} edges; policy ${JSON.stringify(p.policy)}`);
    for (const path of p.paths) out.push(...pathLines(path));
  }
  const section = (title: string, rows: readonly CoverageRow[]): void => {
    if (rows.length === 0) return;
    out.push('', `${title} (${rows.length}):`);
    for (const row of rows) out.push(`  - ${row.transition}: ${row.why}`);
  };
  section('reachable but not covered', c.uncovered);
  if (c.conditions.uncovered.length > 0) out.push('', `conditions not exercised (${c.conditions.uncovered.length}): ${c.conditions.uncovered.join(', ')}`);
  section(`${d}-drivable, not reachable under the policies run`, c.unreachable);
  section(`host-internal (unit-tested, not driven by a ${d})`, c.hostInternal);
  return `${out.join('\n')}\n`;
}

function pathLines(p: PathResult): string[] {
  const head = `  ${p.status === 'pass' ? 'PASS' : p.status === 'deviation' ? 'DEVIATION' : p.status === 'not-reached' ? 'NOT REACHED' : 'ERROR'} ${p.id} (${p.durationMs} ms) ${p.actions.join(' → ')}`;
  const out = [head, `      goal: ${p.goal}`];
  if (p.deviation) {
    const d = p.deviation;
    out.push(`      at step ${d.step + 1} (${d.action}), ${d.rfc.length > 0 ? d.rfc.map((x) => `RFC ${x}`).join(', ') : 'no transition'}:`);
    out.push(`        expected: ${d.expected.length === 0 ? '(nothing)' : d.expected.join(' ')}`);
    out.push(`        received: ${d.received.length === 0 ? '(nothing)' : d.received.join(' ')}`);
    if (d.explanation !== undefined) out.push(`        meaning:  ${d.explanation}`);
  }
  for (const n of p.notes ?? []) out.push(`      note: ${n}`);
  if (p.error) out.push(`      ${p.status === 'not-reached' ? 'why' : 'error'}: ${p.error.split('\n')[0]}`);
  return out;
}

/** Deviations of a run, one line each: what a third-party server does differently. */
export function deviations(
  r: MbtReport,
): { path: string; goal: string; step: string; rfc: readonly string[]; expected: readonly string[]; received: readonly string[]; explanation?: string }[] {
  return r.profiles.flatMap((p) =>
    p.paths.flatMap((path) =>
      path.deviation
        ? [
            {
              path: `${p.name}/${path.id}`,
              goal: path.goal,
              step: path.deviation.action,
              rfc: path.deviation.rfc,
              expected: path.deviation.expected,
              received: path.deviation.received,
              ...(path.deviation.explanation !== undefined ? { explanation: path.deviation.explanation } : {}),
            },
          ]
        : [],
    ),
  );
}
