/**
 * One outgoing server-to-server stream (RFC 6120 §4.2, we are the initiating server): the
 * remote domain resolved and connected (§3.2, `_xmpp-server._tcp`, runtime/net/resolve.ts),
 * then SocketTransport + SessionDriver(initiatingServerMachine). The machine decides the
 * negotiation (STARTTLS, the peer's certificate for the remote domain, SASL EXTERNAL or
 * dialback) and which stanzas may go; this file reports the attempt's progress to its route
 * (runtime/s2s/outbound.ts `StreamReports`) and carries `<db:verify/>` answers back to the
 * incoming stream that asked (./federation.ts).
 *
 * Either purpose of the machine: 'stanzas' (a route's stream for one domain pair) or 'verify'
 * (XEP-0220 §2.1.2 Step 2 only, closed by the machine after its last answer).
 */
import { certificateAuthenticates } from '../../machines/identity.js';
import type { DbVerifyAnswer, VerifyFailure } from '../../machines/dialback/index.js';
import type { Command, StreamOutcome } from '../../machines/protocol.js';
import {
  initiatingServerMachine,
  type InitiatingServerCommand,
  type InitiatingServerInput,
  type InitiatingServerMachine,
  type StreamPurpose,
  type VerifyEvent,
} from '../../machines/s2s/initiating/index.js';
import type { RouteFailureCondition } from '../../machines/s2s/route/index.js';
import { toServerScope } from '../../machines/s2s/rescope.js';
import type { XmlElement } from '../../machines/xml.js';
import { ConnectToDomainError } from '../net/resolve.js';
import type { Logger } from '../server/logger.js';
import { observedSink, SessionDriver, type Clock, type DuplexTransport, type TlsInfo, type TransitionTrace } from '../session/driver.js';
import { Once } from '../session/once.js';
import type { StreamParserOptions } from '../xml/parser.js';
import type { OutboundStream, StreamReports } from './outbound.js';

/**
 * A connection to the remote domain's server: a transport whose STARTTLS presents our
 * certificate, trusts our anchors and reports the peer's certificate without refusing it
 * (the machine decides what it proves, §13.7.2.1), and where it went, for the log.
 */
export interface ServerConnection {
  readonly transport: DuplexTransport;
  readonly description: Readonly<Record<string, unknown>>;
}

/** What an outgoing stream needs from the federation. */
export interface OutgoingHost {
  /** The machine input without the per-stream part (remote domain, purpose). */
  readonly input: Omit<InitiatingServerInput, 'remoteDomain' | 'purpose'>;
  readonly parser: StreamParserOptions;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Each transition of the stream machine (coverage). */
  readonly onTransition?: (t: TransitionTrace) => void;
  /** §3.2: resolve and connect to the remote domain's xmpp-server service (rejects, with ConnectToDomainError when it knows the condition). */
  connect(remote: string, signal: AbortSignal): Promise<ServerConnection>;
  /** XEP-0220 §2.1.2 Step 3 for the VERIFY of `correlation`. */
  verifyAnswered(correlation: string, answer: DbVerifyAnswer): void;
  /** The VERIFY of `correlation` got no answer on this stream (§2.5). */
  verifyFailed(correlation: string, reason: VerifyFailure): void;
  /** A stanza the machine would not write (§8.3): the federation returns it to its sender. */
  refused(stanza: XmlElement, reason: string): void;
  closed(stream: OutgoingServerStream): void;
}

let nextId = 1;

export class OutgoingServerStream implements OutboundStream {
  readonly id = `s2s-out-${nextId++}`;
  private driver: SessionDriver<InitiatingServerMachine> | undefined;
  private transport: DuplexTransport | undefined;
  private readonly controller = new AbortController();
  /** VERIFYs given before the TCP connection was up: the machine gets them once it runs. */
  private pending: VerifyEvent[] = [];
  private authenticated = false;
  private over = false;
  private socketClosed = false;
  private readonly ended = new Once();

