/**
 * Many federated runs as one fast-check property (asynchronous: the Federation's `connect` is a
 * Promise), with shrinking, coverage of the server-to-server machines and a deterministic
 * summary: same seed and runs, same bytes.
 */
import fc from 'fast-check';
import { receivingEntityMachine } from '../../machines/receiving/index.js';
import { initiatingServerMachine } from '../../machines/s2s/initiating/index.js';
import { receivingServerMachine } from '../../machines/s2s/receiving/index.js';
import { s2sRouteMachine } from '../../machines/s2s/route/index.js';
import { Coverage } from '../coverage.js';
import { checkFederation, FED_INVARIANTS, type FedInvariant, type FedViolation } from './invariants.js';
import { federationArbitrary, type FederationScenario } from './scenario.js';
import { buildFedWorld, runFedWorld, type FedTransitionHook, type FedWorld } from './world.js';

export interface FedCoverage {
  readonly receivingServer: Coverage;
  readonly initiatingServer: Coverage;
  readonly route: Coverage;
  readonly receivingEntity: Coverage;
}

export interface FedSummary {
  readonly seed: number;
  readonly runs: number;
  completed: number;
  servers: number;
  clientSessions: number;
  s2sConnections: number;
  clockSteps: number;
  virtualTime: number;
  readonly checks: Record<FedInvariant, number>;
  readonly fates: Record<string, number>;
  readonly methods: Record<string, number>;
  readonly forgers: Record<string, number>;
  readonly coverage: FedCoverage;
  failure?: { seed: number; path: string; foundAfter: number; shrinks: number; scenario: FederationScenario; violations: readonly FedViolation[] };
}

export function emptyCoverage(): FedCoverage {
  return {
    receivingServer: new Coverage(receivingServerMachine),
    initiatingServer: new Coverage(initiatingServerMachine),
    route: new Coverage(s2sRouteMachine),
    receivingEntity: new Coverage(receivingEntityMachine),
  };
}

function hook(cov: FedCoverage): FedTransitionHook {
  const started = new Set<string>();
  return (machine, t) => {
    const c = cov[machine];
    if (!started.has(machine)) {
      started.add(machine);
      c.started();
    }
    c.record(t);
  };
}

export async function runFederation(scenario: FederationScenario, cov?: FedCoverage): Promise<{ world: FedWorld; violations: FedViolation[]; checks: Record<FedInvariant, number>; fates: Record<string, number> } | { error: string }> {
  try {
    const world = await runFedWorld(buildFedWorld(scenario, cov && hook(cov)));
    return { world, ...checkFederation(world) };
  } catch (e) {
    return { error: e instanceof Error ? `${e.message}\n${(e.stack ?? '').split('\n').slice(1, 4).join('\n')}` : String(e) };
  }
}

const add = (into: Record<string, number>, key: string, n = 1) => (into[key] = (into[key] ?? 0) + n);

export function emptyFedSummary(seed: number, runs: number): FedSummary {
  return {
    seed, runs, completed: 0, servers: 0, clientSessions: 0, s2sConnections: 0, clockSteps: 0, virtualTime: 0,
    checks: Object.fromEntries(Object.keys(FED_INVARIANTS).map((k) => [k, 0])) as Record<FedInvariant, number>,
    fates: {}, methods: {}, forgers: {}, coverage: emptyCoverage(),
  };
}

/** Run one scenario, count it into `summary` (coverage recorded while it runs); false when an invariant failed. */
export async function tallyFederation(summary: FedSummary, scenario: FederationScenario, record = true): Promise<boolean> {
  const result = await runFederation(scenario, record ? summary.coverage : undefined);
  const ok = !('error' in result) && result.violations.length === 0;
  if (!record) return ok;
  summary.completed++;
  summary.checks['no-crash']++;
  if (!('error' in result)) {
    for (const [k, n] of Object.entries(result.checks)) summary.checks[k as FedInvariant] += n;
    for (const [k, n] of Object.entries(result.fates)) add(summary.fates, k, n);
    const w = result.world;
    summary.servers += w.servers.length;
    summary.s2sConnections += w.connections.length;
    summary.clockSteps += w.steps;
    summary.virtualTime += w.clock.now();
    for (const s of w.servers) {
      summary.clientSessions += s.clients.length;
      for (const l of s.logs) if (l.event === 's2s.in.authenticated') add(summary.methods, String(l.fields['method']));
    }
    if (w.forger) add(summary.forgers, `${w.forger.plan.mode}: ${w.forger.results.length > 0 ? `db:result ${w.forger.results.join(',')}` : 'no db:result'}, ${w.forger.streamErrors.length > 0 ? `<${w.forger.streamErrors.join(',')}/>` : 'no stream error'}`);
  }
  return ok;
}

