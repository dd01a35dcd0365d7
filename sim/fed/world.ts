/**
 * A world of two or three federated servers (the 'federation' family): per server the sim
 * host (sim/host.ts, the real receiving-entity machine and router) plus the real Federation
 * of runtime/s2s, whose `connect` makes a new sim Link to the remote server and hands its
 * other end to that server's `accept`. The virtual clock is every timer; the seeded Rng is
 * every random byte and the routes' back-off randomness. The Federation's `connect` is a
 * Promise, so the run loop lets microtasks run (deterministically) after a step that made one.
 */
import { DialbackSecret } from '../../machines/dialback/index.js';
import type { PeerCertificate } from '../../machines/identity.js';
import { DEFAULT_SERVER_POLICY } from '../../machines/policy.js';
import type { ReceivingEntityMachineInput } from '../../machines/receiving/index.js';
import type { Timeouts } from '../../machines/protocol.js';
import { attr, type XmlElement } from '../../machines/xml.js';
import { Federation, type S2sMachineName } from '../../runtime/s2s/federation.js';
import type { Logger } from '../../runtime/server/logger.js';
import type { TransitionTrace } from '../../runtime/session/driver.js';
import { VirtualClock } from '../clock.js';
import { SimHost } from '../host.js';
import { Link, type LinkFaults } from '../link.js';
import { SIM_MAX_STANZA_BYTES } from '../peers/client.js';
import { Rng } from '../rng.js';
import { FedClient } from './client.js';
import { EvilAuthority } from './authority.js';
import { Forger } from './forger.js';
import { EVIL_DOMAIN, UNKNOWN_DOMAIN, type CertificateKind, type FedLinkPlan, type FederationScenario } from './scenario.js';

export const FED_TIMEOUTS: Timeouts = { negotiation: 20_000, idle: 120_000, pingResponse: 10_000, closeWait: 2_000 };
/** How long `Federation.close` waits for its streams to close before destroying them. */
export const FED_SHUTDOWN_GRACE = 5_000;

export interface LogRecord {
  readonly at: number;
  readonly event: string;
  readonly fields: Record<string, unknown>;
}

/** A server-to-server connection: which server opened it to which, and its link. */
export interface S2sConnection {
  readonly from: number;
  readonly to: number;
  readonly link: Link;
  readonly faulty: boolean;
  /** The forger's connection (from = -1). */
  readonly forged: boolean;
}

export interface FedServer {
  readonly index: number;
  readonly domain: string;
  readonly host: SimHost;
  readonly federation: Federation;
  readonly clients: FedClient[];
  readonly logs: LogRecord[];
  /** Stanzas the host handed to the federation (§10.4), in order. */
  readonly sentRemote: { readonly at: number; readonly stanza: XmlElement }[];
  /** Stanzas the federation handed to the router (from a peer, or a bounce), in order. */
  readonly inbound: { readonly at: number; readonly stanza: XmlElement }[];
}

export interface FedWorld {
  readonly scenario: FederationScenario;
  readonly clock: VirtualClock;
  readonly servers: FedServer[];
  readonly connections: S2sConnection[];
  readonly forger: Forger | undefined;
  readonly horizon: number;
  /** When the operators shut every server down (virtual ms). */
  shutdownAt: number;
  steps: number;
  /** A step started a Promise chain: let microtasks run before the next step. */
  microtasks: boolean;
}

export type FedTransitionHook = (machine: S2sMachineName | 'receivingEntity', t: TransitionTrace) => void;

export function certificateOf(kind: CertificateKind, domain: string): PeerCertificate {
  const name = kind === 'wrong-name' ? `not-${domain}` : domain;
  return { trusted: kind !== 'untrusted', identifiers: { dnsIds: [name], srvIds: [], xmppAddrs: [], uriIds: [], cn: [name] } };
}

