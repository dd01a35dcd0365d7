/**
 * Federation: the server's server-to-server side (RFC 6120 §10.4, §4 with 'jabber:server').
 *
 *  - a listener (default port 5269, §14.7) whose connections are incoming streams
 *    (./incoming.ts, the receiving server);
 *  - the outgoing routes (./outbound.ts, one route machine per domain pair) whose attempts
 *    are outgoing streams for stanzas (./outgoing.ts, the initiating server);
 *  - dialback Step 2 (XEP-0220 §2.1.2): an incoming stream's `<db:verify/>` request goes to the
 *    Authoritative Server over an outgoing stream for verification, and its Step 3 answer back
 *    to the incoming stream that asked (by a correlation token per request).
 *
 * Choice: verification requests go over a stream of their own per Authoritative Server
 * (purpose 'verify', closed by the machine after its last answer), not over the route's
 * stanza stream to that domain. XEP-0220 §2.1.2 allows either; a stream of its own never waits
 * behind our own authentication towards the peer (which may itself wait for this very
 * verification), and works when the route's stream authenticated with SASL EXTERNAL and its
 * features after the restart no longer offer dialback (XEP-0220 §2.4.2).
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { DbVerifyAnswer, DialbackSecret, VerifyFailure } from '../../machines/dialback/index.js';
import { DEFAULT_INITIATING_SERVER_POLICY, type InitiatingServerPolicy } from '../../machines/s2s/initiating/policy.js';
import { DEFAULT_RECEIVING_SERVER_POLICY, type ReceivingServerPolicy } from '../../machines/s2s/policy.js';
import { bounceStanza, type RoutePolicyOptions } from '../../machines/s2s/route/index.js';
import type { RandomBytes } from '../../machines/protocol.js';
import type { XmlElement } from '../../machines/xml.js';
import { connectToDomain, type ResolveOptions } from '../net/resolve.js';
import type { Logger } from '../server/logger.js';
import type { StreamParserOptions } from '../xml/parser.js';
import { IncomingServerStream, type IncomingHost, type VerifyRequest } from './incoming.js';
import { OutboundRoutes, type StreamReports } from './outbound.js';
import { OutgoingServerStream, type OutgoingHost } from './outgoing.js';

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
  readonly port?: number;
  readonly host?: string;
  /** Our certificate and key (PEM), presented in both roles (§13.7.1). */
  readonly cert: string;
  readonly key: string;
  /** Trust anchors for peers' certificates (runtime/tls/trust.ts s2sTrust). */
  readonly ca: readonly string[];
  readonly secret: DialbackSecret;
  readonly policy?: FederationPolicy;
  readonly route?: RoutePolicyOptions;
  /** Name resolution (§3.2): the resolver, per-domain host:port overrides. */
  readonly resolve?: ResolveOptions;
  /** Per TCP attempt, default 10 000 ms (runtime/net/resolve.ts). */
  readonly attemptTimeoutMs?: number;
  readonly maxConnections?: number;
  readonly parser: StreamParserOptions;
  readonly random: RandomBytes;
  readonly logger: Logger;
  /** A stanza from a remote domain for this one, re-scoped to 'jabber:client' (§4.8.3): for the router. */
  readonly deliverInbound: (stanza: XmlElement) => void;
}

export class Federation {
  private readonly server: net.Server;
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
  private bound: { host: string; port: number } | undefined;

  constructor(private readonly opts: FederationOptions) {
    const { domain, logger, secret, random, parser } = opts;
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
    // The client certificate is requested and checked against the same anchors as on outgoing streams (§13.7.2.1).
    const secureContext = tls.createSecureContext({ cert: opts.cert, key: opts.key, ca: [...opts.ca] });
    this.incomingHost = {
      input: { ...receiving, hostedDomains: [domain], secretFor: (d) => (d === domain ? secret : undefined), random },
      parser,
      secureContext,
      logger,
      deliver: (stanza) => opts.deliverInbound(stanza),
      verify: (request, from) => this.verify(request, from),
      closed: (s) => this.incoming.delete(s),
    };
    this.outgoingHost = {
      input: { ...initiating, domain, certificate: true, secret, random },
      parser,
      tls: { cert: opts.cert, key: opts.key, ca: opts.ca },
      logger,
      connect: (remote, signal) =>
        connectToDomain(remote, 'xmpp-server', {
          ...opts.resolve,
          // XEP-0368 direct TLS for servers is not used here: STARTTLS on _xmpp-server._tcp (§3.2, §5).
          directTls: false,
          signal,
          ...(opts.attemptTimeoutMs !== undefined && { attemptTimeoutMs: opts.attemptTimeoutMs }),
          onAttemptFailed: (a) => logger.info('s2s.out.attempt-failed', { remote, host: a.candidate.host, address: a.address, port: a.candidate.port, failure: a.failure, reason: a.reason }),
        }),
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
      onBackoff: (pair, c) => logger.warn('s2s.route.backoff', { local: pair.local, remote: pair.remote, attempt: c.attempt, delayMs: c.delayMs, condition: c.condition, reason: c.reason }),
    });
    const maxConnections = opts.maxConnections ?? 1000;
    this.server = net.createServer((socket) => {
      if (this.closing !== undefined) {
        socket.destroy();
        return;
      }
      const stream = new IncomingServerStream(socket, this.incomingHost);
      this.incoming.add(stream);
      stream.start();
      // §4.9.3.17 as for client connections (runtime/server/server.ts): capacity, not the peer's fault.
      if (this.incoming.size > maxConnections) stream.fail('resource-constraint', 'too many server-to-server connections');
    });
    this.server.on('error', (err) => logger.error('s2s.listener.error', { error: err.message }));
  }

  get address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  /** Incoming and outgoing TCP connections. */
  get connectionCount(): number {
    return this.incoming.size + this.outgoing.size;
  }

  /** The route's state for a remote domain (undefined: none): for tests, logs and the admin view. */
  routeState(remote: string): string | undefined {
    return this.routes.state(this.opts.domain, remote);
  }

  listen(): Promise<{ host: string; port: number }> {
    const port = this.opts.port ?? 5269;
    const host = this.opts.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      this.server.once('error', (err) => reject(new Error(`server-to-server listener ${host}:${port}: ${err.message}`)));
      this.server.listen(port, host, () => {
        this.server.removeAllListeners('error');
        this.server.on('error', (err) => this.opts.logger.error('s2s.listener.error', { error: err.message }));
        const a = this.server.address() as net.AddressInfo;
        this.bound = { host: a.address, port: a.port };
        this.opts.logger.info('s2s.listening', { domain: this.opts.domain, host: a.address, port: a.port });
        resolve(this.bound);
      });
    });
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
    const listenerClosed = new Promise<void>((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
    this.routes.stop();
    for (const s of this.verifiers.values()) s.shutdown();
    for (const s of this.incoming) s.shutdown();
    const all = () => [...this.incoming, ...this.outgoing];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const result = await Promise.race([Promise.all(all().map((s) => s.whenClosed())), deadline]);
    clearTimeout(timer);
    if (result === 'timeout') {
      const left = all();
      this.opts.logger.warn('s2s.shutdown.forced', { connections: left.length });
      for (const s of left) s.destroy();
      await Promise.all(left.map((s) => s.whenClosed()));
    }
    await listenerClosed;
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