export async function simulateFederation(opts: { runs: number; seed: number; path?: string; onProgress?: (done: number, total: number) => void }): Promise<FedSummary> {
  const summary = emptyFedSummary(opts.seed, opts.runs);
  let failed = false;
  const property = fc.asyncProperty(federationArbitrary, async (scenario) => {
    const ok = await tallyFederation(summary, scenario, !failed);
    if (!failed) opts.onProgress?.(summary.completed, opts.runs);
    if (!ok) failed = true;
    return ok;
  });
  const details = await fc.check(property, { numRuns: opts.runs, seed: opts.seed, ...(opts.path !== undefined ? { path: opts.path } : {}), endOnFailure: false });
  if (details.failed && details.counterexample) {
    const scenario = details.counterexample[0];
    const result = await runFederation(scenario);
    const violations: FedViolation[] = 'error' in result ? [{ invariant: 'no-crash', rfc: FED_INVARIANTS['no-crash'], message: result.error }] : result.violations;
    summary.failure = { seed: details.seed, path: details.counterexamplePath ?? '', foundAfter: details.numRuns, shrinks: details.numShrinks, scenario, violations };
  }
  return summary;
}

export function formatFedSummary(s: FedSummary, opts: { verbose?: boolean } = {}): string {
  const out: string[] = [];
  out.push(`xmppkit sim: seed ${s.seed}, ${s.runs} runs, scenario 'federation'`);
  out.push(`runs: ${s.completed} completed, ${s.servers} servers, ${s.clientSessions} client sessions, ${s.s2sConnections} server-to-server connections, ${s.clockSteps} clock steps, ${s.virtualTime} ms of virtual time`);
  const pct = ([a, b]: [number, number]) => `${a}/${b} (${b === 0 ? 100 : Math.round((1000 * a) / b) / 10}%)`;
  for (const c of [s.coverage.receivingServer, s.coverage.initiatingServer, s.coverage.route, s.coverage.receivingEntity]) {
    const sum = c.summary();
    out.push(`coverage of ${c.shape.machine.id}: states ${pct(sum.states)}, transitions ${pct(sum.transitions)}`);
    if (opts.verbose && c !== s.coverage.receivingEntity) {
      for (const st of sum.missedStates) out.push(`  state not visited: ${st}`);
      for (const t of sum.missedTransitions) out.push(`  transition not taken: ${t}`);
    }
  }
  out.push('invariant checks:');
  for (const [name, rfc] of Object.entries(FED_INVARIANTS)) out.push(`  ${name.padEnd(28)} ${rfc.padEnd(30)} ${s.checks[name as FedInvariant]}`);
  const sorted = (r: Record<string, number>) => Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  out.push('stanzas handed to a route (§10.4.3):');
  for (const [k, n] of sorted(s.fates)) out.push(`  ${k.padEnd(40)} ${n}`);
  out.push('incoming pairs authenticated, by method:');
  for (const [k, n] of sorted(s.methods)) out.push(`  ${k.padEnd(40)} ${n}`);
  out.push('forging peers, what they were told:');
  for (const [k, n] of sorted(s.forgers)) out.push(`  ${k.padEnd(64)} ${n}`);
  if (s.failure) {
    const f = s.failure;
    out.push(`FAILED after ${f.foundAfter} run(s), shrunk ${f.shrinks} time(s): seed ${f.seed}, path '${f.path}'`);
    for (const v of f.violations) out.push(`  violation ${v.invariant} (${v.rfc}): ${v.message}`);
    out.push(`counterexample: ${JSON.stringify(f.scenario)}`);
  } else out.push(`OK: all invariants held in ${s.completed} runs`);
  return `${out.join('\n')}\n`;
}
