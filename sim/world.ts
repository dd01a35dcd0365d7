/**
 * One simulated world: a virtual clock, in-memory links, the server host running the real
 * receiving-entity machine through SessionDriver, and the scenario's peers. `runScenario`
 * is a pure function of the scenario (and the machine under test): no sockets, no wall
 * time, no Math.random; every choice comes from the scenario's seed.
 */
import { DEFAULT_SERVER_POLICY } from '../machines/policy.js';
import type { ReceivingEntityMachine, ReceivingEntityMachineInput } from '../machines/receiving/index.js';
import { SIM_DOMAIN } from './accounts.js';
import { VirtualClock } from './clock.js';
import type { Coverage } from './coverage.js';
import { SimHost, type ServerSession } from './host.js';
import { Link, type LinkFaults } from './link.js';
import { ScriptedClient, SIM_MAX_STANZA_BYTES, type ClientRecord } from './peers/client.js';
import { MachineClient } from './peers/machine-client.js';
import { ScriptedServer } from './peers/server.js';
import { initiatingEntityMachine, type InitiatingEntityMachine } from '../machines/initiating/index.js';
import { Rng } from './rng.js';
import type { ClientPlan, LinkPlan, Scenario } from './scenario.js';

export interface World {
  readonly scenario: Scenario;
  readonly clock: VirtualClock;
  readonly host: SimHost;
  readonly links: Link[];
  readonly clients: { readonly record: ClientRecord }[];
  /** Server session serving client i (undefined until it connects). */
  readonly serverOf: (ServerSession | undefined)[];
  /** Virtual time by which every session must have ended (§4.6: no hang). */
  readonly horizon: number;
  /** Clock steps taken. */
  steps: number;
  /** Server sessions still open when the horizon passed (then shut down by the operator). */
  openAtHorizon: number[];
}

export interface RunOptions {
  /** The receiving-entity machine (a deliberately broken variant in tests). */
  readonly serverMachine?: ReceivingEntityMachine;
  readonly serverCoverage?: Coverage;
  readonly clientCoverage?: Coverage;
  /** The initiating-entity machine for machine clients (a deliberately broken variant in tests). */
  readonly clientMachine?: InitiatingEntityMachine;
}

function faultsOf(plan: LinkPlan): LinkFaults {
  return {
    maxFragment: plan.maxFragment,
    delay: plan.delay,
    ...(plan.cutAfterBytes !== undefined ? { cutAfterBytes: plan.cutAfterBytes } : {}),
    ...(plan.tlsFails ? { tlsFails: true } : {}),
    ...(plan.serverWriteFailAfter !== undefined ? { writeFailAfter: { end: 'b' as const, bytes: plan.serverWriteFailAfter } } : {}),
    maxBuffered: 64 * 1024,
  };
}

/** §4.6: the latest time a session may still be open, from its plan and the server's timeouts. */
function sessionBound(scenario: Scenario, c: ClientPlan): number {
  const t = scenario.server.timeouts;
  const script = c.stanzas.reduce((sum, s) => sum + s.gap, 0) + c.idle;
  const delays = (c.link.delay[1] + 1) * 400; // generous allowance for in-flight bytes
  return c.startAt + t.negotiation + script + t.idle + t.pingResponse + 2 * t.closeWait + 10_000 + delays;
}

export function buildWorld(scenario: Scenario, opts: RunOptions = {}): World {
  const clock = new VirtualClock();
  const rng = new Rng(scenario.seed);
  const coverage = opts.serverCoverage;
  const host = new SimHost({
    clock,
    rng: rng.fork(),
    domain: SIM_DOMAIN,
    parser: { maxStanzaBytes: SIM_MAX_STANZA_BYTES },
    ...(opts.serverMachine ? { machine: opts.serverMachine } : {}),
    ...(coverage ? { onTransition: (t) => coverage.record(t) } : {}),
  });
  const links: Link[] = [];
  const clients: (ScriptedClient | MachineClient)[] = [];
  const serverOf: (ServerSession | undefined)[] = [];
  const scripted: (ScriptedServer | undefined)[] = [];
  const world: World = {
    scenario, clock, host, links, clients, serverOf, steps: 0, openAtHorizon: [],
    horizon: Math.max(0, ...scenario.clients.map((c) => sessionBound(scenario, c))),
  };
  scenario.clients.forEach((plan, i) => {
    const link = new Link(clock, rng.fork(), faultsOf(plan.link));
    links.push(link);
    const sessionRng = rng.fork();
    const serverRng = rng.fork();
    // domain and random first (neither policy has them): after a leading spread V8 gives the
    // object a new hidden class per session, and the machine reads `context.input` on every step.
    const input: ReceivingEntityMachineInput = {
      domain: SIM_DOMAIN,
      random: (n) => sessionRng.bytes(n),
      ...DEFAULT_SERVER_POLICY,
      ...scenario.server,
    };
    const clientWorld = {
      clock,
      rng: rng.fork(),
      domain: SIM_DOMAIN,
      timeouts: scenario.server.timeouts,
      serverClose: (how: 'close' | 'shutdown') => {
        scripted[i]?.closeStream();
        serverOf[i]?.driver.send({ type: how === 'shutdown' ? 'SHUTDOWN' : 'CLOSE' });
      },
    };
    const clientCoverage = opts.clientCoverage;
    const client =
      plan.kind === 'machine'
        ? new MachineClient(clientWorld, link.a, plan, i, opts.clientMachine ?? initiatingEntityMachine, clientCoverage ? (t) => clientCoverage.record(t) : undefined)
        : new ScriptedClient(clientWorld, link, link.a, plan, i);
    clients.push(client);
    serverOf.push(undefined);
    clock.setTimeout(() => {
      // TCP connect: the server's session starts, then the client writes its header.
      if (plan.kind === 'machine') opts.clientCoverage?.started();
      if (plan.kind === 'machine' && plan.server !== undefined) scripted[i] = new ScriptedServer({ clock, rng: serverRng, domain: SIM_DOMAIN }, link.b, plan.server);
      else {
        coverage?.started();
        serverOf[i] = host.accept(link.b, input);
      }
      client.start();
    }, plan.startAt);
  });
  const op = scenario.operator;
  if (op) {
    clock.setTimeout(() => {
      for (const s of host.sessions) {
        if (s.driver.outcome !== undefined) continue;
        if (op.action === 'shutdown') s.driver.send({ type: 'SHUTDOWN' });
        else if (op.action === 'close') s.driver.send({ type: 'CLOSE' });
        else s.driver.send({ type: 'FAIL', condition: op.action, ...(op.action === 'see-other-host' ? { text: 'other.sim.example' } : {}) });
      }
    }, op.at);
  }
  return world;
}

/**
 * Run the world until nothing is scheduled or the horizon passes. Sessions still open then
 * are recorded (the invariants judge whether that is allowed) and the operator shuts the
 * server down (§4.9.3.20), so every run ends and leaked timers show up as pending ones.
 */
export function runWorld(world: World): World {
  world.steps += world.clock.run(world.horizon, 2_000_000);
  const open = world.host.sessions.filter((s) => s.driver.outcome === undefined);
  if (open.length > 0) {
    world.openAtHorizon.push(...open.map((s) => s.index));
    world.host.shutdown();
    const t = world.scenario.server.timeouts;
    world.steps += world.clock.run(world.clock.now() + 2 * t.closeWait + 20_000, 2_000_000);
  }
  return world;
}