function faultsOf(plan: FedLinkPlan, faulty: boolean): LinkFaults {
  if (!faulty) return { maxFragment: plan.maxFragment, delay: plan.delay, maxBuffered: 256 * 1024, closeAfterTlsFailure: true };
  return {
    maxFragment: plan.maxFragment,
    delay: plan.delay,
    ...(plan.cutAfterBytes !== undefined ? { cutAfterBytes: plan.cutAfterBytes } : {}),
    ...(plan.tlsFails ? { tlsFails: true } : {}),
    ...(plan.serverWriteFailAfter !== undefined ? { writeFailAfter: { end: 'b' as const, bytes: plan.serverWriteFailAfter } } : {}),
    maxBuffered: 256 * 1024,
    closeAfterTlsFailure: true,
  };
}

export function buildFedWorld(scenario: FederationScenario, onTransition?: FedTransitionHook): FedWorld {
  const clock = new VirtualClock();
  const rng = new Rng(scenario.seed);
  const servers: FedServer[] = [];
  const connections: S2sConnection[] = [];
  const opened = new Map<string, number>();
  const lastClient = Math.max(0, ...scenario.servers.flatMap((s) => s.clients.map((c) => c.startAt + c.stanzas.reduce((n, x) => n + x.gap, 0) + c.idle)));
  const world: FedWorld = {
    scenario, clock, servers, connections, forger: undefined, steps: 0, microtasks: false,
    // Room for route back-off after faulty connections (DEFAULT_ROUTE_RETRY min 5 s, then ~60 s).
    horizon: lastClient + 150_000,
    shutdownAt: lastClient + 150_000,
  };
  const domainOf = (i: number) => (i < 0 ? UNKNOWN_DOMAIN : scenario.servers[i]!.domain);
  let clientIndex = 0;

  scenario.servers.forEach((plan, index) => {
    const logs: LogRecord[] = [];
    const log = (event: string, fields: Record<string, unknown> = {}) => logs.push({ at: clock.now(), event, fields });
    const logger: Logger = { debug: () => {}, info: log, warn: log, error: log, enabled: (level) => level !== 'debug' };
    const hostRng = rng.fork();
    const fedRng = rng.fork();
    const routeRng = rng.fork();
    const server = { index, domain: plan.domain, clients: [] as FedClient[], logs, sentRemote: [] as FedServer['sentRemote'], inbound: [] as FedServer['inbound'] } as Omit<FedServer, 'host' | 'federation'> & { host: SimHost; federation: Federation };
    server.host = new SimHost({
      clock,
      rng: hostRng,
      domain: plan.domain,
      parser: { maxStanzaBytes: SIM_MAX_STANZA_BYTES },
      remote: {
        send: (stanza) => {
          server.sentRemote.push({ at: clock.now(), stanza });
          server.federation.send(stanza);
        },
      },
      ...(onTransition && { onTransition: (t: TransitionTrace) => onTransition('receivingEntity', t) }),
    });
    server.federation = new Federation({
      domain: plan.domain,
      secret: new DialbackSecret(Buffer.from(fedRng.bytes(16)).toString('hex')),
      policy: { tls: plan.tls, dialback: plan.dialback },
      connect: (remote) => {
        const to = scenario.servers.findIndex((s) => s.domain === remote);
        world.microtasks = true;
        if (remote === EVIL_DOMAIN && scenario.forger?.mode === 'spoof-after-auth') {
          // The forger's own Authoritative Server (it owns evil.test): it says 'valid' (XEP-0220 §2.1.2).
          const link = new Link(clock, rng.fork(), { maxFragment: 1 << 16, delay: [1, 3], closeAfterTlsFailure: true });
          link.a.certificate = certificateOf(plan.certificate, plan.domain);
          link.b.certificate = certificateOf('untrusted', EVIL_DOMAIN);
          link.b.attach(new EvilAuthority(link.b, EVIL_DOMAIN));
          connections.push({ from: index, to: -1, link, faulty: false, forged: true });
          return Promise.resolve({ transport: link.a, description: { link: connections.length - 1 } });
        }
        if (to < 0) return Promise.reject(new Error(`${remote}: no such server in this world (§3.2.1)`));
        const key = `${index}>${to}`;
        const n = (opened.get(key) ?? 0) + 1;
        opened.set(key, n);
        // A server may have to reach itself (a forger claiming its own domain makes it verify with itself, XEP-0220 §2.1.2): a clean link.
        const linkPlan = scenario.links[key] ?? { maxFragment: 1 << 16, delay: [1, 3] as const, faultyConnections: 0 };
        const faulty = n <= linkPlan.faultyConnections;
        const link = new Link(clock, rng.fork(), faultsOf(linkPlan, faulty));
        link.a.certificate = certificateOf(plan.certificate, plan.domain);
        link.b.certificate = certificateOf(scenario.servers[to]!.certificate, remote);
        connections.push({ from: index, to, link, faulty, forged: false });
        servers[to]!.federation.accept(link.b, `sim:${plan.domain}#${n}`);
        return Promise.resolve({ transport: link.a, description: { link: connections.length - 1 } });
      },
      parser: { maxStanzaBytes: SIM_MAX_STANZA_BYTES },
      random: (n) => fedRng.bytes(n),
      clock,
      routeRandom: () => routeRng.u32() / 0x1_0000_0000,
      logger,
      deliverInbound: (stanza) => {
        server.inbound.push({ at: clock.now(), stanza });
        server.host.inbound(stanza);
      },
      ...(onTransition && { onTransition }),
    });
    servers.push(server);
  });

  scenario.servers.forEach((plan, index) => {
    const server = servers[index]!;
    const input: ReceivingEntityMachineInput = {
      domain: plan.domain,
      random: (n) => rng.bytes(n),
      ...DEFAULT_SERVER_POLICY,
      tls: 'required',
      mechanisms: ['SCRAM-SHA-256'],
      keepalive: 'whitespace',
      timeouts: FED_TIMEOUTS,
    };
    for (const c of plan.clients) {
      const link = new Link(clock, rng.fork(), { maxFragment: 1 << 16, delay: [1, 3] });
      const client = new FedClient(clock, rng.fork(), link.a, plan.domain, c, clientIndex++, domainOf, FED_TIMEOUTS);
      server.clients.push(client);
      clock.setTimeout(() => {
        server.host.accept(link.b, input);
        client.start();
      }, c.startAt);
    }
  });

  const f = scenario.forger;
  if (f) {
    const target = servers[f.target]!;
    const link = new Link(clock, rng.fork(), { maxFragment: 1 << 16, delay: [1, 3], closeAfterTlsFailure: true });
    link.a.certificate = certificateOf('untrusted', f.claims);
    link.b.certificate = certificateOf(scenario.servers[f.target]!.certificate, target.domain);
    const forger = new Forger(clock, rng.fork(), link.a, f, target.domain);
    link.a.attach(forger);
    (world as { forger: Forger | undefined }).forger = forger;
    clock.setTimeout(() => {
      connections.push({ from: -1, to: f.target, link, faulty: false, forged: true });
      target.federation.accept(link.b, 'sim:forger');
      forger.start();
    }, f.startAt);
  }
  return world;
}

