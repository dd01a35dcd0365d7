/**
 * Plays the client plan (./paths.ts) against a client under test: per path a listening
 * socket on 127.0.0.1 (port 0), the client's command launched at it (./launch.ts), and our
 * scripted server following the path's actions, with the initiating-entity model running
 * alongside as the oracle: after every action, what the client wrote is compared with what
 * the model writes (./compare.ts).
 *
 * The application's own events are not in any path: a stanza the client sends once bound
 * is fed to the oracle as SEND, a closing tag it sends on its own as CLOSE (the model must
 * allow both there). A client that ends the session itself before the path's goal leaves the
 * path 'not-reached', as does one that never connects.
 *
 * A path stops at its first deviation. Coverage counts the model transitions taken in steps
 * whose output matched. A connection after the first one is a reconnection (§3.3): noted
 * with its delay.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import type { Command, Timeouts } from '../../machines/protocol.js';
import { describeWithDefinitions } from '../../machines/introspect/model.js';
import { NS } from '../../machines/ns.js';
import type { InitiatingEntityEvent } from '../../machines/initiating/index.js';
import { serializeElement, serializeHeader } from '../../runtime/xml/index.js';
import { outputConditions } from '../conditions.js';
import { seededRandom } from '../model.js';
import { indexOfDefinitions, visitedStatePaths } from '../paths.js';
import type { PathResult, ProfileResult, StepResult } from '../run.js';
import { concretize, describeServerAction, observeClientElement, type ClientAccount, type ServerAction, type ServerState } from './actions.js';
import { canonicalClient, compareClient, displayClient, expectedClientObservations, headerNotes } from './compare.js';
import { launchClient, type LaunchValues } from './launch.js';
import { ClientModel, type ClientModelPolicy, type ClientModelState } from './model.js';
import { planClientPaths, type ClientPathPlan } from './paths.js';
import type { ClientObservation } from './wire.js';
import { ServerWire } from './wire.js';
import type { TestPath } from '../paths.js';

export interface ServerCredentials {
  /** The certificate the client is told to trust ({ca}) and the server's key and certificate signed by it. */
  readonly caFile: string;
  readonly trusted: { readonly key: string; readonly cert: string };
  /** A certificate for the same name the client must not trust (self-signed, not from {ca}). */
  readonly untrusted: { readonly key: string; readonly cert: string };
}

export interface ClientUnderTest {
  /** 'slixmpp', 'xmpp.js', 'xmppkit' */
  readonly name: string;
  /** The command line, with placeholders (./launch.ts). */
  readonly command: string;
  readonly account: ClientAccount;
  /** How the client is configured (TLS required, its mechanisms in preference order, ...). */
  readonly policy: ClientModelPolicy;
  /** The client's timers, when known and short: only then do paths wait for them. */
  readonly timeouts?: Timeouts;
  readonly env?: NodeJS.ProcessEnv;
}

export interface ClientRunOptions {
  readonly stepTimeoutMs?: number;
  readonly settleMs?: number;
  /** How long the client has to connect after it was launched. */
  readonly connectTimeoutMs?: number;
  readonly concurrency?: number;
  readonly only?: readonly string[];
  readonly log?: (line: string) => void;
}

/** Milliseconds each named delay of the machine lasts in the client. */
function delaysOf(model: ClientModel, timeouts: Timeouts | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (timeouts === undefined) return out;
  const { model: described } = describeWithDefinitions(model.machine, { timeouts: { ...timeouts } });
  for (const t of described.transitions) if (t.kind === 'after' && t.delayMs !== undefined) out.set(t.eventType, t.delayMs);
  return out;
}

