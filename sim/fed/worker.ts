/**
 * A worker thread of `simulateFederationOnCores` (./parallel.ts): runs the federation scenarios
 * it is sent and sends back counts and coverage sets. Pure computation: the result depends only
 * on the scenarios, never on which worker ran them.
 */
import { parentPort } from 'node:worker_threads';
import type { FedCoverage } from './runner.js';
import { tallyFederation, emptyFedSummary } from './runner.js';
import type { FedBatchResult } from './parallel.js';
import type { FederationScenario } from './scenario.js';

parentPort?.on('message', (scenarios: FederationScenario[]) => {
  void (async () => {
    const summary = emptyFedSummary(0, scenarios.length);
    let failed = false;
    for (const scenario of scenarios) if (!(await tallyFederation(summary, scenario))) failed = true;
    const { coverage, failure: _f, ...counts } = summary;
    const sets = Object.fromEntries(
      (Object.keys(coverage) as (keyof FedCoverage)[]).map((k) => [k, { states: [...coverage[k].states], transitions: [...coverage[k].transitions] }]),
    ) as unknown as FedBatchResult['coverage'];
    const reply: FedBatchResult = { failed, summary: counts, coverage: sets };
    parentPort?.postMessage(reply);
  })();
});
