/**
 * A worker thread of `simulateOnCores` (./parallel.ts): runs the scenarios it is sent,
 * with the real machines, and sends back what the summary needs. Pure computation: the
 * result depends only on the scenarios, never on which worker ran them.
 */
import { parentPort } from 'node:worker_threads';
import { emptySummary, safeRun, tally } from './runner.js';
import type { BatchRequest, BatchResult } from './parallel.js';

parentPort?.on('message', (request: BatchRequest) => {
  const summary = emptySummary({ runs: request.scenarios.length, seed: 0, family: request.family });
  let failed = false;
  for (const scenario of request.scenarios) {
    const result = safeRun(scenario, undefined, summary.coverage, summary.clientCoverage);
    if ('error' in result || result.violations.length > 0) failed = true;
    summary.completed++;
    tally(summary, result);
  }
  const reply: BatchResult = {
    id: request.id,
    failed,
    completed: summary.completed,
    sessions: summary.sessions,
    clockSteps: summary.clockSteps,
    virtualTime: summary.virtualTime,
    clientSessions: summary.clientSessions,
    checks: summary.checks,
    outcomes: summary.outcomes,
    clientOutcomes: summary.clientOutcomes,
    coverage: { states: [...summary.coverage.states], transitions: [...summary.coverage.transitions] },
    clientCoverage: { states: [...summary.clientCoverage.states], transitions: [...summary.clientCoverage.transitions] },
  };
  parentPort?.postMessage(reply);
});