const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Steps until `until` (or nothing is scheduled, or `done`), letting microtasks run where needed. */
async function runUntil(world: FedWorld, until: number, always: boolean, done?: () => boolean): Promise<void> {
  for (let guard = 0; guard < 2_000_000; guard++) {
    if (world.microtasks || always) {
      world.microtasks = false;
      await drain();
    }
    if (done?.()) return;
    const next = world.clock.nextAt();
    if (next === undefined || next > until) return;
    world.clock.step();
    world.steps++;
  }
}

/**
 * Run to the horizon; then every server's operator shuts it down (§4.9.3.20: the client
 * sessions, `Federation.close`), and the world runs until it is quiet.
 */
export async function runFedWorld(world: FedWorld): Promise<FedWorld> {
  await runUntil(world, world.horizon, false);
  world.shutdownAt = world.clock.now();
  let closed = 0;
  for (const s of world.servers) {
    s.host.shutdown();
    void s.federation.close(FED_SHUTDOWN_GRACE).then(() => closed++);
  }
  world.microtasks = true;
  await runUntil(world, world.clock.now() + FED_SHUTDOWN_GRACE + 4 * FED_TIMEOUTS.closeWait + 60_000, true, () => closed === world.servers.length && world.clock.nextAt() === undefined);
  await drain();
  return world;
}

export const idOf = (s: XmlElement) => attr(s, 'id') ?? '';