  constructor(
    readonly remote: string,
    readonly purpose: StreamPurpose,
    private readonly host: OutgoingHost,
    /** The route's reports, for a 'stanzas' stream; silenced by abort(). */
    private reports: StreamReports | undefined,
  ) {}

  /** §3.2: resolve and connect, then run the machine on the connection. */
  start(): this {
    this.host.logger.info('s2s.out.connecting', { conn: this.id, remote: this.remote, purpose: this.purpose });
    this.host.connect(this.remote, this.controller.signal).then(
      (connected) => this.connected(connected),
      (err: unknown) => this.connectFailed(err),
    );
    return this;
  }

  /** The stream is still usable for a `<db:verify/>` (not closing, not over). */
  get acceptsVerify(): boolean {
    if (this.over) return false;
    const snapshot = this.driver?.actor.getSnapshot();
    return snapshot === undefined || snapshot.matches('starting') || snapshot.matches('open');
  }

  get isClosed(): boolean {
    return this.over && (this.transport === undefined || this.socketClosed);
  }

  whenClosed(): Promise<void> {
    return this.ended.wait();
  }

  /** OutboundStream: a stanza for the authenticated pair, re-scoped to 'jabber:server' (§4.8.3). */
  send(stanza: XmlElement): void {
    if (this.driver === undefined) {
      this.host.refused(stanza, 'the stream to the remote domain is not up');
      return;
    }
    this.driver.send({ type: 'SEND', stanza: toServerScope(stanza) });
  }

  /** XEP-0220 §2.1.2 Step 2 (held by the machine until the stream is ready for it). */
  verify(event: VerifyEvent): void {
    if (this.driver !== undefined) this.driver.send(event);
    else if (!this.over) this.pending.push(event);
    else this.host.verifyFailed(event.correlation, 'connection-lost');
  }

  /** OutboundStream: §4.4 graceful close; before the connection is up, abandon it. */
  close(): void {
    if (this.driver !== undefined) this.driver.send({ type: 'CLOSE' });
    else this.finish('closed before the connection was up', undefined);
  }

  /** OutboundStream: abandon the attempt; the route hears nothing more of it. */
  abort(): void {
    this.reports = undefined;
    this.controller.abort(new Error('the route abandoned this attempt'));
    if (this.transport !== undefined) this.transport.destroy();
    else this.finish('aborted', undefined);
  }

  /** §4.9.3.20 on shutdown: a graceful close, like the route's (our stream carries no error to send). */
  shutdown(): void {
    this.close();
  }

  destroy(): void {
    this.controller.abort(new Error('shutting down'));
    this.transport?.destroy();
    if (this.transport === undefined) this.finish('shutting down', undefined);
  }

  private connected({ transport, description }: ServerConnection): void {
    if (this.over) {
      transport.destroy();
      return;
    }
    this.host.logger.info('s2s.out.connected', { conn: this.id, remote: this.remote, ...description });
    this.reports?.connected();
    this.run(transport);
  }

  private connectFailed(err: unknown): void {
    if (this.over) return;
    const condition: RouteFailureCondition = err instanceof ConnectToDomainError ? err.condition : 'remote-server-not-found';
    const reason = err instanceof Error ? err.message : String(err);
    this.host.logger.warn('s2s.out.unreachable', { conn: this.id, remote: this.remote, condition, reason });
    // XEP-0220 §2.5: no server found → remote-server-not-found; one found but no stream → remote-connection-failed.
    const verifyReason: VerifyFailure = condition === 'remote-server-not-found' && !(err instanceof ConnectToDomainError && err.attempts.length > 0) ? 'not-found' : 'connection-failed';
    this.finish(reason, { condition, verifyReason });
  }

