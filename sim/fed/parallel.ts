/**
 * The federation family on every core, as sim/parallel.ts does for the others: scenarios
 * sampled once from the seed (the values `fc.check` plays with it, in order), runs spread
 * over worker threads, counts summed and coverage sets united (neither depends on order or on
 * the split), and any failure searched again single-threaded, so the summary is byte-identical
 * whatever the number of workers.
 */
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { emptyFedSummary, simulateFederation, type FedCoverage, type FedSummary } from './runner.js';
import { federationArbitrary, type FederationScenario } from './scenario.js';

export interface FedBatchResult {
  readonly failed: boolean;
  readonly summary: Omit<FedSummary, 'coverage' | 'failure'>;
  readonly coverage: Record<keyof FedCoverage, { readonly states: readonly string[]; readonly transitions: readonly string[] }>;
}

const add = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
};

export async function simulateFederationOnCores(opts: { runs: number; seed: number; workers: number; onProgress?: (done: number, total: number) => void }): Promise<FedSummary> {
  const workers = Math.min(opts.workers, opts.runs);
  if (workers <= 1) return simulateFederation(opts);
  const scenarios = fc.sample(federationArbitrary, { numRuns: opts.runs, seed: opts.seed });
  const size = Math.max(1, Math.ceil(scenarios.length / (workers * 4)));
  const batches: FederationScenario[][] = [];
  for (let i = 0; i < scenarios.length; i += size) batches.push(scenarios.slice(i, i + size));
  const script = new URL('./worker.ts', import.meta.url);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(script.href)}); })`;
  const pool = Array.from({ length: workers }, () => new Worker(boot, { eval: true }));
  const results: FedBatchResult[] = [];
  let next = 0;
  let done = 0;
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = () => {
              const batch = batches[next++];
              if (batch === undefined) return resolve();
              worker.postMessage(batch);
            };
            worker.on('message', (r: FedBatchResult) => {
              results.push(r);
              done += r.summary.completed;
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
  if (results.some((r) => r.failed)) return simulateFederation(opts);
  const summary = emptyFedSummary(opts.seed, opts.runs);
  const coverage = summary.coverage;
  for (const r of results) {
    const s = r.summary;
    summary.completed += s.completed;
    summary.servers += s.servers;
    summary.clientSessions += s.clientSessions;
    summary.s2sConnections += s.s2sConnections;
    summary.clockSteps += s.clockSteps;
    summary.virtualTime += s.virtualTime;
    add(summary.checks, s.checks);
    add(summary.fates, s.fates);
    add(summary.methods, s.methods);
    add(summary.forgers, s.forgers);
    for (const k of Object.keys(coverage) as (keyof FedCoverage)[]) {
      for (const st of r.coverage[k].states) coverage[k].states.add(st);
      for (const t of r.coverage[k].transitions) coverage[k].transitions.add(t);
    }
  }
  return summary;
}
