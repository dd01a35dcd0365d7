/**
 * Plays the planned paths (./paths.ts) against a server as a real client, one TCP
 * connection per path, and checks every response against the model (./model.ts), which runs
 * alongside as the oracle: the same client actions, its own SCRAM nonces, its predicted
 * output compared with the target's after normalization (./compare.ts).
 *
 * A path stops at its first deviation: from there the target and the model are in states
 * that no longer correspond. Coverage counts the model transitions taken in steps whose
 * output matched.
 */
import { randomBytes } from 'node:crypto';
import type { Timeouts } from '../machines/protocol.js';
import { describeWithDefinitions } from '../machines/introspect/model.js';
import { concretize, describeAction, observeServerElement, RESOURCE, TLS_GARBAGE, type Account, type ClientAction, type ClientState } from './actions.js';
import { WireClient, type Observation } from './client.js';
import { compareObservations, display, expectedObservations, ignorable, notesFor } from './compare.js';
import { Model, seededRandom, type ModelPolicy, type ModelState } from './model.js';
import { indexOfDefinitions, visitedStatePaths, planPaths, transitionName, type PathPlan, type TestPath } from './paths.js';
import { serializeElement, serializeHeader } from '../runtime/xml/index.js';
import { NS } from '../machines/ns.js';
import { outputConditions } from './conditions.js';
import type { StreamLimits } from './faults.js';

export interface Target {
  readonly host: string;
  readonly port: number;
  readonly account: Account;
  /** Skip certificate verification (self-signed test certificates). */
  readonly insecure: boolean;
  readonly ca?: string;
  /** The target's timers, when known; paths that wait for a timer need them. */
  readonly timeouts?: Timeouts;
  /** The target's size limits (RFC 6120 §13.12), when known; paths that cross them need them. */
  readonly limits?: StreamLimits;
}

export interface StepResult {
  readonly action: string;
  /** RFC sections of the model transitions this step took. */
  readonly rfc: readonly string[];
  readonly expected: readonly string[];
  readonly received: readonly string[];
  readonly ok: boolean;
}

export interface PathResult {
  readonly id: string;
  readonly goal: string;
  readonly actions: readonly string[];
  /** 'not-reached': the peer left the path before its goal in a way the model allows (a client's own CLOSE), or never connected. */
  readonly status: 'pass' | 'deviation' | 'error' | 'not-reached';
  readonly steps: readonly StepResult[];
  readonly deviation?: {
    readonly step: number;
    readonly action: string;
    readonly rfc: readonly string[];
    readonly expected: readonly string[];
    readonly received: readonly string[];
    readonly explanation?: string;
  };
  readonly error?: string;
  readonly durationMs: number;
  /** Tolerated differences (compare.ts notesFor), with the step they were seen in. */
  readonly notes?: readonly string[];
  /** Bytes written (>>) and read (<<), for paths that did not pass. */
  readonly transcript?: readonly string[];
}

export interface TransitionRow {
  readonly transition: string;
  readonly rfc?: string;
  readonly why: string;
}

export interface ProfileResult {
  readonly name: string;
  readonly policy: Record<string, unknown>;
  readonly modelStates: number;
  readonly modelEdges: number;
  readonly paths: readonly PathResult[];
  /** Indexes into the machine's transition list. */
  readonly reachable: readonly number[];
  readonly covered: readonly number[];
  readonly statesReachable: readonly string[];
  readonly statesCovered: readonly string[];
  readonly conditionsReachable: readonly string[];
  /** Conditions sent in steps whose output matched the model. */
  readonly conditionsCovered: readonly string[];
}

export interface RunProfile {
  readonly name: string;
  readonly policy: ModelPolicy;
  readonly target: Target;
}

export interface RunOptions {
  /** Per step: how long to wait for the output the model predicts. */
  readonly stepTimeoutMs?: number;
  /** After the predicted output: how long to listen for more. */
  readonly settleMs?: number;
  readonly log?: (line: string) => void;
  /** Paths played at the same time, each on its own connection. Default 4. */
  readonly concurrency?: number;
  /** Only these path ids (debugging). */
  readonly only?: readonly string[];
}

