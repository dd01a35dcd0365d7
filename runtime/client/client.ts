/**
 * `createClient`: an XMPP client (RFC 6120 initiating entity) over TCP, built from the
 * initiating entity machine, the session driver and the socket transport. The machine
 * makes every protocol decision; this file adds what belongs to an application runtime:
 *
 *  - certificate verification (tls-options.ts, RFC 6120 §13.7.2 / RFC 6125);
 *  - a bounded queue for stanzas sent before the stream is online (§4.3.5: the machine
 *    drops them), flushed in order on `online`;
 *  - answers to IQ get/set nobody handles: `<service-unavailable/>` (§8.4, iq.ts);
 *  - reconnection with randomized, truncated exponential back-off (§3.3, backoff.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { DEFAULT_CLIENT_POLICY } from '../../machines/policy.js';
import { parseJid } from '../../machines/jid.js';
import { NS } from '../../machines/ns.js';
import { initiatingEntityMachine, type InitiatingEntityMachine } from '../../machines/initiating/index.js';
import type { Command, InitiatingEntityInput, MechanismName, StreamOutcome, Timeouts } from '../../machines/protocol.js';
import { withAttrs, type XmlElement } from '../../machines/xml.js';
import { SocketTransport } from '../net/socket-transport.js';
import { SessionDriver, type Clock, type TransitionTrace } from '../session/driver.js';
import type { StreamParserOptions } from '../xml/index.js';
import { Backoff, resolveBackoff, type BackoffOptions } from './backoff.js';
import { TypedEmitter } from './emitter.js';
import { IqHandlers, isIqRequest, isIqResponse, stanzaErrorCondition, StanzaError, type IqHandler } from './iq.js';
import { ClientError, isTransient } from './outcome.js';
import { MAX_REDIRECTS, parseSeeOtherHost } from './redirect.js';
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
  /** Where to connect; default the JID's domainpart (no DNS SRV lookup, §3.2 fallback). */
  readonly host?: string;
  /** Default 5222 (§3.2.1 fallback port). */
  readonly port?: number;
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

export class XmppClient extends TypedEmitter<ClientEvents> {
  readonly domain: string;
  readonly host: string;
  readonly port: number;
  private readonly opts: ClientOptions;
  private readonly input: InitiatingEntityInput;
  private readonly backoff: Backoff | undefined;
  private readonly clock: Clock;
  private readonly maxQueued: number;
  private readonly queue: XmlElement[] = [];
  private readonly iqHandlers = new IqHandlers();
  private readonly pendingIqs = new Map<string, PendingIq>();
  private driver: ClientDriver | undefined;
  private socket: net.Socket | undefined;
  private retryTimer: unknown;
  /** Where the next connection goes: host/port, or the target of a §4.9.3.19 redirect. */
  private target: { host: string; port: number };
  private redirects = 0;
  /** §3.3 "RECOMMENDED to make use of TLS session resumption": the last session per host:port. */
  private readonly tlsSessions = new Map<string, Buffer>();
  private transport: SocketTransport | undefined;
  private state: ClientStatus = 'idle';
  private boundJid: string | undefined;
  private negotiated: MechanismName | undefined;
  private lastOutcome: StreamOutcome | undefined;
  private starting: { promise: Promise<string>; resolve: (jid: string) => void; reject: (e: Error) => void } | undefined;
  private stopping: { promise: Promise<StreamOutcome>; resolve: (o: StreamOutcome) => void } | undefined;

  constructor(opts: ClientOptions) {
    super();
    const jid = parseJid(opts.jid);
    if (jid === undefined || jid.local === undefined) throw new Error(`not a JID with a localpart: ${JSON.stringify(opts.jid)}`);
    this.opts = opts;
    this.domain = jid.domain;
    this.host = opts.host ?? jid.domain;
    this.port = opts.port ?? 5222;
    this.target = { host: this.host, port: this.port };
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
    this.maxQueued = opts.maxQueuedStanzas ?? 100;
    if (opts.reconnect) {
      this.backoff = new Backoff(resolveBackoff(opts.reconnect === true ? {} : opts.reconnect), opts.random ?? Math.random);
    }
  }

