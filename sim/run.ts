/**
 * One simulated run: build the world, run it to quiescence in virtual time, check the
 * invariants.
 */
import { checkInvariants, type CheckResult } from './invariants.js';
import type { Scenario } from './scenario.js';
import { buildWorld, runWorld, type RunOptions, type World } from './world.js';

export interface RunResult extends CheckResult {
  readonly world: World;
}

export function runScenario(scenario: Scenario, opts: RunOptions = {}): RunResult {
  const world = runWorld(buildWorld(scenario, opts));
  return { world, ...checkInvariants(world) };
}
