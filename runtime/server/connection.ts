/**
 * One TCP connection of the server: SocketTransport + SessionDriver(receivingEntityMachine)
 * + the host glue that answers the machine's questions (account store, session registry)
 * and carries out its requests (register the bound JID, route stanzas, forget the session).
 * All protocol decisions stay in the machine; all routing decisions in router.ts.
 */
import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { StreamErrorCondition } from '../../machines/conditions.js';
import type { Command, StreamOutcome } from '../../machines/protocol.js';
import { receivingEntityMachine, type ReceivingEntityMachine, type ReceivingEntityMachineInput } from '../../machines/receiving/index.js';
import type { XmlElement } from '../../machines/xml.js';
import { SocketTransport } from '../net/socket-transport.js';
import { SessionDriver, type SessionDriverOptions, type Transport } from '../session/driver.js';
import type { StreamParserOptions } from '../xml/parser.js';
import type { Logger } from './logger.js';
import { newResourcePresence } from './presence-host.js';
import { TokenBucket } from './rate-limit.js';
import type { RegisteredSession, SessionRegistry } from './registry.js';

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly input: ReceivingEntityMachineInput;
  readonly parser: StreamParserOptions;
  readonly secureContext: SecureContext | undefined;
  readonly registry: SessionRegistry;
  readonly logger: Logger;
  readonly bytesPerSecond: number;
  readonly burstBytes: number;
  /** Stored credentials for a localpart; throws when the store cannot answer. */
  lookupCredentials(username: string): import('../../machines/sasl/api.js').StoredCredentials | null;
  /** §10: route a stamped stanza from `session`. */
  route(stanza: XmlElement, session: RegisteredSession): void;
  /** RFC 6121 §4.5.2: `session` is no longer connected (its stream ended, or another took its JID). */
  sessionEnded(session: RegisteredSession): void;
  /** The socket is gone: forget the connection. */
  closed(connection: Connection): void;
}

/**
 * The driver with read shaping (rate-limit.ts) and a hook for the socket's end. The transport
 * calls `receive` and `closed` on it; both are intercepted here, the rest is the plain driver.
 * Bytes over the rate are held back (and the socket paused) until the bucket refills.
 */
class ConnectionDriver extends SessionDriver<ReceivingEntityMachine> {
  private held: (Uint8Array | string)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    opts: SessionDriverOptions<ReceivingEntityMachine>,
    private readonly bucket: TokenBucket,
    private readonly reading: { pause(): void; resume(): void },
    private readonly onClosed: () => void,
    private readonly onError: (err: unknown) => void,
  ) {
    super(opts);
  }

  /** Bytes into the parser and machine; an exception there ends this stream only. */
  private feed(chunk: Uint8Array | string): void {
    try {
      super.receive(chunk);
    } catch (err) {
      this.onError(err);
    }
  }

  override receive(chunk: Uint8Array | string): void {
    const wait = this.bucket.take(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength);
    if (this.timer === undefined && wait === 0) {
      this.feed(chunk);
      return;
    }
    this.held.push(chunk);
    if (this.timer === undefined) {
      this.reading.pause();
      this.timer = setTimeout(() => this.release(), wait);
    }
  }

  /** §5.4.3.3: plaintext held back when TLS starts is discarded, never parsed as part of the TLS stream. */
  discardHeld(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.held.length > 0) this.reading.resume();
    this.held = [];
  }

  get shaping(): boolean {
    return this.timer !== undefined;
  }

  override closed(reason?: string): void {
    this.discardHeld();
    super.closed(reason);
    this.onClosed();
  }

  private release(): void {
    this.timer = undefined;
    const wait = this.bucket.wait();
    if (wait > 0) {
      this.timer = setTimeout(() => this.release(), wait);
      return;
    }
    const held = this.held;
    this.held = [];
    this.reading.resume();
    for (const chunk of held) this.feed(chunk);
  }
}

let nextId = 1;

export class Connection {
  readonly id = nextId++;
  readonly remote: string;
  readonly driver: SessionDriver<ReceivingEntityMachine>;
  private readonly transport: SocketTransport;
  private readonly driverImpl: ConnectionDriver;
  private readonly opened = Date.now();
  private session: RegisteredSession | undefined;
  private socketClosed = false;
  private readonly closedWaiters: (() => void)[] = [];

  constructor(
    socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.transport = new SocketTransport(socket, host.secureContext ? { tls: { role: 'server', secureContext: host.secureContext } } : {});
    // The driver's view of the transport: held-back plaintext is dropped when TLS starts.
    const transport: Transport = {
      write: (text) => this.transport.write(text),
      startTls: () => {
        this.driverImpl.discardHeld();
        this.transport.startTls();
      },
      close: () => this.transport.close(),
    };
    this.driverImpl = new ConnectionDriver(
      {
        machine: receivingEntityMachine,
        input: host.input,
        transport,
        parser: host.parser,
        onCommand: (command) => this.performSafely(command),
      },
      new TokenBucket({ bytesPerSecond: host.bytesPerSecond, burstBytes: host.burstBytes }),
      {
        pause: () => {
          this.host.logger.debug('connection.shaped', { conn: this.id });
          this.transport.pause();
        },
        resume: () => this.transport.resume(),
      },
      () => this.onSocketClosed(),
      (err) => {
        this.host.logger.error('connection.internal-error', { conn: this.id, error: err instanceof Error ? err.stack : String(err) });
        this.fail('internal-server-error');
      },
    );
    this.driver = this.driverImpl;
  }

