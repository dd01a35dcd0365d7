/**
 * The simulator's server host: what `runtime/server` does around each SessionDriver, minus
 * sockets and SQLite. It answers the receiving machine's host commands (§6.3.7 credentials,
 * §7.7.2 resource status), registers bound sessions and routes their stanzas with the real
 * server's pure router and registry (runtime/server/router.ts, registry.ts), so routing
 * properties the simulator checks hold for the server too.
 *
 * Every host answer is scheduled on the virtual clock (an account store is asynchronous in
 * the real server too); delays come from the run's Rng.
 */
import { receivingEntityMachine } from '../machines/receiving/index.js';
import type { ReceivingEntityMachine, ReceivingEntityMachineInput } from '../machines/receiving/index.js';
import { bare, formatJid, parseJid, prepareLocalpart } from '../machines/jid.js';
import type { Command, StreamOutcome } from '../machines/protocol.js';
import type { XmlElement } from '../machines/xml.js';
import { presenceSessionChange, route, routeInbound, type Delivery, type RouterView } from '../runtime/server/router.js';
import { destinationOf } from '../runtime/server/destination.js';
import { SessionRegistry, type RegisteredSession } from '../runtime/server/registry.js';
import { SessionDriver, type TransitionTrace } from '../runtime/session/driver.js';
import type { StreamParserOptions } from '../runtime/xml/parser.js';
import { SIM_ACCOUNTS, storedCredentials } from './accounts.js';
import type { VirtualClock } from './clock.js';
import type { LinkEnd } from './link.js';
import type { Rng } from './rng.js';

/** What the host saw of one server session, in virtual time order (for invariants and traces). */
export type HostEvent =
  | { readonly at: number; readonly type: 'authenticated'; readonly username: string }
  | { readonly at: number; readonly type: 'bound'; readonly jid: string }
  | { readonly at: number; readonly type: 'deliver'; readonly stanza: XmlElement }
  | { readonly at: number; readonly type: 'routeIn'; readonly stanza: XmlElement }
  | { readonly at: number; readonly type: 'replaced' }
  | { readonly at: number; readonly type: 'ended'; readonly outcome: StreamOutcome };

export interface ServerSession {
  readonly index: number;
  readonly driver: SessionDriver<ReceivingEntityMachine>;
  readonly events: HostEvent[];
  readonly input: ReceivingEntityMachineInput;
  jid: string | undefined;
  ended: boolean;
}

export interface HostOptions {
  readonly clock: VirtualClock;
  readonly rng: Rng;
  readonly domain: string;
  /** A deliberately broken variant under test, or the real machine (default). */
  readonly machine?: ReceivingEntityMachine;
  readonly onTransition?: (t: TransitionTrace) => void;
  readonly onWire?: (session: number, direction: 'in' | 'out', text: string) => void;
  readonly parser?: StreamParserOptions;
  /** §10.4: where deliveries for other domains go (a Federation); absent: none, `<remote-server-not-found/>` (§10.4.3). */
  readonly remote?: { send(stanza: XmlElement): void };
}

export class SimHost {
  readonly sessions: ServerSession[] = [];
  private readonly registry = new SessionRegistry();
  private readonly presence = new Set<string>();
  private readonly view: RouterView;

  constructor(private readonly opts: HostOptions) {
    const registry = this.registry;
    const presence = this.presence;
    this.view = {
      domain: opts.domain,
      accountExists: (local) => SIM_ACCOUNTS[local] !== undefined,
      resources: (bareJid) => registry.resources(bareJid),
      hasPresenceSession: (full) => presence.has(full),
      ...(opts.remote !== undefined && { federated: true }),
    };
  }

  /** A new connection on `end`: start a receiving-entity SessionDriver on it. */
  accept(end: LinkEnd, input: ReceivingEntityMachineInput): ServerSession {
    const index = this.sessions.length;
    const events: HostEvent[] = [];
    let session!: ServerSession;
    const driver = new SessionDriver({
      machine: this.opts.machine ?? receivingEntityMachine,
      input,
      transport: end,
      clock: this.opts.clock,
      ...(this.opts.parser ? { parser: this.opts.parser } : {}),
      onCommand: (c) => this.command(session, c),
      ...(this.opts.onTransition ? { onTransition: this.opts.onTransition } : {}),
      ...(this.opts.onWire ? { onWire: (d: 'in' | 'out', t: string) => this.opts.onWire!(index, d, t) } : {}),
    });
    session = { index, driver, events, input, jid: undefined, ended: false };
    this.sessions.push(session);
    end.attach(driver);
    driver.start();
    return session;
  }

