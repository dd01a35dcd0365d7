/**
 * Outgoing routes to remote domains (RFC 6120 §10.4): one route machine
 * (machines/s2s/route) per (local domain, remote domain) pair, created on the first stanza
 * for the pair, whose commands this file performs. How a stream to a remote domain is
 * resolved, connected and negotiated is not known here: it comes through `openStream`
 * (the s2s stream runtime, or a stub in tests), which reports the attempt's progress back
 * through the `StreamReports` it is given. Bounces go back to the router as error stanzas
 * (machines/s2s/route/bounce.ts), or nowhere when §8.3.1 / RFC 6121 forbid one.
 *
 * Each `connect` opens a fresh attempt; reports from an attempt the route has abandoned
 * (`abort`) or that has ended are dropped here, so that a late report can never be taken
 * for the next attempt's (the route machine's contract, machines/s2s/route/types.ts).
 */
import { createActor, type Actor } from 'xstate';
import { parseJid } from '../../machines/jid.js';
import { bounceStanza, resolveRoutePolicy, s2sRouteMachine, type RouteCommand, type RouteFailureCondition, type RoutePolicyOptions, type S2sRouteMachine } from '../../machines/s2s/route/index.js';
import { attr, type XmlElement } from '../../machines/xml.js';
import type { Clock, TransitionTrace } from '../session/driver.js';
import type { InspectionEvent } from 'xstate';

/** What an attempt tells its route, in this order (any may be the last): the RouteEvents of the runtime. */
export interface StreamReports {
  /** §13.9.2 resolved and TCP is up. */
  connected(): void;
  /** The stream is negotiated and the pair authenticated (§5, §6 or XEP-0220). */
  authenticated(): void;
  /** The attempt failed before authentication (§10.4.3: which condition is the runtime's to know). */
  failed(condition: RouteFailureCondition, reason: string): void;
  /** The stream, or its TCP connection, ended. */
  ended(reason?: string): void;
}

/** One attempt (then stream) to a remote domain, as the s2s stream runtime offers it. */
export interface OutboundStream {
  /** Write a stanza on the authenticated stream. */
  send(stanza: XmlElement): void;
  /** Close gracefully (§4.4); `ended` follows. */
  close(): void;
  /** Abandon the attempt at whatever stage; report nothing more. */
  abort(): void;
}

export type OpenStream = (pair: { readonly local: string; readonly remote: string }, reports: StreamReports) => OutboundStream;

export interface OutboundOptions {
  /** The domains this server hosts (prepared): a stanza's 'from' must be one of them. */
  readonly hosted: readonly string[];
  readonly openStream: OpenStream;
  /** An error stanza for a local sender (§10.4.3): the router delivers it. */
  readonly deliverBounce: (error: XmlElement) => void;
  readonly policy?: RoutePolicyOptions;
  /** Real timers by default; the simulator's or a test's SimulatedClock otherwise. */
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Told of each failed attempt and its back-off (for the server's log). */
  readonly onBackoff?: (pair: { local: string; remote: string }, c: Extract<RouteCommand, { type: 'backingOff' }>) => void;
  /** Each transition of a route machine (coverage). */
  readonly onTransition?: (t: TransitionTrace) => void;
}

/** One pair's route, its current attempt, and the token that tells its reports from stale ones. */
interface Route {
  readonly local: string;
  readonly remote: string;
  readonly actor: Actor<S2sRouteMachine>;
  stream: OutboundStream | undefined;
  attempt: number;
}

export class OutboundRoutes {
  private readonly routes = new Map<string, Route>();
  private readonly hosted: ReadonlySet<string>;
  private readonly policy;
  private stopping = false;

  constructor(private readonly opts: OutboundOptions) {
    this.hosted = new Set(opts.hosted);
    this.policy = resolveRoutePolicy(opts.policy);
  }

  /**
   * §10.4: route a stanza from a local entity to a remote domain. Throws, having done
   * nothing, when the stanza cannot belong here (no parseable 'from' in a hosted domain, 'to'
   * not in a remote domain) or after stop(): the router decides those, and must hear of it.
   */
  send(stanza: XmlElement): void {
    const from = parseJid(attr(stanza, 'from') ?? '');
    const to = parseJid(attr(stanza, 'to') ?? '');
    if (from === undefined || !this.hosted.has(from.domain)) throw new Error(`outbound route: 'from' ${JSON.stringify(attr(stanza, 'from'))} is not an address of a hosted domain`);
    if (to === undefined || this.hosted.has(to.domain)) throw new Error(`outbound route: 'to' ${JSON.stringify(attr(stanza, 'to'))} is not an address at a remote domain (§10.4)`);
    if (this.stopping) throw new Error('outbound route: stopped, no stanza is routed any more');
    this.route(from.domain, to.domain).actor.send({ type: 'SEND', stanza });
  }