export async function runClientProfile(client: ClientUnderTest, creds: ServerCredentials, opts: ClientRunOptions = {}): Promise<{ plan: ClientPathPlan; result: ProfileResult }> {
  const policy = client.timeouts !== undefined ? { ...client.policy, timeouts: client.timeouts } : client.policy;
  const planner = new ClientModel({ account: client.account, policy, random: seededRandom(1) });
  const plan = planClientPaths(planner, { noWaits: client.timeouts === undefined });
  const index = indexOfDefinitions(plan.definitions);
  const delays = delaysOf(planner, client.timeouts);
  const covered = new Set<number>();
  const statesCovered = new Set<string>();
  const conditionsCovered = new Set<string>();
  const todo = plan.paths.map((path, i) => ({ path, seed: 100 + i })).filter(({ path }) => !opts.only || opts.only.includes(path.id));
  const results: PathResult[] = new Array(todo.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const k = next++;
      const { path, seed } = todo[k]!;
      const oracle = new ClientModel({ account: client.account, policy, random: seededRandom(seed) });
      const r = await playClientPath(path, oracle, client, creds, delays, opts, (fired, active, conditions) => {
        for (const c of conditions) conditionsCovered.add(c);
        for (const d of fired) {
          const i = index.get(d);
          if (i !== undefined) covered.add(i);
        }
        for (const s of active) statesCovered.add(s);
      });
      results[k] = r;
      opts.log?.(`${client.name} ${r.id} ${r.status}${r.deviation ? ` at step ${r.deviation.step + 1} (${r.deviation.action})` : ''}${r.error ? `: ${r.error.split('\n')[0]}` : ''}`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  const { random: _r, ...shown } = policy as ClientModelPolicy & { random?: unknown };
  return {
    plan,
    result: {
      name: client.name,
      policy: { ...shown },
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

function listen(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ pauseOnConnect: false });
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const isStanza = (o: ClientObservation): boolean => o.kind === 'element' && o.element.xmlns === NS.CLIENT && ['message', 'presence', 'iq'].includes(o.element.name);

async function playClientPath(
  path: TestPath<ServerAction>,
  oracle: ClientModel,
  client: ClientUnderTest,
  creds: ServerCredentials,
  delays: Map<string, number>,
  opts: ClientRunOptions,
  cover: (fired: readonly object[], active: readonly string[], conditions: readonly string[]) => void,
): Promise<PathResult> {
  const started = Date.now();
  const stepTimeout = opts.stepTimeoutMs ?? 3000;
  const settle = opts.settleMs ?? 100;
  const steps: StepResult[] = [];
  const notes: string[] = [];
  const base = { id: path.id, goal: path.goal, actions: path.actions.map(describeServerAction), notes };
  let server: net.Server;
  try {
    server = await listen();
  } catch (err) {
    return { ...base, status: 'error', steps, error: `listen: ${(err as Error).message}`, durationMs: Date.now() - started };
  }
  const port = (server.address() as net.AddressInfo).port;
  let firstEnded = 0;
  let wire: ServerWire | undefined;
  const connected = new Promise<ServerWire | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), opts.connectTimeoutMs ?? 15_000);
    server.on('connection', (socket) => {
      if (wire === undefined) {
        clearTimeout(timer);
        wire = new ServerWire(socket);
        socket.once('close', () => (firstEnded = Date.now()));
        resolve(wire);
      } else {
        // §3.3: a reconnection; noted with how long the client waited.
        notes.push(`RFC 6120 §3.3: reconnected ${firstEnded > 0 ? `${Date.now() - firstEnded} ms after the connection ended` : 'while the first connection was open'}`);
        socket.destroy();
      }
    });
  });
  const values: LaunchValues = { host: '127.0.0.1', port, domain: client.account.domain, user: client.account.user, password: client.account.password, ca: creds.caFile };
  const proc = launchClient(client.command, values, client.env);
  const finish = async (r: Omit<PathResult, 'durationMs' | 'transcript'>, withTranscript: boolean): Promise<PathResult> => {
    await proc.stop();
    wire?.destroy();
    server.close();
    const transcript = withTranscript
      ? [...(wire?.transcript ?? []).map((t) => `${t.dir === 'out' ? '>>' : '<<'} ${t.text.length > 600 ? `${t.text.slice(0, 600)}…` : t.text}`), ...(proc.output().trim() !== '' ? [`client output: ${proc.output().trim().slice(-1500)}`] : [])]
      : undefined;
    return { ...r, durationMs: Date.now() - started, ...(transcript ? { transcript } : {}) };
  };
  const conn = await Promise.race([connected, proc.exited.then(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 200)))]);
  if (conn === undefined) {
    return finish({ ...base, status: 'not-reached', steps, error: `the client did not connect (${proc.output().trim().split('\n').slice(-3).join(' | ') || 'no output'})` }, true);
  }
  let model: ClientModelState = oracle.initial();
  let server_: ServerState = {};
  const random = (k: number): Uint8Array => new Uint8Array(randomBytes(k));
  const ctx = { account: client.account, random, credentials: () => oracle.credentials() };

  /** Compare what arrived with the step's expectation, absorbing the application's own SEND and CLOSE. */
  const check = (expected: ClientObservation[], received: ClientObservation[], state: ClientModelState): { state: ClientModelState; mismatch?: ReturnType<typeof compareClient>; closedByClient: boolean; extra: Command[] } => {
    const pending = [...expected];
    let now = state;
    let closedByClient = false;
    const extra: Command[] = [];
    const matched: ClientObservation[] = [];
    for (const r of received) {
      if (pending.length > 0 && canonicalClient(pending[0]!) === canonicalClient(r)) {
        matched.push(pending.shift()!);
        continue;
      }
      const online = now.machine.matches({ open: 'established' });
      const appEvent: InitiatingEntityEvent | undefined =
        online && isStanza(r) && r.kind === 'element' ? { type: 'SEND', stanza: r.element } : r.kind === 'close' && now.machine.matches('open') && pending.length === 0 ? { type: 'CLOSE' } : undefined;
      if (appEvent !== undefined) {
        const after = oracle.apply(now, [appEvent]);
        const predicted = expectedClientObservations(after.commands);
        if (predicted.length >= 1 && canonicalClient(predicted[0]!) === canonicalClient(r)) {
          now = after;
          extra.push(...after.commands);
          pending.push(...predicted.slice(1));
          if (appEvent.type === 'CLOSE') closedByClient = true;
          continue;
        }
      }
      return { state: now, mismatch: compareClient(expected, received), closedByClient, extra };
    }
    if (pending.length > 0) return { state: now, mismatch: compareClient(expected, received), closedByClient, extra };
    return { state: now, closedByClient, extra };
  };

  /** Wait for the expected observations, then a little more; what arrived. */
  const collect = async (expected: ClientObservation[], waitMs: number): Promise<ClientObservation[]> => {
    const expectWhitespace = expected.some((o) => o.kind === 'whitespace');
    const counts = (o: ClientObservation): boolean => o.kind !== 'whitespace' || expectWhitespace;
    const count = expected.filter(counts).length;
    await conn.waitFor(count, count === 0 ? settle * 2 : waitMs, counts);
    await new Promise((r) => setTimeout(r, settle));
    const all = conn.take().filter(counts);
    // Whitespace keepalives: a run of them is one observation.
    return all.filter((o, k) => !(o.kind === 'whitespace' && all[k - 1]?.kind === 'whitespace'));
  };

  try {
    // The client speaks first: its initial header (§4.2).
    {
      const expected = expectedClientObservations(model.commands);
      const received = await collect(expected, stepTimeout);
      for (const o of received) for (const n of headerNotes(o, false)) notes.push(`connect: ${n}`);
      const c = check(expected, received, model);
      steps.push({ action: '(connect)', rfc: rfcOf(model.fired), expected: expected.map(displayClient), received: received.map(displayClient), ok: c.mismatch === undefined });
      for (const o of received) if (o.kind === 'element') server_ = observeClientElement(server_, o.element);
      if (c.mismatch !== undefined) {
        return finish({ ...base, status: 'deviation', steps, deviation: { step: 0, action: '(connect)', rfc: rfcOf(model.fired), expected: c.mismatch.expected, received: c.mismatch.received, ...(c.mismatch.explanation ? { explanation: c.mismatch.explanation } : {}) } }, true);
      }
      cover(model.fired, visitedStatePaths(model.machine, model.fired), []);
    }
    for (let i = 0; i < path.actions.length; i++) {
      const action = path.actions[i]!;
      const next = oracle.step(model, action);
      const expected = expectedClientObservations(next.commands);
      const { parts, server: afterWrite } = concretize(action, server_, ctx);
      server_ = afterWrite;
      let waitMs = stepTimeout;
      for (const part of parts) {
        switch (part.kind) {
          case 'header':
            conn.write(serializeHeader(part.header));
            break;
          case 'element':
            if (part.element.name === 'proceed' && part.element.xmlns === NS.TLS) conn.expectClientHello();
            conn.write(serializeElement(part.element, NS.CLIENT));
            if (part.element.name === 'success' && part.element.xmlns === NS.SASL) conn.expectRestart();
            break;
          case 'raw':
          case 'malformed':
            conn.write(part.text);
            break;
          case 'tls':
            await conn.startTls(part.certificate === 'trusted' ? creds.trusted : creds.untrusted, stepTimeout);
            break;
          case 'end':
            conn.end();
            break;
          case 'wait':
            waitMs = (delays.get((action as Extract<ServerAction, { type: 'wait' }>).eventType) ?? 0) + stepTimeout;
            break;
        }
      }
      const all = await collect(expected, waitMs);
      // The connection we closed ourselves: its end is not the client's doing.
      const received = parts.some((p) => p.kind === 'end') ? all.filter((o) => o.kind !== 'eof') : all;
      const secured = (next.machine.context as { secured?: boolean }).secured === true;
      for (const o of received) for (const n of headerNotes(o, secured)) notes.push(`step ${i + 1} (${describeServerAction(action)}): ${n}`);
      const c = check(expected, received, next);
      const rfc = rfcOf(next.fired);
      steps.push({ action: describeServerAction(action), rfc, expected: expected.map(displayClient), received: received.map(displayClient), ok: c.mismatch === undefined });
      for (const o of received) if (o.kind === 'element') server_ = observeClientElement(server_, o.element);
      if (c.mismatch !== undefined) {
        return finish(
          { ...base, status: 'deviation', steps, deviation: { step: i + 1, action: describeServerAction(action), rfc, expected: c.mismatch.expected, received: c.mismatch.received, ...(c.mismatch.explanation ? { explanation: c.mismatch.explanation } : {}) } },
          true,
        );
      }
      cover(next.fired, visitedStatePaths(next.machine, next.fired), outputConditions(next.commands));
      model = c.state;
      if (c.closedByClient && i < path.actions.length - 1) {
        return finish({ ...base, status: 'not-reached', steps, error: `the client closed the session itself after step ${i + 1} (the application's CLOSE, §4.4)` }, true);
      }
      if (conn.closed && i < path.actions.length - 1 && model.machine.status === 'active') {
        return finish({ ...base, status: 'deviation', steps, deviation: { step: i + 1, action: describeServerAction(action), rfc, expected: ['(connection open)'], received: ['(TCP closed)'] } }, true);
      }
    }
    return finish({ ...base, status: 'pass', steps }, false);
  } catch (err) {
    return finish({ ...base, status: 'error', steps, error: (err as Error).stack ?? String(err) }, true);
  }
}

/** The RFC sections the model cites for the transitions one step took. */
function rfcOf(fired: readonly object[]): string[] {
  const out: string[] = [];
  for (const d of fired) {
    const rfc = ((d as { meta?: { rfc?: string } }).meta ?? {}).rfc;
    if (rfc !== undefined && !out.includes(rfc)) out.push(rfc);
  }
  return out;
}
