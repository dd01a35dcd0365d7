/**
 * Federation: the server's server-to-server side (RFC 6120 §10.4, §4 with 'jabber:server').
 *
 *  - incoming streams (./incoming.ts, the receiving server) on the connections it is given
 *    (`accept`: the TCP listener of ./network.ts, or the simulator's links);
 *  - the outgoing routes (./outbound.ts, one route machine per domain pair) whose attempts
 *    are outgoing streams for stanzas (./outgoing.ts, the initiating server);
 *  - dialback Step 2 (XEP-0220 §2.1.2): an incoming stream's `<db:verify/>` request goes to the
 *    Authoritative Server over an outgoing stream for verification, and its Step 3 answer back
 *    to the incoming stream that asked (by a correlation token per request).
 *
 * It owns no socket and no real timer: connections come from `connect` and `accept`, delays
 * from `clock`, so the simulator runs exactly this over in-memory links (sim/).
 *
 * Choice: verification requests go over a stream of their own per Authoritative Server
 * (purpose 'verify', closed by the machine after its last answer), not over the route's
 * stanza stream to that domain. XEP-0220 §2.1.2 allows either; a stream of its own never waits
 * behind our own authentication towards the peer (which may itself wait for this very
 * verification), and works when the route's stream authenticated with SASL EXTERNAL and its
 * features after the restart no longer offer dialback (XEP-0220 §2.4.2).
 */
import type { DbVerifyAnswer, DialbackSecret, VerifyFailure } from '../../machines/dialback/index.js';
import { DEFAULT_INITIATING_SERVER_POLICY, type InitiatingServerPolicy } from '../../machines/s2s/initiating/policy.js';
import { DEFAULT_RECEIVING_SERVER_POLICY, type ReceivingServerPolicy } from '../../machines/s2s/policy.js';
import { bounceStanza, type RoutePolicyOptions } from '../../machines/s2s/route/index.js';
import type { RandomBytes } from '../../machines/protocol.js';
import type { XmlElement } from '../../machines/xml.js';
import type { Logger } from '../server/logger.js';
import type { Clock, DuplexTransport, TransitionTrace } from '../session/driver.js';
import type { StreamParserOptions } from '../xml/parser.js';
import { IncomingServerStream, type IncomingHost, type VerifyRequest } from './incoming.js';
import { OutboundRoutes, type StreamReports } from './outbound.js';
import { OutgoingServerStream, type OutgoingHost, type ServerConnection } from './outgoing.js';

/** What an operator chooses for server-to-server streams (the rest: the machines' defaults). */
export interface FederationPolicy {
  /** §5.3.1 for both directions: STARTTLS required (default) or used when offered. */
  readonly tls?: 'required' | 'optional';
  /** XEP-0220: false is "certificates required" (only SASL EXTERNAL authenticates a peer, XEP-0178). Default true. */
  readonly dialback?: boolean;
}

export interface FederationOptions {
  /** The domain this server hosts (prepared). */
  readonly domain: string;
  readonly secret: DialbackSecret;
  readonly policy?: FederationPolicy;
  readonly route?: RoutePolicyOptions;
  /** §3.2: a connection to a remote domain's server (./network.ts socketConnector, or a simulated link). */
  readonly connect: (remote: string, signal: AbortSignal) => Promise<ServerConnection>;
  /** Incoming streams at most; one more gets `<resource-constraint/>`. Default 1000. */
  readonly maxConnections?: number;
  readonly parser: StreamParserOptions;
  readonly random: RandomBytes;
  /** Real timers by default; the simulator's virtual clock otherwise (machines' delays, routes, the shutdown bound). */
  readonly clock?: Clock;
  /** The routes' back-off randomness, uniform in [0, 1). Default Math.random. */
  readonly routeRandom?: () => number;
  readonly logger: Logger;
  /** A stanza from a remote domain for this one, re-scoped to 'jabber:client' (§4.8.3): for the router. */
  readonly deliverInbound: (stanza: XmlElement) => void;
  /** Every transition of the stream and route machines, by machine (the simulator's coverage, sim/coverage.ts). */
  readonly onTransition?: (machine: S2sMachineName, t: TransitionTrace) => void;
}