  /** The route's state for a pair (undefined: none yet): for logs, tests and the admin view. */
  state(local: string, remote: string): string | undefined {
    const value = this.routes.get(key(local, remote))?.actor.getSnapshot().value;
    return value === undefined ? undefined : typeof value === 'string' ? value : Object.entries(value).map(([k, v]) => `${k}.${String(v)}`)[0];
  }

  get size(): number {
    return this.routes.size;
  }

  /** Shutdown: every route closes its stream and bounces what waits (§4.4, §10.4.3). */
  stop(): void {
    this.stopping = true;
    for (const r of [...this.routes.values()]) r.actor.send({ type: 'STOP' });
  }

  private route(local: string, remote: string): Route {
    const k = key(local, remote);
    const existing = this.routes.get(k);
    if (existing) return existing;
    let self: Actor<S2sRouteMachine> | undefined; // the inspector hears of the actor before createActor returns
    const actor: Actor<S2sRouteMachine> = createActor(s2sRouteMachine, {
      input: { local, remote, ...this.policy, random: this.opts.random ?? Math.random },
      ...(this.opts.clock && { clock: this.opts.clock as never }),
      ...(this.opts.onTransition && { inspect: (e: InspectionEvent) => self !== undefined && this.inspect(e, self) }),
    });
    self = actor;
    const r: Route = { local, remote, actor, stream: undefined, attempt: 0 };
    this.routes.set(k, r);
    actor.on('*', (c) => this.perform(r, c));
    actor.start();
    return r;
  }

  /** The route actor's own transitions, as SessionDriver reports a stream machine's. */
  private inspect(e: InspectionEvent, actor: Actor<S2sRouteMachine>): void {
    if (e.type !== '@xstate.microstep' || e.actorRef !== actor) return;
    for (const t of e._transitions) {
      this.opts.onTransition?.({ event: t.eventType, source: t.source.id, targets: (t.target ?? []).map((s) => s.id), rfc: (t.meta as { rfc?: string } | undefined)?.rfc });
    }
  }

  /** What a route asks for, in its order. */
  private perform(r: Route, c: RouteCommand): void {
    switch (c.type) {
      case 'connect': {
        const attempt = ++r.attempt;
        let live = true; // until its last report (failed, ended) or an abort
        // Reports of this attempt only, and only while it is the route's current one.
        const report = (e: Parameters<typeof r.actor.send>[0], last = false) => {
          if (r.attempt !== attempt || !live) return;
          if (last) {
            live = false;
            r.stream = undefined;
          }
          r.actor.send(e);
        };
        r.stream = undefined;
        const stream = this.opts.openStream(
          { local: c.local, remote: c.remote },
          {
            connected: () => report({ type: 'CONNECTED' }),
            authenticated: () => report({ type: 'AUTHENTICATED' }),
            failed: (condition, reason) => report({ type: 'FAILED', condition, reason }, true),
            ended: (reason) => report({ type: 'ENDED', ...(reason !== undefined && { reason }) }, true),
          },
        );
        // openStream may report at once (a cached DNS failure): a stream that is over already is not adopted.
        if (live && r.attempt === attempt) r.stream = stream;
        return;
      }
      case 'abort': {
        const s = r.stream;
        r.stream = undefined;
        r.attempt++; // whatever it still reports is stale
        s?.abort();
        return;
      }
      case 'write':
        r.stream?.send(c.stanza);
        return;
      case 'closeStream':
        r.stream?.close();
        return;
      case 'bounce': {
        const error = bounceStanza(c.stanza, c.condition, { by: r.local, ...(c.text !== undefined && { text: c.text }) });
        if (error) this.opts.deliverBounce(error);
        return;
      }
      case 'backingOff':
        this.opts.onBackoff?.({ local: r.local, remote: r.remote }, c);
        return;
      case 'stopped':
        this.routes.delete(key(r.local, r.remote));
        return;
    }
  }
}

const key = (local: string, remote: string) => `${local} ${remote}`;
