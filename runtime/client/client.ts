/**
 * `createClient`: an XMPP client (RFC 6120 initiating entity) over TCP, built from two
 * machines: the initiating entity machine makes every decision within a stream, and the
 * connection lifecycle (machines/connection) every decision between streams: reconnection
 * with randomized, truncated exponential back-off (§3.3), following `<see-other-host/>`
 * (§4.9.3.19), and the bounded queue for stanzas sent before the stream is online (§4.3.5).
 * This file performs what they ask on real sockets and adds what belongs to an application:
 *
 *  - finding the server by name when no host is configured (§3.2, runtime/net/resolve.ts);
 *  - certificate verification (tls-options.ts, RFC 6120 §13.7.2 / RFC 6125);
 *  - IQ requests awaiting their replies, and `<service-unavailable/>` for IQ get/set
 *    nobody handles (§8.4, iq.ts);
 *  - events for the application (online, stanza, offline, error, reconnecting, ...).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { createActor, type Actor } from 'xstate';
import { DEFAULT_CLIENT_POLICY } from '../../machines/policy.js';
import { parseJid } from '../../machines/jid.js';
import { NS } from '../../machines/ns.js';
import { initiatingEntityMachine, type InitiatingEntityMachine } from '../../machines/initiating/index.js';
import type { Command, InitiatingEntityInput, MechanismName, StreamOutcome, Timeouts } from '../../machines/protocol.js';
import { withAttrs, type XmlElement } from '../../machines/xml.js';
import { connectToDomain, type ConnectToDomainError, type ResolveOptions } from '../net/resolve.js';
import { SocketTransport } from '../net/socket-transport.js';
import type { Candidate } from '../net/srv.js';
import { SessionDriver, type Clock, type TransitionTrace } from '../session/driver.js';
import type { StreamParserOptions } from '../xml/index.js';
import { clientConnectionMachine, resolveBackoff, type BackoffOptions, type ClientConnectionMachine, type ConnectionCommand, type Endpoint, type StopReason } from '../../machines/connection/index.js';
import { TypedEmitter } from './emitter.js';
import { IqHandlers, isIqRequest, isIqResponse, stanzaErrorCondition, StanzaError, type IqHandler } from './iq.js';
import { ClientError } from './outcome.js';
import { parseSeeOtherHost } from './redirect.js';
import { clientTlsRole, type ClientTlsOptions } from './tls-options.js';

/** Machine policy an application may change (RFC 6120 choices; defaults in machines/policy.ts). */
export type ClientPolicy = Partial<Omit<InitiatingEntityInput, 'jid' | 'password' | 'random' | 'timeouts'>> & {
  readonly timeouts?: Partial<Timeouts>;
};

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ClientOptions {
  /** Bare JID, or full JID whose resource is requested at bind (§7.7). */
  readonly jid: string;
  readonly password: string;
  /**
   * Where to connect (§3.2.3: a configured host, no SRV lookup). Neither `host` nor `port`
   * given: the JID's domain is resolved by DNS SRV, `_xmpp-client._tcp` and XEP-0368
   * `_xmpps-client._tcp` (§3.2.1), falling back to the domain itself on 5222 (§3.2.2).
   */
  readonly host?: string;
  /** With `host`, or alone (then the host is the JID's domain); default 5222. */
  readonly port?: number;
  /** How the domain is resolved when no host/port is configured: Resolver, per-domain overrides, direct TLS, random source. */
  readonly dns?: ResolveOptions;
  readonly tls?: ClientTlsOptions;
  readonly policy?: ClientPolicy;
  /** §3.3 reconnection: false (default), true (default back-off), or back-off settings. */
  readonly reconnect?: boolean | BackoffOptions;
  /** Stanzas held while not online; one more makes `send` throw. Default 100. */
  readonly maxQueuedStanzas?: number;
  /** TCP connect timeout in ms (the machine's negotiation timeout starts after connect). Default 10 000. */
  readonly connectTimeoutMs?: number;
  readonly parser?: StreamParserOptions;
  readonly logger?: (level: LogLevel, message: string, data?: Record<string, unknown>) => void;
  /** Randomness for the back-off (uniform in [0,1)) and timers for it; injected by tests. */
  readonly random?: () => number;
  readonly clock?: Clock;
}