  get status(): ClientStatus {
    return this.state;
  }

  /** The full JID bound by the server (§7.6.1), while online. */
  get jid(): string | undefined {
    return this.state === 'online' ? this.boundJid : undefined;
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
    return this.queue.length;
  }

  /** Connect and negotiate; resolves with the bound full JID (§7.6.1). */
  start(): Promise<string> {
    if (this.starting) return this.starting.promise;
    if (this.state === 'online' && this.boundJid) return Promise.resolve(this.boundJid);
    if (this.state === 'stopping' || this.state === 'stopped') return Promise.reject(new Error('the client was stopped; create a new one'));
    let resolve!: (jid: string) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<string>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined); // the caller may never await; 'error' reports it too
    this.starting = { promise, resolve, reject };
    this.connect();
    return promise;
  }

  /**
   * Send a stanza. Online: written now. Before online or while reconnecting: queued
   * (at most maxQueuedStanzas; one more throws) and written in order once online.
   */
  send(stanza: XmlElement): void {
    if (this.state === 'stopping' || this.state === 'stopped') throw new Error(`cannot send: the client is ${this.state}`);
    if (this.state === 'online' && this.driver) {
      this.driver.send({ type: 'SEND', stanza });
      return;
    }
    if (this.queue.length >= this.maxQueued) {
      throw new Error(`cannot send: ${this.queue.length} stanzas already wait for the stream to get online (maxQueuedStanzas)`);
    }
    this.queue.push(stanza);
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
    let resolve!: (o: StreamOutcome) => void;
    const promise = new Promise<StreamOutcome>((res) => (resolve = res));
    this.stopping = { promise, resolve };
    if (this.retryTimer !== undefined) {
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    if (this.driver) {
      this.state = 'stopping';
      this.driver.send({ type: 'CLOSE' });
    } else {
      // Not connected (idle, TCP connect in progress, or waiting to reconnect): nothing to close.
      // No stream, so no new 'offline' (the last one was announced when it ended).
      this.socket?.destroy();
      this.socket = undefined;
      this.finish(this.lastOutcome ?? CLOSED, false);
    }
    return promise;
  }

  private log(level: LogLevel, message: string, data?: Record<string, unknown>): void {
    this.opts.logger?.(level, message, data);
  }

  private connect(): void {
    this.state = 'connecting';
    const { host, port } = this.target;
    this.log('info', 'connecting', { host, port });
    const socket = net.connect({ host, port });
    this.socket = socket;
    const timeoutMs = this.opts.connectTimeoutMs ?? 10_000;
    const timer = setTimeout(() => socket.destroy(new Error(`no TCP connection within ${timeoutMs} ms`)), timeoutMs);
    const failed = (err: Error): void => {
      clearTimeout(timer);
      if (this.socket !== socket) return;
      this.socket = undefined;
      // RFC 6120 §3: no TCP connection, so no stream.
      this.ended({ kind: 'transport', rfc: '6120 §3', text: `cannot connect to ${host}:${port}: ${err.message}` });
    };
    socket.once('error', failed);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', failed);
      if (this.socket !== socket) return;
      this.attach(socket);
    });
  }

  private attach(socket: net.Socket): void {
    // The session is only offered again to the same host:port by this client, whose TLS
    // settings (servername = our domain, ca, insecure) never change, so a resumed handshake
    // (which Node does not re-verify) stands for a certificate that was verified before.
    const key = `${this.target.host}:${this.target.port}`;
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
      input: this.input,
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

  private onCommand(driver: ClientDriver, command: Command): void {
    if (driver !== this.driver) return;
    switch (command.type) {
      case 'authenticated': {
        this.negotiated = driver.actor.getSnapshot().context.mechanism;
        this.log('info', 'authenticated', { mechanism: this.negotiated });
        return;
      }
      case 'online':
        this.goOnline(driver, command.jid);
        return;
      case 'deliver':
        this.incoming(command.stanza);
        return;
      case 'ended':
        this.driver = undefined;
        this.socket = undefined;
        this.ended(command.outcome);
        return;
      default:
        return;
    }
  }

  private goOnline(driver: ClientDriver, jid: string): void {
    this.state = 'online';
    this.boundJid = jid;
    this.backoff?.reset();
    this.redirects = 0;
    this.log('info', 'online', { jid });
    // §4.3.5: now stanzas may flow; the queue goes first, in order.
    for (const stanza of this.queue.splice(0)) driver.send({ type: 'SEND', stanza });
    this.emit('online', jid);
    const s = this.starting;
    this.starting = undefined;
    s?.resolve(jid);
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
        if (this.state === 'online') this.send(reply);
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

  private ended(outcome: StreamOutcome): void {
    this.lastOutcome = outcome;
    const wasOnline = this.state === 'online';
    this.boundJid = undefined;
    this.log(outcome.kind === 'closed' ? 'info' : 'warn', 'offline', { ...outcome });
    for (const [id, p] of this.pendingIqs) {
      this.clock.clearTimeout(p.timer);
      p.reject(new ClientError(outcome));
      this.pendingIqs.delete(id);
    }
    if (this.stopping) {
      this.finish(outcome, wasOnline || this.state === 'stopping');
      return;
    }
    this.emit('offline', outcome);
    const failure = new ClientError(outcome);
    if (this.redirect(outcome)) return;
    this.redirects = 0; // the run of successive redirects (§4.9.3.19) is over
    if (!(outcome.kind === 'closed' && outcome.condition === undefined)) this.emit('error', failure);
    // A reconnection after an outage starts again at the configured host (§3.3); a redirect
    // target is where the service sent us then, not its entry point.
    this.target = { host: this.host, port: this.port };
    const delay = this.backoff && isTransient(outcome) ? this.backoff.next() : undefined;
    if (delay !== undefined && this.backoff) {
      this.state = 'waiting';
      const attempt = this.backoff.attempts;
      this.log('info', 'reconnecting', { attempt, delayMs: delay });
      this.emit('reconnecting', { attempt, delayMs: delay, after: outcome });
      this.retryTimer = this.clock.setTimeout(() => {
        this.retryTimer = undefined;
        if (this.state === 'waiting') this.connect();
      }, delay);
      return;
    }
    this.state = 'stopped';
    const s = this.starting;
    this.starting = undefined;
    s?.reject(failure);
  }

  /**
   * §4.9.3.19: follow `<see-other-host/>` at once (it is an instruction, not an outage), at
   * most MAX_REDIRECTS times in a row. The new stream is negotiated exactly like the first:
   * same 'to' (the JID's domain), same TLS policy, and the certificate is verified against
   * the same reference identity (tls-options.ts uses the domain, never the host), so a
   * redirect can cost a connection attempt but cannot lead to an impostor.
   */
  private redirect(outcome: StreamOutcome): boolean {
    if (outcome.kind !== 'error-received' || outcome.condition !== 'see-other-host') return false;
    const to = parseSeeOtherHost(outcome.text);
    if (to === undefined || this.redirects >= MAX_REDIRECTS) return false;
    this.redirects++;
    this.target = to;
    this.log('info', 'redirected', { ...to, count: this.redirects });
    this.emit('redirected', { ...to, count: this.redirects });
    this.connect();
    return true;
  }

  private finish(outcome: StreamOutcome, announce: boolean): void {
    this.state = 'stopped';
    this.lastOutcome = outcome;
    if (announce) this.emit('offline', outcome);
    const s = this.starting;
    this.starting = undefined;
    s?.reject(new ClientError(outcome.kind === 'closed' ? { ...outcome, text: outcome.text ?? 'stopped before the stream got online' } : outcome));
    this.stopping?.resolve(outcome);
  }
}

export function createClient(opts: ClientOptions): XmppClient {
  return new XmppClient(opts);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
