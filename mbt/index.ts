/**
 * Model-based conformance testing of a server against the receiving-entity machine
 * (RFC 6120 §4-§8): paths from xstate/graph, played over real sockets, checked step by step
 * against the model. `runMbt` is what `xmppkit mbt` and the tests call.
 */
import type { Timeouts } from '../machines/protocol.js';
import { discoverPolicy } from './discover.js';
import { buildReport, type MbtReport } from './report.js';
import { runProfile, type RunOptions, type Target } from './run.js';
import { SELF_PROFILES, startSelf } from './self.js';
import type { PathPlan } from './paths.js';
import type { ProfileResult } from './run.js';

export type MbtTarget =
  | { readonly kind: 'self' }
  | {
      readonly kind: 'remote';
      readonly host: string;
      readonly port: number;
      readonly domain: string;
      readonly user: string;
      readonly password: string;
      readonly insecure: boolean;
      readonly ca?: string;
      /** The target's timers, if known: without them no path waits for a timer. */
      readonly timeouts?: Timeouts;
    };

export async function runMbt(target: MbtTarget, opts: RunOptions = {}): Promise<MbtReport> {
  const plans: PathPlan[] = [];
  const results: ProfileResult[] = [];
  if (target.kind === 'self') {
    for (const p of SELF_PROFILES) {
      const server = await startSelf(p.name, p.policy);
      try {
        const { plan, result } = await runProfile(server.profile, opts);
        plans.push(plan);
        results.push(result);
      } finally {
        await server.stop();
      }
    }
    return buildReport('self (runtime/server createServer, 127.0.0.1, port 0)', plans, results);
  }
  const account = { domain: target.domain, user: target.user, password: target.password };
  const base = { host: target.host, port: target.port, account, insecure: target.insecure, ...(target.ca !== undefined ? { ca: target.ca } : {}) };
  const discovered = await discoverPolicy(base);
  opts.log?.(`discovered: tls ${discovered.policy.tls}, mechanisms ${discovered.offered.secured.join(' ')} (model uses ${discovered.policy.mechanisms.join(' ') || 'none'})`);
  const t: Target = { ...base, ...(target.timeouts !== undefined ? { timeouts: target.timeouts } : {}) };
  const policy = target.timeouts !== undefined ? { ...discovered.policy, timeouts: target.timeouts } : discovered.policy;
  const { plan, result } = await runProfile({ name: 'discovered', policy, target: t }, opts);
  return buildReport(`${target.host}:${target.port} (${target.domain})`, [plan], [result]);
}

export { renderText, deviations, type MbtReport } from './report.js';
export { planPaths, classifyTransition, scenarios, type PathPlan, type TestPath } from './paths.js';
export { Model, seededRandom, serializeModelState, modelLogic, type ModelPolicy, type ModelState } from './model.js';
export { SELF_PROFILES, SELF_TIMEOUTS, startSelf } from './self.js';
export { runProfile, type PathResult, type ProfileResult, type RunOptions, type Target } from './run.js';