export type S2sMachineName = 'receivingServer' | 'initiatingServer' | 'route';

const REAL_CLOCK: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

export class Federation {
  private readonly incoming = new Set<IncomingServerStream>();
  private readonly outgoing = new Set<OutgoingServerStream>();
  private readonly verifiers = new Map<string, OutgoingServerStream>();
  /** Open Step 2 requests: correlation → the incoming stream and the pair it verifies. */
  private readonly requests = new Map<string, { readonly stream: IncomingServerStream; readonly from: string; readonly to: string }>();
  private readonly routes: OutboundRoutes;
  private readonly incomingHost: IncomingHost;
  private readonly outgoingHost: OutgoingHost;
  private nextCorrelation = 1;
  private closing: Promise<void> | undefined;
  private readonly clock: Clock;

  constructor(private readonly opts: FederationOptions) {
    const { domain, logger, secret, random, parser } = opts;
    this.clock = opts.clock ?? REAL_CLOCK;
    const tlsRequired = opts.policy?.tls ?? 'required';
    const dialbackAllowed = opts.policy?.dialback ?? true;
    const receiving: ReceivingServerPolicy = {
      ...DEFAULT_RECEIVING_SERVER_POLICY,
      tls: tlsRequired,
      dialback: { ...DEFAULT_RECEIVING_SERVER_POLICY.dialback, dialbackAllowed },
    };
    const initiating: InitiatingServerPolicy = {
      ...DEFAULT_INITIATING_SERVER_POLICY,
      tls: tlsRequired,
      dialback: { ...DEFAULT_INITIATING_SERVER_POLICY.dialback, dialbackAllowed },
    };
    this.incomingHost = {
      input: { ...receiving, hostedDomains: [domain], secretFor: (d) => (d === domain ? secret : undefined), random },
      parser,
      logger,
      ...(opts.clock && { clock: opts.clock }),
      deliver: (stanza) => opts.deliverInbound(stanza),
      ...(opts.onTransition && { onTransition: (t: TransitionTrace) => opts.onTransition!('receivingServer', t) }),
      verify: (request, from) => this.verify(request, from),
      closed: (s) => this.incoming.delete(s),
    };
    this.outgoingHost = {
      input: { ...initiating, domain, certificate: true, secret, random },
      parser,
      logger,
      ...(opts.clock && { clock: opts.clock }),
      connect: opts.connect,
      ...(opts.onTransition && { onTransition: (t: TransitionTrace) => opts.onTransition!('initiatingServer', t) }),
      verifyAnswered: (correlation, answer) => this.answered(correlation, answer),
      verifyFailed: (correlation, reason) => this.failed(correlation, reason),
      refused: (stanza, reason) => this.bounce(stanza, reason),
      closed: (s) => {
        this.outgoing.delete(s);
        if (this.verifiers.get(s.remote) === s) this.verifiers.delete(s.remote);
      },
    };
    this.routes = new OutboundRoutes({
      hosted: [domain],
      openStream: (pair, reports) => this.open(pair.remote, 'stanzas', reports),
      // §10.4.3: the error goes back to the local sender through the router, like any stanza from that domain.
      deliverBounce: (error) => opts.deliverInbound(error),
      ...(opts.route && { policy: opts.route }),
      ...(opts.clock && { clock: opts.clock }),
      ...(opts.routeRandom && { random: opts.routeRandom }),
      ...(opts.onTransition && { onTransition: (t: TransitionTrace) => opts.onTransition!('route', t) }),
      onBackoff: (pair, c) => logger.warn('s2s.route.backoff', { local: pair.local, remote: pair.remote, attempt: c.attempt, delayMs: c.delayMs, condition: c.condition, reason: c.reason }),
    });
  }

