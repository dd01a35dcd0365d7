/**
 * Many simulated runs as one fast-check property: generate scenarios from a seed, run
 * each, check the invariants; on a failure fast-check shrinks the scenario to a small
 * counterexample. Everything reported here is a function of (seed, runs, family,
 * machine): wall-clock figures are kept out of the summary on purpose.
 */
import fc from 'fast-check';
import type { InitiatingEntityMachine } from '../machines/initiating/index.js';
import type { ReceivingEntityMachine } from '../machines/receiving/index.js';
import { initiatingEntityMachine } from '../machines/initiating/index.js';
import { receivingEntityMachine } from '../machines/receiving/index.js';
import { scenarioArbitrary, type ScenarioFamily } from './arbitraries.js';
import { Coverage } from './coverage.js';
import { INVARIANTS, type InvariantName, type Violation } from './invariants.js';
import { runScenario, type RunResult } from './run.js';
import type { Scenario } from './scenario.js';
import { traceOf, type TraceFile } from './trace.js';

/**
 * Runs of `xmppkit sim` when --runs is not given: enough for the rarer misbehaviours of the
 * mixed family to show up (test/sim/broken-machine.test.ts relies on it).
 */
export const DEFAULT_RUNS = 500;

export interface SimOptions {
  readonly runs: number;
  readonly seed: number;
  readonly family?: ScenarioFamily;
  /** The receiving-entity machine under test (default: the real one). */
  readonly serverMachine?: ReceivingEntityMachine;
  /** The initiating-entity machine under test (default: the real one). */
  readonly clientMachine?: InitiatingEntityMachine;
  /** Replay one fast-check path (from a failure report) instead of a fresh search. */
  readonly path?: string;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface SimFailure {
  readonly seed: number;
  readonly path: string;
  /** Runs it took to find the first failing scenario, before shrinking. */
  readonly foundAfter: number;
  readonly shrinks: number;
  readonly scenario: Scenario;
  readonly violations: readonly Violation[];
  readonly trace: TraceFile;
}

export interface SimSummary {
  readonly seed: number;
  readonly runs: number;
  readonly family: ScenarioFamily;
  /** Runs whose invariants were all checked (the search stops at the first failure). */
  completed: number;
  sessions: number;
  clockSteps: number;
  virtualTime: number;
  readonly checks: Record<InvariantName, number>;
  readonly outcomes: Record<string, number>;
  /** Outcomes of client-machine sessions, by the server they faced ('real' or the scripted fault). */
  readonly clientOutcomes: Record<string, number>;
  clientSessions: number;
  readonly coverage: Coverage;
  /** The initiating-entity machine, where scenarios used it as the client. */
  readonly clientCoverage: Coverage;
  failure?: SimFailure;
}

/** Run one scenario and turn a thrown exception into a violation. */
export function safeRun(
  scenario: Scenario,
  serverMachine?: ReceivingEntityMachine,
  coverage?: Coverage,
  clientCoverage?: Coverage,
  clientMachine?: InitiatingEntityMachine,
): RunResult | { error: string } {
  try {
    return runScenario(scenario, {
      ...(serverMachine ? { serverMachine } : {}),
      ...(clientMachine ? { clientMachine } : {}),
      ...(coverage ? { serverCoverage: coverage } : {}),
      ...(clientCoverage ? { clientCoverage } : {}),
    });
  } catch (e) {
    return { error: e instanceof Error ? `${e.message}\n${(e.stack ?? '').split('\n').slice(1, 4).join('\n')}` : String(e) };
  }
}

/** Add one run's counts (checks, sessions, outcomes) to a summary; coverage is recorded while it runs. */
export function tally(summary: SimSummary, result: RunResult | { error: string }): void {
  if ('error' in result) summary.checks['no-crash']++;
  else {
    summary.checks['no-crash']++;
    for (const [k, n] of Object.entries(result.checks)) summary.checks[k as InvariantName] += n;
    summary.sessions += result.world.host.sessions.length;
    summary.clockSteps += result.world.steps;
    summary.virtualTime += result.world.clock.now();
    result.world.scenario.clients.forEach((plan, i) => {
      if (plan.kind !== 'machine') return;
      summary.clientSessions++;
      const o = result.world.clients[i]!.record.outcome;
      const key = `${plan.server ?? 'real server'}: ${o ? `${o.kind}${o.condition ? ` ${o.condition}` : ''}` : 'open'}`;
      summary.clientOutcomes[key] = (summary.clientOutcomes[key] ?? 0) + 1;
    });
    for (const s of result.world.host.sessions) {
      const o = s.driver.outcome;
      const key = o ? `${o.kind}${o.condition ? ` ${o.condition}` : ''}` : 'open';
      summary.outcomes[key] = (summary.outcomes[key] ?? 0) + 1;
    }
  }
}

/** A summary with nothing counted yet, for the machines under test. */
export function emptySummary(opts: Pick<SimOptions, 'runs' | 'seed' | 'serverMachine' | 'clientMachine'> & { family: ScenarioFamily }): SimSummary {
  return {
    seed: opts.seed,
    runs: opts.runs,
    family: opts.family,
    completed: 0,
    sessions: 0,
    clockSteps: 0,
    virtualTime: 0,
    checks: Object.fromEntries(Object.keys(INVARIANTS).map((k) => [k, 0])) as Record<InvariantName, number>,
    outcomes: {},
    clientOutcomes: {},
    clientSessions: 0,
    coverage: new Coverage(opts.serverMachine ?? receivingEntityMachine),
    clientCoverage: new Coverage(opts.clientMachine ?? initiatingEntityMachine),
  };
}

export function simulate(opts: SimOptions): SimSummary {
  const family = opts.family ?? 'mixed';
  const summary = emptySummary({ ...opts, family });
  let failed = false;
  const property = fc.property(scenarioArbitrary(family), (scenario) => {
    const result = safeRun(scenario, opts.serverMachine, failed ? undefined : summary.coverage, failed ? undefined : summary.clientCoverage, opts.clientMachine);
    const ok = !('error' in result) && result.violations.length === 0;
    if (!failed) {
      summary.completed++;
      opts.onProgress?.(summary.completed, opts.runs);
      tally(summary, result);
    }
    if (!ok) failed = true;
    return ok;
  });
  const details = fc.check(property, { numRuns: opts.runs, seed: opts.seed, ...(opts.path !== undefined ? { path: opts.path } : {}), endOnFailure: false });
  if (details.failed && details.counterexample) {
    const scenario = details.counterexample[0];
    const result = safeRun(scenario, opts.serverMachine, undefined, undefined, opts.clientMachine);
    const violations: Violation[] =
      'error' in result ? [{ invariant: 'no-crash', rfc: INVARIANTS['no-crash'], session: -1, message: result.error }] : result.violations;
    const origin = { seed: details.seed, path: details.counterexamplePath ?? '' };
    const trace: TraceFile =
      'error' in result
        ? { format: 'xmpp-statekit-sim-trace/1', scenario, ...origin, violations, segments: [], host: [] }
        : traceOf(result.world, violations, origin);
    summary.failure = { ...origin, foundAfter: details.numRuns, shrinks: details.numShrinks, scenario, violations, trace };
  }
  return summary;
}

/** The deterministic report (stdout): same seed and runs, same bytes. */
export function formatSummary(s: SimSummary, opts: { verbose?: boolean } = {}): string {
  const out: string[] = [];
  out.push(`xmppkit sim: seed ${s.seed}, ${s.runs} runs, scenario '${s.family}'`);
  out.push(`runs: ${s.completed} completed, ${s.sessions} server sessions, ${s.clientSessions} client-machine sessions, ${s.clockSteps} clock steps, ${s.virtualTime} ms of virtual time`);
  const cov = s.coverage.summary();
  const pct = ([a, b]: [number, number]) => `${a}/${b} (${b === 0 ? 100 : Math.round((1000 * a) / b) / 10}%)`;
  out.push(`coverage of ${s.coverage.shape.machine.id}: states ${pct(cov.states)}, transitions ${pct(cov.transitions)}`);
  if (opts.verbose) {
    for (const st of cov.missedStates) out.push(`  state not visited: ${st}`);
    for (const t of cov.missedTransitions) out.push(`  transition not taken: ${t}`);
  }
  const ccov = s.clientCoverage.summary();
  out.push(`coverage of ${s.clientCoverage.shape.machine.id} (client sessions): states ${pct(ccov.states)}, transitions ${pct(ccov.transitions)}`);
  if (opts.verbose) {
    for (const st of ccov.missedStates) out.push(`  state not visited: ${st}`);
    for (const t of ccov.missedTransitions) out.push(`  transition not taken: ${t}`);
  }
  out.push('invariant checks:');
  for (const [name, rfc] of Object.entries(INVARIANTS)) out.push(`  ${name.padEnd(26)} ${rfc.padEnd(24)} ${s.checks[name as InvariantName]}`);
  out.push('server session outcomes:');
  for (const [k, n] of Object.entries(s.outcomes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out.push(`  ${k.padEnd(40)} ${n}`);
  if (s.clientSessions > 0) {
    out.push('client machine session outcomes (by server):');
    for (const [k, n] of Object.entries(s.clientOutcomes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out.push(`  ${k.padEnd(56)} ${n}`);
  }
  if (s.failure) {
    const f = s.failure;
    out.push(`FAILED after ${f.foundAfter} run(s), shrunk ${f.shrinks} time(s): seed ${f.seed}, path '${f.path}'`);
    for (const v of f.violations) out.push(`  violation ${v.invariant} (RFC ${v.rfc}) session ${v.session}: ${v.message}`);
    out.push(`counterexample: ${JSON.stringify(f.scenario)}`);
  } else {
    out.push(`OK: all invariants held in ${s.completed} runs`);
  }
  return `${out.join('\n')}\n`;
}