export interface ClientEvents {
  /** Every machine transition, with the RFC section it implements. */
  state: TransitionTrace;
  /** The stream is bound (§7): the full JID. */
  online: string;
  /** A stanza from the server (§8), IQ included. */
  stanza: XmlElement;
  /** The stream ended in a failure (its outcome is on the error). */
  error: ClientError;
  /** The stream ended, for whatever reason. */
  offline: StreamOutcome;
  /** A reconnection (§3.3) is scheduled. */
  reconnecting: { readonly attempt: number; readonly delayMs: number; readonly after: StreamOutcome };
  /** The server sent `<see-other-host/>` (§4.9.3.19): connecting there now. */
  redirected: { readonly host: string; readonly port: number; readonly count: number };
  /** The server was found by name (§3.2, no host configured): where the connection went. */
  located: Candidate & { readonly address: string };
  /** Plaintext XML written and read (inside TLS), for traces. */
  wire: { readonly direction: 'in' | 'out'; readonly text: string };
}

/** The session driver running the initiating entity machine. */
type ClientDriver = SessionDriver<InitiatingEntityMachine>;

export type ClientStatus = 'idle' | 'connecting' | 'online' | 'waiting' | 'stopping' | 'stopped';

const CLOSED: StreamOutcome = { kind: 'closed', rfc: '6120 §4.4' };
const realClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};

interface PendingIq {
  readonly to: string | undefined;
  readonly resolve: (e: XmlElement) => void;
  readonly reject: (e: Error) => void;
  readonly timer: unknown;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (v: T) => void;
  readonly reject: (e: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // the caller may never await; 'error' reports it too
  return { promise, resolve, reject };
}

export class XmppClient extends TypedEmitter<ClientEvents> {
  readonly domain: string;
  readonly host: string;
  readonly port: number;
  /** No host or port configured: each connection to the home server starts with DNS (§3.2.1). */
  readonly resolvesByName: boolean;
  private readonly opts: ClientOptions;
  private readonly input: InitiatingEntityInput;
  private readonly clock: Clock;
  /** Reconnection, redirects and the pre-online queue: machines/connection. */
  private readonly lifecycle: Actor<ClientConnectionMachine>;
  private readonly iqHandlers = new IqHandlers();
  private readonly pendingIqs = new Map<string, PendingIq>();
  private driver: ClientDriver | undefined;
  private socket: net.Socket | undefined;
  /** The name resolution and connection attempts in progress (§3.2.1), to abandon on abort. */
  private locating: AbortController | undefined;
  /** The lifecycle announced a redirect: its next `connect` goes exactly there, no DNS. */
  private redirectPending = false;
  /** Where the current connection went (the TLS session cache is per endpoint). */
  private endpoint: Endpoint;
  /** §3.3 "RECOMMENDED to make use of TLS session resumption": the last session per host:port. */
  private readonly tlsSessions = new Map<string, Buffer>();
  private transport: SocketTransport | undefined;
  private boundJid: string | undefined;
  private negotiated: MechanismName | undefined;
  private lastOutcome: StreamOutcome | undefined;
  /** The 'error' event's error, which a start() that gives up rejects with too. */
  private lastFailure: ClientError | undefined;
  private starting: Deferred<string> | undefined;
  private stopping: Deferred<StreamOutcome> | undefined;

  constructor(opts: ClientOptions) {
    super();
    const jid = parseJid(opts.jid);
    if (jid === undefined || jid.local === undefined) throw new Error(`not a JID with a localpart: ${JSON.stringify(opts.jid)}`);
    this.opts = opts;
    this.domain = jid.domain;
    this.host = opts.host ?? jid.domain;
    this.port = opts.port ?? 5222;
    this.resolvesByName = opts.host === undefined && opts.port === undefined;
    this.endpoint = { host: this.host, port: this.port };
    const { timeouts, ...policy } = opts.policy ?? {};
    this.input = {
      ...DEFAULT_CLIENT_POLICY,
      ...stripUndefined(policy),
      timeouts: { ...DEFAULT_CLIENT_POLICY.timeouts, ...stripUndefined(timeouts ?? {}) },
      jid: opts.jid,
      password: opts.password,
      random: (n) => new Uint8Array(randomBytes(n)),
    };
    this.clock = opts.clock ?? realClock;
    this.lifecycle = createActor(clientConnectionMachine, {
      input: {
        home: this.endpoint,
        reconnect: opts.reconnect ? resolveBackoff(opts.reconnect === true ? {} : opts.reconnect) : undefined,
        maxQueued: opts.maxQueuedStanzas ?? 100,
        random: opts.random ?? Math.random,
      },
      clock: this.clock as never,
    });
    this.lifecycle.on('*', (command) => this.perform(command));
    this.lifecycle.start();
  }

  get status(): ClientStatus {
    const s = this.lifecycle.getSnapshot();
    if (s.matches('connecting')) return 'connecting';
    return s.value as ClientStatus;
  }

