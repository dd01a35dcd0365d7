/**
 * `xmppkit sim --runs N --seed S [--scenario NAME] [--workers N] [--replay FILE] [--out DIR] [--verbose] [--rate]`
 *
 * Runs the deterministic simulator: N generated scenarios (fast-check, seed S) through the
 * real SessionDriver + receiving-entity machine over in-memory links, every invariant
 * checked on every run, spread over worker threads (default: every core; sim/parallel.ts).
 * Output contract:
 * - stdout carries only deterministic content (the summary: runs, sessions, coverage of
 *   the machine's states and transitions, invariant checks, outcomes, the counterexample):
 *   the same seed and runs give the same bytes, whatever the number of workers.
 * - stderr carries the progress bar (only when stderr is a TTY) and, with --rate, the
 *   wall-clock rate in sessions per second, which varies from run to run.
 * On a failure the shrunk counterexample is written as a JSON trace (replayable with
 * --replay) and a Mermaid sequenceDiagram into --out (default ./sim-failures), and the
 * exit code is 1.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const help = 'sim --runs N --seed S [--scenario NAME] [--replay FILE]   deterministic simulation with invariant checks';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      seed: { type: 'string', default: '1' },
      scenario: { type: 'string', default: 'mixed' },
      replay: { type: 'string' },
      out: { type: 'string', default: 'sim-failures' },
      verbose: { type: 'boolean', short: 'v', default: false },
      rate: { type: 'boolean', default: false },
      workers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const { SCENARIOS } = await import('../../sim/arbitraries.js');
  const { simulateOnCores, DEFAULT_WORKERS } = await import('../../sim/parallel.js');
  if (values.help) {
    process.stdout.write(`usage: xmppkit ${help}\n  scenarios: ${[...SCENARIOS, 'federation'].join(', ')}\n  --out DIR  where failure traces go (default sim-failures)\n  --verbose  list states and transitions not covered\n  --workers N  worker threads (default: every core, here ${DEFAULT_WORKERS}); the output does not depend on it\n  --rate     print wall-clock sessions/s on stderr\n`);
    return 0;
  }
  if (values.replay !== undefined) return replay(resolve(values.replay));

  const { formatSummary, DEFAULT_RUNS } = await import('../../sim/runner.js');
  const runs = values.runs === undefined ? DEFAULT_RUNS : Number(values.runs);
  const seed = Number(values.seed);
  const family = values.scenario as (typeof SCENARIOS)[number];
  if (!Number.isInteger(runs) || runs < 1) return usageError('--runs must be a positive integer');
  if (!Number.isInteger(seed)) return usageError('--seed must be an integer');
  const workers = values.workers === undefined ? DEFAULT_WORKERS : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) return usageError('--workers must be a positive integer');
  if ((family as string) === 'federation') return federation(runs, seed, workers, values.out, values.verbose, values.rate);
  if (!(SCENARIOS as readonly string[]).includes(family)) return usageError(`--scenario must be one of ${[...SCENARIOS, 'federation'].join(', ')}`);

  const { mermaidOf } = await import('../../sim/trace.js');
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  const summary = await simulateOnCores({
    runs,
    seed,
    family,
    workers,
    onProgress: (done, total) => {
      if (tty && (done === total || done % 10 === 0)) process.stderr.write(`\r${bar(done, total)}`);
    },
  });
  if (tty) process.stderr.write('\n');
  process.stdout.write(formatSummary(summary, { verbose: values.verbose }));
  if (values.rate) {
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`wall clock: ${seconds.toFixed(2)} s, ${Math.round(summary.sessions / seconds)} sessions/s on ${Math.min(workers, runs)} worker(s) (varies; not part of the deterministic output)\n`);
  }
  if (summary.failure) {
    const dir = resolve(values.out);
    mkdirSync(dir, { recursive: true });
    const base = join(dir, `sim-${family}-seed${seed}`);
    writeFileSync(`${base}.json`, `${JSON.stringify(summary.failure.trace, null, 2)}\n`);
    writeFileSync(`${base}.mmd`, mermaidOf(summary.failure.trace));
    // Relative to --out so stdout stays the same wherever it is run from.
    process.stdout.write(`trace: ${join(values.out, `sim-${family}-seed${seed}.json`)} (replay: xmppkit sim --replay FILE), diagram: ${join(values.out, `sim-${family}-seed${seed}.mmd`)}\n`);
    return 1;
  }
  return 0;
}

/**
 * The 'federation' family (sim/fed/): several servers, on every core (sim/fed/parallel.ts).
 * Same output contract, whatever --workers; a failure is saved as its scenario, which
 * `--replay` runs again.
 */
