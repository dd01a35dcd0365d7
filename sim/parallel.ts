/**
 * The simulator on every core: the same runs as `simulate` (./runner.ts), spread over worker
 * threads, with a summary byte-identical to the single-threaded one whatever the number of
 * workers. How that holds:
 * - the scenarios are generated here, once, from the seed (`fc.sample` with the seed yields
 *   exactly the values `fc.check` plays with it, in the same order);
 * - a worker's contribution is counts and sets (sums and unions do not depend on order or on
 *   how the runs were split), and the printed maps are sorted;
 * - if any run fails, the whole search is run again single-threaded: the first failure, its
 *   shrinking and the counts up to it are then exactly those of `simulate`. Failures are the
 *   rare case, so the cost of doing them twice is only paid when there is something to show.
 * Custom machines (tests of broken machines) and replays of a fast-check path stay
 * single-threaded: a machine definition cannot be sent to a worker.
 */
import fc from 'fast-check';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { scenarioArbitrary, type ScenarioFamily } from './arbitraries.js';
import type { InvariantName } from './invariants.js';
import { emptySummary, simulate, type SimOptions, type SimSummary } from './runner.js';
import type { Scenario } from './scenario.js';

export interface BatchRequest {
  readonly id: number;
  readonly family: ScenarioFamily;
  readonly scenarios: readonly Scenario[];
}

export interface BatchResult {
  readonly id: number;
  readonly failed: boolean;
  readonly completed: number;
  readonly sessions: number;
  readonly clockSteps: number;
  readonly virtualTime: number;
  readonly clientSessions: number;
  readonly checks: Record<InvariantName, number>;
  readonly outcomes: Record<string, number>;
  readonly clientOutcomes: Record<string, number>;
  readonly coverage: { readonly states: readonly string[]; readonly transitions: readonly string[] };
  readonly clientCoverage: { readonly states: readonly string[]; readonly transitions: readonly string[] };
}

export interface ParallelOptions extends SimOptions {
  /** Worker threads; default: every core (os.availableParallelism()). 1 runs in this thread. */
  readonly workers?: number;
}

export const DEFAULT_WORKERS = availableParallelism();

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

export async function simulateOnCores(opts: ParallelOptions): Promise<SimSummary> {
  const workers = Math.min(opts.workers ?? DEFAULT_WORKERS, opts.runs);
  if (workers <= 1 || opts.serverMachine || opts.clientMachine || opts.path !== undefined) return simulate(opts);
  const family = opts.family ?? 'mixed';
  const scenarios = fc.sample(scenarioArbitrary(family), { numRuns: opts.runs, seed: opts.seed });
  // Several batches per worker, so a worker that drew long scenarios does not hold up the rest.
  const size = Math.max(1, Math.ceil(scenarios.length / (workers * 4)));
  const batches: BatchRequest[] = [];
  for (let i = 0; i < scenarios.length; i += size) batches.push({ id: batches.length, family, scenarios: scenarios.slice(i, i + size) });

  const results: BatchResult[] = [];
  let done = 0;
  // The sources are TypeScript run by tsx, whose loader a worker does not inherit: give it one.
  const script = new URL('./worker.ts', import.meta.url);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(script.href)}); })`;
  const pool = Array.from({ length: workers }, () => new Worker(boot, { eval: true }));
  try {
    let next = 0;
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = (): void => {
              const batch = batches[next++];
              if (batch === undefined) return resolve();
              worker.postMessage(batch);
            };
            worker.on('message', (r: BatchResult) => {
              results.push(r);
              done += r.completed;
              opts.onProgress?.(done, opts.runs);
              feed();
            });
            worker.once('error', reject);
            worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`simulator worker exited with code ${code}`))));
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  if (results.some((r) => r.failed)) return simulate(opts);

  const summary = emptySummary({ runs: opts.runs, seed: opts.seed, family });
  for (const r of results) {
    summary.completed += r.completed;
    summary.sessions += r.sessions;
    summary.clockSteps += r.clockSteps;
    summary.virtualTime += r.virtualTime;
    summary.clientSessions += r.clientSessions;
    addCounts(summary.checks, r.checks);
    addCounts(summary.outcomes, r.outcomes);
    addCounts(summary.clientOutcomes, r.clientOutcomes);
    for (const s of r.coverage.states) summary.coverage.states.add(s);
    for (const t of r.coverage.transitions) summary.coverage.transitions.add(t);
    for (const s of r.clientCoverage.states) summary.clientCoverage.states.add(s);
    for (const t of r.clientCoverage.transitions) summary.clientCoverage.transitions.add(t);
  }
  return summary;
}