  /** The full JID bound by the server (§7.6.1), while online. */
  get jid(): string | undefined {
    return this.status === 'online' ? this.boundJid : undefined;
  }

  /** The SASL mechanism of the last successful authentication (§6.3.3). */
  get mechanism(): MechanismName | undefined {
    return this.negotiated;
  }

  /** Whether the current connection's TLS handshake resumed an earlier session (§3.3). */
  get tlsSessionReused(): boolean {
    return this.transport?.sessionReused ?? false;
  }

  /** How the last stream ended. */
  get outcome(): StreamOutcome | undefined {
    return this.lastOutcome;
  }

  /** Stanzas waiting for the stream to get online. */
  get queued(): number {
    return this.lifecycle.getSnapshot().context.queue.length;
  }

  /** Connect and negotiate; resolves with the bound full JID (§7.6.1). */
  start(): Promise<string> {
    if (this.starting) return this.starting.promise;
    const status = this.status;
    if (status === 'online' && this.boundJid) return Promise.resolve(this.boundJid);
    if (status === 'stopping' || status === 'stopped') return Promise.reject(new Error('the client was stopped; create a new one'));
    this.starting = deferred<string>();
    const { promise } = this.starting;
    this.lifecycle.send({ type: 'START' });
    return promise;
  }

  /**
   * Send a stanza. Online: written now. Before online or while reconnecting: queued
   * (at most maxQueuedStanzas; one more throws) and written in order once online.
   */
  send(stanza: XmlElement): void {
    const event = { type: 'SEND', stanza } as const;
    if (!this.lifecycle.getSnapshot().can(event)) {
      const status = this.status;
      if (status === 'stopping' || status === 'stopped') throw new Error(`cannot send: the client is ${status}`);
      throw new Error(`cannot send: ${this.queued} stanzas already wait for the stream to get online (maxQueuedStanzas)`);
    }
    this.lifecycle.send(event);
  }