  /** An incoming connection (the peer is the initiating server): its stream starts now. */
  accept(transport: DuplexTransport, remote: string): void {
    if (this.closing !== undefined) {
      transport.destroy();
      return;
    }
    const stream = new IncomingServerStream(transport, remote, this.incomingHost);
    this.incoming.add(stream);
    stream.start();
    // §4.9.3.17 as for client connections (runtime/server/server.ts): capacity, not the peer's fault.
    if (this.incoming.size > (this.opts.maxConnections ?? 1000)) stream.fail('resource-constraint', 'too many server-to-server connections');
  }

  /** Incoming and outgoing TCP connections. */
  get connectionCount(): number {
    return this.incoming.size + this.outgoing.size;
  }

  /** The route's state for a remote domain (undefined: none): for tests, logs and the admin view. */
  routeState(remote: string): string | undefined {
    return this.routes.state(this.opts.domain, remote);
  }

  /**
   * §10.4: a stanza from a local entity to a remote domain, 'from' stamped, in 'jabber:client'
   * (re-scoped on the way out, §4.8.3). Queued while the stream negotiates, bounced when it fails.
   */
  send(stanza: XmlElement): void {
    try {
      this.routes.send(stanza);
    } catch (err) {
      this.bounce(stanza, err instanceof Error ? err.message : String(err));
    }
  }

  /** §4.9.3.20 / §4.4: routes close (bouncing what waits), incoming streams get `<system-shutdown/>`; bounded by `graceMs`. */
  close(graceMs = 5_000): Promise<void> {
    this.closing ??= this.shutdown(graceMs);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.routes.stop();
    for (const s of this.verifiers.values()) s.shutdown();
    for (const s of this.incoming) s.shutdown();
    const all = () => [...this.incoming, ...this.outgoing];
    let timer: unknown;
    const deadline = new Promise<'timeout'>((resolve) => (timer = this.clock.setTimeout(() => resolve('timeout'), graceMs)));
    const result = await Promise.race([Promise.all(all().map((s) => s.whenClosed())), deadline]);
    this.clock.clearTimeout(timer);
    if (result === 'timeout') {
      const left = all();
      this.opts.logger.warn('s2s.shutdown.forced', { connections: left.length });
      for (const s of left) s.destroy();
      await Promise.all(left.map((s) => s.whenClosed()));
    }
  }

  private open(remote: string, purpose: 'stanzas' | 'verify', reports?: StreamReports): OutgoingServerStream {
    const stream = new OutgoingServerStream(remote, purpose, this.outgoingHost, reports);
    this.outgoing.add(stream);
    return stream.start();
  }

  /** XEP-0220 §2.1.2 Step 2 for an incoming stream: over the Authoritative Server's verification stream. */
  private verify(request: VerifyRequest, from: IncomingServerStream): void {
    const correlation = `${from.id}#${this.nextCorrelation++}`;
    this.requests.set(correlation, { stream: from, from: request.to, to: request.from });
    if (this.closing !== undefined) {
      this.failed(correlation, 'connection-failed');
      return;
    }
    let stream = this.verifiers.get(request.to);
    if (stream === undefined || !stream.acceptsVerify) {
      stream = this.open(request.to, 'verify');
      this.verifiers.set(request.to, stream);
    }
    stream.verify({ type: 'VERIFY', ...request, correlation });
  }

  private answered(correlation: string, answer: DbVerifyAnswer): void {
    const r = this.requests.get(correlation);
    if (r === undefined) return;
    this.requests.delete(correlation);
    r.stream.verifyAnswered(answer);
  }

  private failed(correlation: string, reason: VerifyFailure): void {
    const r = this.requests.get(correlation);
    if (r === undefined) return;
    this.requests.delete(correlation);
    r.stream.verifyFailed(r.from, r.to, reason);
  }

  /** §8.3 / §10.4.3: a stanza that cannot go to its remote domain goes back to its sender (never an error for an error, bounce.ts). */
  private bounce(stanza: XmlElement, reason: string): void {
    this.opts.logger.info('s2s.bounced', { to: stanza.attrs['to'], reason });
    const error = bounceStanza(stanza, 'remote-server-timeout', { by: this.opts.domain, text: reason });
    if (error) this.opts.deliverInbound(error);
  }
}