  private run(transport: DuplexTransport): void {
    this.transport = transport;
    this.driver = new SessionDriver({
      machine: initiatingServerMachine,
      input: { ...this.host.input, remoteDomain: this.remote, purpose: this.purpose },
      transport: {
        write: (text) => this.transport!.write(text),
        startTls: () => this.transport!.startTls(),
        close: () => this.transport!.close(),
      },
      parser: this.host.parser,
      contentNamespace: 'jabber:server',
      ...(this.host.clock && { clock: this.host.clock }),
      ...(this.host.onTransition && { onTransition: this.host.onTransition }),
      onCommand: (command) => this.performSafely(command),
    });
    this.driver.start();
    this.transport.attach(observedSink(this.driver, { tlsEstablished: (info) => this.logIdentity(info), closed: () => this.onSocketClosed() }));
    const pending = this.pending;
    this.pending = [];
    for (const v of pending) this.driver.send(v);
  }

  /** A clear log line on whether the peer's certificate authenticates the remote domain, and why not (§13.7.2.1). */
  private logIdentity(info: TlsInfo): void {
    const identity = certificateAuthenticates(info.peerCertificate, this.remote);
    this.host.logger.info('s2s.out.tls', {
      conn: this.id,
      remote: this.remote,
      certificate: identity.ok ? `authenticates ${this.remote} (${identity.matched})` : `does not authenticate ${this.remote}: ${identity.reason}`,
    });
  }

  private performSafely(command: Command): void {
    try {
      this.perform(command as InitiatingServerCommand);
    } catch (err) {
      this.host.logger.error('s2s.out.internal-error', { conn: this.id, command: command.type, error: err instanceof Error ? err.stack : String(err) });
    }
  }

  private perform(command: InitiatingServerCommand): void {
    switch (command.type) {
      case 'authenticated':
        this.authenticated = true;
        this.host.logger.info('s2s.out.authenticated', { conn: this.id, from: command.from, to: command.to, method: command.method });
        this.reports?.authenticated();
        return;
      case 'stanzaRefused':
        this.host.refused(command.stanza, command.reason);
        return;
      case 'verifyAnswer':
        this.host.verifyAnswered(command.correlation, command.answer);
        return;
      case 'verifyFailed':
        this.host.verifyFailed(command.correlation, command.reason);
        return;
      case 'pairRejected':
        this.host.logger.warn('s2s.out.dialback-rejected', { conn: this.id, from: command.from, to: command.to, why: 'the remote server found our dialback key invalid (XEP-0220 §2.1.1)' });
        return;
      case 'pairFailed':
        this.host.logger.warn('s2s.out.dialback-failed', { conn: this.id, from: command.from, to: command.to, reason: command.reason, condition: command.condition });
        return;
      case 'ended': {
        const { outcome } = command;
        this.host.logger.info('s2s.out.ended', { conn: this.id, remote: this.remote, ...outcome });
        this.finish(describe(outcome), this.authenticated ? undefined : { condition: outcome.bounce, verifyReason: 'connection-lost' });
        return;
      }
      default:
        return;
    }
  }

  /**
   * The attempt or stream is over: the route hears `failed` (before authentication, with the
   * condition) or `ended`; VERIFYs that never reached a machine fail.
   */
  private finish(reason: string, failure: { condition: RouteFailureCondition; verifyReason: VerifyFailure } | undefined): void {
    if (this.over) return;
    this.over = true;
    for (const v of this.pending.splice(0)) this.host.verifyFailed(v.correlation, failure?.verifyReason ?? 'connection-lost');
    const reports = this.reports;
    this.reports = undefined;
    if (failure !== undefined) reports?.failed(failure.condition, reason);
    else reports?.ended(reason);
    if (this.transport === undefined) this.gone();
  }

  private onSocketClosed(): void {
    if (this.socketClosed) return;
    this.socketClosed = true;
    this.host.logger.info('s2s.out.closed', { conn: this.id, remote: this.remote });
    this.gone();
  }

  private gone(): void {
    if (!this.isClosed || !this.ended.fire()) return;
    this.host.closed(this);
  }
}

function describe(outcome: StreamOutcome): string {
  return `${outcome.kind}${outcome.condition ? ` <${outcome.condition}/>` : ''}${outcome.text ? `: ${outcome.text}` : ''} (RFC ${outcome.rfc})`;
}