  /** Start the machine and begin reading. */
  start(): this {
    this.host.logger.info('connection.open', { conn: this.id, remote: this.remote });
    this.driver.start();
    this.transport.attach(this.driver);
    return this;
  }

  /** The full JID once bound. */
  get jid(): string | undefined {
    return this.session?.jid;
  }

  get isClosed(): boolean {
    return this.socketClosed;
  }

  /** Resolves once the TCP connection is gone. */
  whenClosed(): Promise<void> {
    if (this.socketClosed) return Promise.resolve();
    return new Promise((resolve) => this.closedWaiters.push(resolve));
  }

  /** §4.9.3.20: the server is going down. */
  shutdown(): void {
    this.driver.send({ type: 'SHUTDOWN' });
  }

  /** An operator- or runtime-requested stream error (e.g. §4.9.3.17 resource-constraint). */
  fail(condition: StreamErrorCondition, text?: string): void {
    this.driver.send({ type: 'FAIL', condition, ...(text !== undefined ? { text } : {}) });
  }

  /** Abort without a handshake (shutdown deadline passed). */
  destroy(): void {
    this.transport.destroy();
  }

  /**
   * A bug in the glue must cost one stream, not the server: the stream ends with
   * `<internal-server-error/>` (§4.9.3.8) and the error is logged.
   */
  private performSafely(command: Command): void {
    try {
      this.perform(command);
    } catch (err) {
      this.host.logger.error('connection.internal-error', { conn: this.id, command: command.type, error: err instanceof Error ? err.stack : String(err) });
      if (command.type !== 'ended') queueMicrotask(() => this.fail('internal-server-error'));
    }
  }

  private perform(command: Command): void {
    switch (command.type) {
      case 'lookupCredentials':
        return this.lookupCredentials(command.username);
      case 'queryResource': {
        const status = this.host.registry.status(`${command.username}@${this.host.input.domain}`, command.resource);
        this.driver.send({ type: 'RESOURCE_STATUS', resource: command.resource, ...status });
        return;
      }
      case 'authenticated':
        this.host.logger.info('stream.authenticated', { conn: this.id, username: command.username });
        return;
      case 'bound':
        return this.bind(command.jid, command.replace);
      case 'deliver':
        if (this.session) this.host.route(command.stanza, this.session);
        return;
      case 'ended':
        return this.ended(command.outcome);
      default:
        return;
    }
  }

  /** §6.3.7 / §6.5.11: a store that cannot answer gives temporary-auth-failure, never a crash. */
  private lookupCredentials(username: string): void {
    try {
      const credentials = this.host.lookupCredentials(username);
      this.driver.send({ type: 'CREDENTIALS', username, credentials });
    } catch (err) {
      this.host.logger.error('store.unavailable', { conn: this.id, error: err instanceof Error ? err.message : String(err) });
      this.driver.send({ type: 'CREDENTIALS', username, credentials: null, unavailable: true });
    }
  }

  /** §7.6.1 / §7.7.1: register for routing; §7.7.2.2 #3 override: the previous holder gets `<conflict/>`. */
  private bind(jid: string, replace: boolean): void {
    const driver = this.driver;
    const session: RegisteredSession = {
      jid,
      presence: false,
      rosterInterested: false,
      resourcePresence: newResourcePresence(),
      routeIn: (stanza) => driver.send({ type: 'ROUTE_IN', stanza }),
      replaced: () => driver.send({ type: 'REPLACED' }),
    };
    this.session = session;
    const previous = this.host.registry.bind(session);
    this.host.logger.info('stream.bound', { conn: this.id, jid, replace });
    previous?.replaced();
    // RFC 6121 §4.5.2: the replaced stream's resource is gone now, before the new one can send
    // presence under the same full JID (its own 'ended' comes later and finds nothing to say).
    if (previous !== undefined) this.host.sessionEnded(previous);
  }

  private ended(outcome: StreamOutcome): void {
    if (this.session) {
      this.host.registry.unbind(this.session);
      // RFC 6121 §4.5.2: every path that ends a stream ends here (close, stream error, silent peer, socket gone, shutdown).
      this.host.sessionEnded(this.session);
    }
    this.host.logger.info('stream.ended', { conn: this.id, jid: this.session?.jid, ...outcome });
  }

  private onSocketClosed(): void {
    if (this.socketClosed) return;
    this.socketClosed = true;
    this.host.logger.info('connection.closed', { conn: this.id, remote: this.remote, ms: Date.now() - this.opened });
    this.host.closed(this);
    for (const w of this.closedWaiters.splice(0)) w();
  }
}