async function federation(runs: number, seed: number, workers: number, out: string, verbose: boolean, rate: boolean): Promise<number> {
  const { formatFedSummary } = await import('../../sim/fed/runner.js');
  const { simulateFederationOnCores } = await import('../../sim/fed/parallel.js');
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  const summary = await simulateFederationOnCores({
    runs,
    seed,
    workers,
    onProgress: (done, total) => {
      if (tty && (done === total || done % 10 === 0)) process.stderr.write(`\r${bar(done, total)}`);
    },
  });
  if (tty) process.stderr.write('\n');
  process.stdout.write(formatFedSummary(summary, { verbose }));
  if (rate) {
    const seconds = (performance.now() - started) / 1000;
    const sessions = summary.clientSessions + summary.s2sConnections;
    process.stderr.write(`wall clock: ${seconds.toFixed(2)} s, ${Math.round(sessions / seconds)} sessions/s (client and server-to-server) on ${Math.min(workers, runs)} worker(s) (varies; not part of the deterministic output)\n`);
  }
  if (!summary.failure) return 0;
  mkdirSync(resolve(out), { recursive: true });
  const name = `sim-federation-seed${seed}.json`;
  writeFileSync(join(resolve(out), name), `${JSON.stringify({ format: 'xmpp-statekit-sim-trace/1', scenario: summary.failure.scenario, seed: summary.failure.seed, path: summary.failure.path, violations: summary.failure.violations }, null, 2)}\n`);
  process.stdout.write(`trace: ${join(out, name)} (replay: xmppkit sim --replay FILE)\n`);
  return 1;
}

async function replay(file: string): Promise<number> {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { scenario: { name: string } };
  if (raw.scenario.name === 'federation') {
    const { runFederation } = await import('../../sim/fed/runner.js');
    const result = await runFederation(raw.scenario as import('../../sim/fed/scenario.js').FederationScenario);
    if ('error' in result) {
      process.stdout.write(`replay of federation: crashed: ${result.error}\n`);
      return 1;
    }
    process.stdout.write(`replay of federation: ${result.violations.length} violation(s)\n`);
    for (const v of result.violations) process.stdout.write(`  violation ${v.invariant} (${v.rfc}): ${v.message}\n`);
    return result.violations.length === 0 ? 0 : 1;
  }
  const { safeRun } = await import('../../sim/runner.js');
  const { traceOf, mermaidOf } = await import('../../sim/trace.js');
  const saved = JSON.parse(readFileSync(file, 'utf8')) as import('../../sim/trace.js').TraceFile;
  const result = safeRun(saved.scenario);
  if ('error' in result) {
    process.stdout.write(`replay of ${saved.scenario.name} (seed ${saved.scenario.seed}): crashed: ${result.error}\n`);
    return 1;
  }
  const trace = traceOf(result.world, result.violations, { ...(saved.seed !== undefined ? { seed: saved.seed } : {}), ...(saved.path !== undefined ? { path: saved.path } : {}) });
  process.stdout.write(mermaidOf(trace));
  const same = JSON.stringify(trace.segments) === JSON.stringify(saved.segments);
  process.stdout.write(`replay: ${result.violations.length} violation(s); wire trace ${same ? 'identical to' : 'DIFFERENT from'} the recorded one\n`);
  for (const v of result.violations) process.stdout.write(`  violation ${v.invariant} (RFC ${v.rfc}) session ${v.session}: ${v.message}\n`);
  return result.violations.length === 0 ? 0 : 1;
}

function bar(done: number, total: number): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

function usageError(message: string): number {
  process.stderr.write(`xmppkit sim: ${message}\n`);
  return 2;
}