/** Milliseconds each named delay of the machine lasts on the target. */
function delaysOf(model: Model, timeouts: Timeouts | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (timeouts === undefined) return out;
  const { model: described } = describeWithDefinitions(model.machine, { timeouts: { ...timeouts } });
  for (const t of described.transitions) if (t.kind === 'after' && t.delayMs !== undefined) out.set(t.eventType, t.delayMs);
  return out;
}

export async function runProfile(profile: RunProfile, opts: RunOptions = {}): Promise<{ plan: PathPlan; result: ProfileResult }> {
  const { target } = profile;
  const planner = new Model({ account: target.account, policy: profile.policy, random: seededRandom(1) });
  const plan = planPaths(planner, { noWaits: target.timeouts === undefined, ...(target.limits ? { limits: target.limits } : {}) });
  const index = indexOfDefinitions(plan.definitions);
  const delays = delaysOf(planner, target.timeouts);
  const covered = new Set<number>();
  const statesCovered = new Set<string>();
  const conditionsCovered = new Set<string>();
  const todo = plan.paths.map((path, i) => ({ path, seed: 100 + i })).filter(({ path }) => !opts.only || opts.only.includes(path.id));
  const results: PathResult[] = new Array(todo.length);
  // Paths are independent connections: play a few at once (the timer paths spend most of their time waiting).
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const k = next++;
      const { path, seed } = todo[k]!;
      const account = { ...target.account, resource: `${RESOURCE}-${seed}` };
      const oracle = new Model({ account, policy: profile.policy, random: seededRandom(seed) });
      const r = await playPath(path, oracle, { ...target, account }, delays, opts, (fired, active, conditions) => {
        for (const c of conditions) conditionsCovered.add(c);
        for (const d of fired) {
          const i = index.get(d);
          if (i !== undefined) covered.add(i);
        }
        for (const s of active) statesCovered.add(s);
      });
      results[k] = r;
      opts.log?.(`${profile.name} ${r.id} ${r.status}${r.deviation ? ` at step ${r.deviation.step + 1} (${r.deviation.action})` : ''}${r.error ? `: ${r.error}` : ''}`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  // Entering the machine (its initial transition) happens on every connection.
  for (const d of planner.initial().fired) {
    const i = index.get(d);
    if (i !== undefined) covered.add(i);
  }
  const { random: _random, ...policy } = profile.policy as ModelPolicy & { random?: unknown };
  return {
    plan,
    result: {
      name: profile.name,
      policy: { ...policy },
      modelStates: plan.modelStates,
      modelEdges: plan.modelEdges,
      paths: results,
      reachable: plan.reachable,
      covered: [...covered].sort((a, b) => a - b),
      statesReachable: plan.reachableStates,
      statesCovered: [...statesCovered].sort(),
      conditionsReachable: plan.conditionsReachable,
      conditionsCovered: [...conditionsCovered].sort(),
    },
  };
}

async function playPath(
  path: TestPath,
  oracle: Model,
  target: Target,
  delays: Map<string, number>,
  opts: RunOptions,
  cover: (fired: readonly object[], active: readonly string[], conditions: readonly string[]) => void,
): Promise<PathResult> {
  const started = Date.now();
  const stepTimeout = opts.stepTimeoutMs ?? 3000;
  const settle = opts.settleMs ?? 60;
  const steps: StepResult[] = [];
  const notes: string[] = [];
  const base = { id: path.id, goal: path.goal, actions: path.actions.map(describeAction), notes };
  let conn: WireClient;
  try {
    conn = await WireClient.connect({ host: target.host, port: target.port });
  } catch (err) {
    return { ...base, status: 'error', steps, error: `connect: ${(err as Error).message}`, durationMs: Date.now() - started };
  }
  let model: ModelState = oracle.initial();
  let client: ClientState = {};
  try {
    for (let i = 0; i < path.actions.length; i++) {
      const action = path.actions[i]!;
      const wasEstablished = model.machine.matches({ open: 'established' });
      const next = oracle.step(model, action);
      const expected = expectedObservations(next.commands);
      const expectWhitespace = expected.some((o) => o.kind === 'whitespace');
      // Carry the action out on the wire, with the real client's own SASL state.
      const { concrete, client: afterSend } = concretize(action, client, { account: target.account, random: (k) => new Uint8Array(randomBytes(k)) });
      client = afterSend;
      let waitMs = stepTimeout;
      switch (concrete.kind) {
        case 'header':
          conn.write(serializeHeader(concrete.header));
          break;
        case 'element':
          conn.write(serializeElement(concrete.element, NS.CLIENT));
          break;
        case 'raw':
          conn.write(concrete.text);
          break;
        case 'malformed':
          conn.write(concrete.bytes);
          break;
        case 'tls':
          await conn.startTls(target.account.domain, { insecure: target.insecure, ...(target.ca !== undefined ? { ca: target.ca } : {}) });
          break;
        case 'tlsGarbage':
          conn.write(TLS_GARBAGE);
          break;
        case 'end':
          conn.end();
          break;
        case 'wait':
          waitMs = (delays.get((action as Extract<ClientAction, { type: 'wait' }>).eventType) ?? 0) + stepTimeout;
          break;
      }
      const count = expected.filter((o) => o.kind !== 'whitespace' || expectWhitespace).length;
      if (concrete.kind === 'end') {
        await conn.settle(settle);
      } else {
        const establishedNow = wasEstablished || next.machine.matches({ open: 'established' });
        await conn.waitFor(count, count === 0 && concrete.kind !== 'wait' ? settle * 2 : waitMs, (o) => !ignorable(o, { established: establishedNow, expectWhitespace }));
        await conn.settle(settle);
      }
      const established = wasEstablished || next.machine.matches({ open: 'established' });
      const all = conn.take();
      const received = all.filter((o) => !ignorable(o, { established, expectWhitespace }));
      // The client we closed ourselves: its own end is not the server's doing.
      const relevant = concrete.kind === 'end' ? received.filter((o) => o.kind !== 'eof') : received;
      // Keepalives are counted as "some whitespace arrived": a run of them is one observation.
      const comparable = expectWhitespace
        ? relevant.filter((o, k) => !(o.kind === 'whitespace' && relevant[k - 1]?.kind === 'whitespace'))
        : relevant.filter((o) => o.kind !== 'whitespace');
      const mismatch = compareObservations(expected.filter((o) => o.kind !== 'whitespace' || expectWhitespace), comparable);
      const rfc = rfcOf(oracle, next.fired);
      for (const o of comparable) for (const note of notesFor(o)) notes.push(`step ${i + 1} (${describeAction(action)}): ${note}`);
      for (const o of all) if (o.kind === 'element') client = observeServerElement(client, o.element);
      const step: StepResult = {
        action: describeAction(action),
        rfc,
        expected: expected.map(display),
        received: all.filter((o) => o.kind !== 'whitespace' || expectWhitespace).map(display),
        ok: mismatch === undefined,
      };
      steps.push(step);
      if (mismatch !== undefined) {
        return {
          ...base,
          status: 'deviation',
          steps,
          deviation: {
            step: i,
            action: step.action,
            rfc,
            expected: mismatch.expected,
            received: mismatch.received,
            ...(mismatch.explanation !== undefined ? { explanation: mismatch.explanation } : {}),
          },
          durationMs: Date.now() - started,
          transcript: transcriptOf(conn),
        };
      }
      cover(next.fired, visitedStatePaths(next.machine, next.fired), outputConditions(next.commands));
      model = next;
      if (conn.closed && i < path.actions.length - 1 && next.machine.status === 'active') {
        return { ...base, status: 'deviation', steps, deviation: { step: i, action: step.action, rfc, expected: ['(connection open)'], received: ['(TCP closed)'] }, durationMs: Date.now() - started };
      }
    }
    return { ...base, status: 'pass', steps, durationMs: Date.now() - started };
  } catch (err) {
    return { ...base, status: 'error', steps, error: (err as Error).stack ?? String(err), durationMs: Date.now() - started, transcript: transcriptOf(conn) };
  } finally {
    conn.destroy();
  }
}

function transcriptOf(conn: WireClient): string[] {
  return conn.transcript.map((t) => `${t.dir === 'out' ? '>>' : '<<'} ${t.text.length > 600 ? `${t.text.slice(0, 600)}…` : t.text}`);
}

/** The RFC sections the model cites for the transitions one step took (most specific last). */
function rfcOf(model: Model, fired: readonly object[]): string[] {
  const out: string[] = [];
  for (const d of fired) {
    const rfc = ((d as { meta?: { rfc?: string } }).meta ?? {}).rfc;
    if (rfc !== undefined && !out.includes(rfc)) out.push(rfc);
  }
  void model;
  return out;
}

export { transitionName, type Observation };