  /** §4.9.3.20: the operator shuts the server down. */
  shutdown(): void {
    for (const s of this.sessions) if (!s.ended) s.driver.send({ type: 'SHUTDOWN' });
  }

  /** Number of sessions still registered for routing (must be 0 at the end of a run: no leaked session). */
  get registered(): number {
    return this.registry.size;
  }

  /** §10.5: a stanza a peer server delivered (or a route's bounce), re-scoped to 'jabber:client', routed as the real server does. */
  inbound(stanza: XmlElement): void {
    this.perform(routeInbound(stanza, this.view));
  }

  /** Deliveries in order (§10.1): to a bound session of ours, or to another domain's route (runtime/server/routing.ts `perform`). */
  private perform(deliveries: readonly Delivery[]): void {
    const remote = this.opts.remote;
    for (const d of deliveries) {
      const entry = this.registry.get(d.to);
      if (entry !== undefined) entry.routeIn(d.stanza);
      else if (remote !== undefined) {
        const to = parseJid(d.to);
        if (to !== undefined && destinationOf(to, this.opts.domain) === 'remote') remote.send(d.stanza);
      }
    }
  }

  private later(fn: () => void): void {
    this.opts.clock.setTimeout(fn, this.opts.rng.int(0, 2));
  }

  private command(s: ServerSession, c: Command): void {
    const at = this.opts.clock.now();
    switch (c.type) {
      case 'lookupCredentials': {
        const local = prepareLocalpart(c.username);
        const credentials = local === undefined ? null : storedCredentials(local);
        this.later(() => s.driver.send({ type: 'CREDENTIALS', username: c.username, credentials }));
        return;
      }
      case 'queryResource': {
        const bareJid = `${prepareLocalpart(c.username) ?? c.username}@${this.opts.domain}`;
        this.later(() => {
          const status = this.registry.status(bareJid, c.resource);
          s.driver.send({ type: 'RESOURCE_STATUS', resource: c.resource, ...status });
        });
        return;
      }
      case 'authenticated':
        s.events.push({ at, type: 'authenticated', username: c.username });
        return;
      case 'bound': {
        s.events.push({ at, type: 'bound', jid: c.jid });
        s.jid = c.jid;
        const previous = this.registry.bind(new SimEntry(c.jid, s, this.opts.clock));
        // §7.7.2.2 override (or two binds racing for one resource): the older session gets <conflict/>.
        if (previous) previous.replaced();
        return;
      }
      case 'deliver': {
        s.events.push({ at, type: 'deliver', stanza: c.stanza });
        const change = presenceSessionChange(c.stanza);
        if (change !== undefined && s.jid !== undefined) {
          if (change) this.presence.add(s.jid);
          else this.presence.delete(s.jid);
        }
        // The real host writes deliveries synchronously while it handles the stanza (§10.1 order).
        this.perform(route(c.stanza, this.view));
        return;
      }
      case 'ended': {
        s.events.push({ at, type: 'ended', outcome: c.outcome });
        s.ended = true;
        if (s.jid !== undefined) {
          const entry = this.registry.get(s.jid);
          if (entry && (entry as SimEntry).session === s) {
            this.registry.unbind(entry);
            this.presence.delete(s.jid);
          }
        }
        return;
      }
      default:
        return;
    }
  }
}

/** A bound session in the registry; what is routed to it is recorded as a host event. */
class SimEntry implements RegisteredSession {
  presence = false;

  constructor(
    readonly jid: string,
    readonly session: ServerSession,
    private readonly clock: VirtualClock,
  ) {}

  routeIn(stanza: XmlElement): void {
    this.session.events.push({ at: this.clock.now(), type: 'routeIn', stanza });
    this.session.driver.send({ type: 'ROUTE_IN', stanza });
  }

  replaced(): void {
    this.session.events.push({ at: this.clock.now(), type: 'replaced' });
    this.session.driver.send({ type: 'REPLACED' });
  }
}

export function bareOf(jid: string): string {
  const j = parseJid(jid);
  return j ? formatJid(bare(j)) : jid;
}