  /**
   * Send an IQ get/set and wait for its result (§8.2.3). An 'id' is added when missing;
   * a type='error' reply rejects with a StanzaError.
   */
  iq(request: XmlElement, timeoutMs = 30_000): Promise<XmlElement> {
    const id = request.attrs['id'] ?? `iq-${randomUUID()}`;
    const stanza = request.attrs['id'] === undefined ? withAttrs(request, { id }) : request;
    return new Promise<XmlElement>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.pendingIqs.delete(id);
        reject(new Error(`no reply to IQ ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingIqs.set(id, { to: stanza.attrs['to'], resolve, reject, timer });
      try {
        this.send(stanza);
      } catch (err) {
        this.clock.clearTimeout(timer);
        this.pendingIqs.delete(id);
        reject(err as Error);
      }
    });
  }

  /** Answer IQ get/set whose payload is `<name xmlns=xmlns/>` (§8.4: others get service-unavailable). */
  handleIq(xmlns: string, name: string, handler: IqHandler): this {
    this.iqHandlers.set(xmlns, name, handler);
    return this;
  }


  /** Close gracefully (§4.4): our closing tag, the server's, then TCP. No reconnection afterwards. */
  stop(): Promise<StreamOutcome> {
    if (this.stopping) return this.stopping.promise;
    this.stopping = deferred<StreamOutcome>();
    const { promise } = this.stopping;
    // Already final (the lifecycle gave up): nothing left to close.
    if (this.status === 'stopped') this.stopping.resolve(this.lastOutcome ?? CLOSED);
    else this.lifecycle.send({ type: 'STOP' });
    return promise;
  }

  private log(level: LogLevel, message: string, data?: Record<string, unknown>): void {
    this.opts.logger?.(level, message, data);
  }

  /** What the connection lifecycle asks for, in its order. */
  private perform(command: ConnectionCommand): void {
    switch (command.type) {
      case 'connect':
        this.connect({ host: command.host, port: command.port });
        return;
      case 'abort': {
        const socket = this.socket;
        this.socket = undefined;
        socket?.destroy();
        this.locating?.abort();
        this.locating = undefined;
        return;
      }
      case 'closeStream':
        this.driver?.send({ type: 'CLOSE' });
        return;
      case 'write':
        this.driver?.send({ type: 'SEND', stanza: command.stanza });
        return;
      case 'online': {
        this.log('info', 'online', { jid: command.jid });
        this.emit('online', command.jid);
        const s = this.starting;
        this.starting = undefined;
        s?.resolve(command.jid);
        return;
      }
      case 'offline':
        this.emit('offline', command.outcome);
        return;
      case 'failed':
        this.lastFailure = new ClientError(command.outcome);
        this.emit('error', this.lastFailure);
        return;
      case 'redirected':
        this.redirectPending = true;
        this.log('info', 'redirected', { host: command.host, port: command.port, count: command.count });
        this.emit('redirected', { host: command.host, port: command.port, count: command.count });
        return;
      case 'reconnecting':
        this.log('info', 'reconnecting', { attempt: command.attempt, delayMs: command.delayMs });
        this.emit('reconnecting', { attempt: command.attempt, delayMs: command.delayMs, after: command.after });
        return;
      case 'stopped':
        this.stopped(command.reason, command.outcome ?? CLOSED);
        return;
    }
  }

  /** RFC 6120 §3: a TCP connection; its failure is the end of a stream that never began. */
  private connect(endpoint: Endpoint): void {
    const redirected = this.redirectPending;
    this.redirectPending = false;
    // A redirect names a host and port (§4.9.3.19); only the home server is found by name.
    if (this.resolvesByName && !redirected) {
      this.connectByName();
      return;
    }
    this.endpoint = endpoint;
    const { host, port } = endpoint;
    this.log('info', 'connecting', { host, port });
    const socket = net.connect({ host, port });
    this.socket = socket;
    const timeoutMs = this.opts.connectTimeoutMs ?? 10_000;
    const timer = setTimeout(() => socket.destroy(new Error(`no TCP connection within ${timeoutMs} ms`)), timeoutMs);
    const failed = (err: Error): void => {
      clearTimeout(timer);
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.streamEnded({ kind: 'transport', rfc: '6120 §3', text: `cannot connect to ${host}:${port}: ${err.message}` });
    };
    socket.once('error', failed);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', failed);
      if (this.socket !== socket) return;
      this.attach(socket);
      this.lifecycle.send({ type: 'CONNECTED' });
    });
  }

  /**
   * §3.2.1: the JID's domain by SRV (runtime/net/resolve.ts), each candidate tried in turn
   * with the connect timeout; all failing is the end of a stream that never began, with
   * every attempt's reason in the outcome's text.
   */
  private connectByName(): void {
    const locating = new AbortController();
    this.locating = locating;
    this.log('info', 'resolving', { domain: this.domain, service: 'xmpp-client' });
    const role = clientTlsRole(this.domain, this.opts.tls);
    connectToDomain(this.domain, 'xmpp-client', {
      ...this.opts.dns,
      attemptTimeoutMs: this.opts.connectTimeoutMs ?? 10_000,
      signal: locating.signal,
      // XEP-0368 rule 4: direct TLS is checked exactly as after STARTTLS.
      tls: {
        ...(role.ca !== undefined ? { ca: role.ca } : {}),
        rejectUnauthorized: role.rejectUnauthorized,
        ...(role.checkServerIdentity ? { checkServerIdentity: role.checkServerIdentity } : {}),
      },
      onAttemptFailed: (a) =>
        this.log('warn', 'connection attempt failed', { host: a.candidate.host, address: a.address, port: a.candidate.port, directTls: a.candidate.directTls, failure: a.failure, reason: a.reason }),
    }).then(
      (c) => {
        if (this.locating !== locating) {
          c.socket.destroy();
          return;
        }
        this.locating = undefined;
        this.endpoint = { host: c.address, port: c.candidate.port };
        this.socket = c.socket;
        this.log('info', 'connected', { host: c.candidate.host, address: c.address, port: c.candidate.port, directTls: c.candidate.directTls, source: c.candidate.source });
        this.emit('located', { ...c.candidate, address: c.address });
        this.attach(c.socket, c.candidate.directTls);
        this.lifecycle.send({ type: 'CONNECTED' });
      },
      (err: Error | ConnectToDomainError) => {
        if (this.locating !== locating) return;
        this.locating = undefined;
        this.streamEnded({ kind: 'transport', rfc: '6120 §3.2', text: err.message });
      },
    );
  }

  /** `directTls`: the socket is TLS already (XEP-0368): the stream starts secured, STARTTLS is never used (rule 5). */
  private attach(socket: net.Socket, directTls = false): void {
    // The session is only offered again to the same host:port by this client, whose TLS
    // settings (servername = our domain, ca, insecure) never change, so a resumed handshake
    // (which Node does not re-verify) stands for a certificate that was verified before.
    const key = `${this.endpoint.host}:${this.endpoint.port}`;
    const session = this.tlsSessions.get(key);
    const transport = new SocketTransport(socket, {
      tls: {
        ...clientTlsRole(this.domain, this.opts.tls),
        ...(session ? { session } : {}),
        onSession: (s: Buffer) => void this.tlsSessions.set(key, s),
      },
    });
    this.transport = transport;
    const driver: ClientDriver = new SessionDriver({
      machine: initiatingEntityMachine,
      input: directTls ? { ...this.input, secure: true } : this.input,
      transport,
      ...(this.opts.parser ? { parser: this.opts.parser } : {}),
      onCommand: (c) => this.onCommand(driver, c),
      onTransition: (t) => this.emit('state', t),
      onWire: (direction, text) => this.emit('wire', { direction, text }),
    });
    this.driver = driver;
    transport.attach(driver);
    driver.start();
  }

  /** What the stream machine asks beyond the wire: the session's milestones. */
  private onCommand(driver: ClientDriver, command: Command): void {
    if (driver !== this.driver) return;
    switch (command.type) {
      case 'authenticated': {
        this.negotiated = driver.actor.getSnapshot().context.mechanism;
        this.log('info', 'authenticated', { mechanism: this.negotiated });
        return;
      }
      case 'online':
        this.boundJid = command.jid;
        this.lifecycle.send({ type: 'ONLINE', jid: command.jid });
        return;
      case 'deliver':
        this.incoming(command.stanza);
        return;
      case 'ended':
        this.driver = undefined;
        this.socket = undefined;
        this.streamEnded(command.outcome);
        return;
      default:
        return;
    }
  }

  private incoming(stanza: XmlElement): void {
    this.emit('stanza', stanza);
    if (stanza.xmlns !== NS.CLIENT) return;
    if (isIqResponse(stanza)) {
      const id = stanza.attrs['id'];
      const pending = id !== undefined ? this.pendingIqs.get(id) : undefined;
      if (pending && id !== undefined && this.fromMatches(stanza.attrs['from'], pending.to)) {
        this.pendingIqs.delete(id);
        this.clock.clearTimeout(pending.timer);
        if (stanza.attrs['type'] === 'result') pending.resolve(stanza);
        else {
          const e = stanzaErrorCondition(stanza);
          pending.reject(new StanzaError(e?.condition ?? 'undefined-condition', stanza, e?.text));
        }
      }
      return;
    }
    if (isIqRequest(stanza)) {
      void this.iqHandlers.answer(stanza).then((reply) => {
        if (this.status === 'online') this.send(reply);
      });
    }
  }

  /**
   * §10 / §8.1.2.1: a reply must come from where the request went. No 'to' means the server
   * on behalf of the account, which may answer from nothing, its domain or our bare JID.
   */
  private fromMatches(from: string | undefined, to: string | undefined): boolean {
    const f = from?.toLowerCase();
    if (to === undefined) {
      const full = this.boundJid?.toLowerCase();
      return f === undefined || f === this.domain || f === full || f === full?.split('/')[0];
    }
    return f === to.toLowerCase() || (f === undefined && to.toLowerCase() === this.domain);
  }


  /**
   * One stream is over: what belonged to it goes (the bound JID, the IQs waiting for its
   * replies), then the lifecycle decides what comes next (redirect, back-off or the end).
   */
  private streamEnded(outcome: StreamOutcome): void {
    this.lastOutcome = outcome;
    this.boundJid = undefined;
    this.log(outcome.kind === 'closed' ? 'info' : 'warn', 'offline', { ...outcome });
    this.rejectPendingIqs(outcome);
    // §4.9.3.19: where a <see-other-host/> points is parsed here (it needs node:net); whether to go is the lifecycle's rule.
    const redirect = outcome.kind === 'error-received' && outcome.condition === 'see-other-host' ? parseSeeOtherHost(outcome.text) : undefined;
    this.lifecycle.send({ type: 'ENDED', outcome, ...(redirect ? { redirect } : {}) });
  }

  private rejectPendingIqs(outcome: StreamOutcome): void {
    for (const [id, p] of this.pendingIqs) {
      this.clock.clearTimeout(p.timer);
      p.reject(new ClientError(outcome));
      this.pendingIqs.delete(id);
    }
  }

  /** The lifecycle is final: settle what the application waits for. */
  private stopped(reason: StopReason, outcome: StreamOutcome): void {
    this.lastOutcome = outcome;
    const s = this.starting;
    this.starting = undefined;
    // Stopped before getting online: say so, rather than a bare "stream closed".
    if (reason === 'gave-up' && this.lastFailure?.outcome === outcome) s?.reject(this.lastFailure);
    else if (reason === 'stopped' && outcome.kind === 'closed') s?.reject(new ClientError({ ...outcome, text: outcome.text ?? 'stopped before the stream got online' }));
    else s?.reject(new ClientError(outcome));
    this.stopping?.resolve(outcome);
  }
}

export function createClient(opts: ClientOptions): XmppClient {
  return new XmppClient(opts);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
