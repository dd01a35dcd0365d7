/**
 * One incoming server-to-server TCP connection (RFC 6120 §4.2, the peer is the initiating
 * server): SocketTransport + SessionDriver(receivingServerMachine) + the glue that carries out
 * the machine's requests. The machine decides everything about the stream (headers, STARTTLS,
 * SASL EXTERNAL, dialback, which stanzas are accepted); here stanzas it accepts are handed to
 * the router, and a dialback Step 2 it asks for goes to the Authoritative Server through the
 * federation (./federation.ts), whose answer comes back as VERIFY_ANSWER / VERIFY_FAILED.
 *
 * Choice: no read shaping here (the client connection's rate-limit.ts): a peer server carries
 * many users' traffic, and its stanzas are bounded in size by the parser all the same (§13.12).
 */
import type { StreamErrorCondition } from '../../machines/conditions.js';
import { parseVerify, type DbVerifyAnswer, type VerifyFailure } from '../../machines/dialback/index.js';
import { toClientScope } from '../../machines/s2s/rescope.js';
import { receivingServerMachine, type ReceivingServerCommand, type ReceivingServerInput, type ReceivingServerMachine } from '../../machines/s2s/receiving/index.js';
import type { XmlElement } from '../../machines/xml.js';
import type { Command } from '../../machines/protocol.js';
import type { Logger } from '../server/logger.js';
import { observedSink, SessionDriver, type Clock, type DuplexTransport, type TransitionTrace } from '../session/driver.js';
import { Once } from '../session/once.js';
import type { StreamParserOptions } from '../xml/parser.js';

/** A dialback Step 2 for the Authoritative Server (XEP-0220 §2.1.2), as the federation takes it. */
export interface VerifyRequest {
  /** The Target Domain (ours): the key's 'from'. */
  readonly from: string;
  /** The Sender Domain, whose Authoritative Server is asked. */
  readonly to: string;
  readonly id: string;
  readonly key: string;
}

/** What an incoming connection needs from the federation. */
export interface IncomingHost {
  readonly input: ReceivingServerInput;
  readonly parser: StreamParserOptions;
  readonly logger: Logger;
  /** Timer source for the machines' delays; a virtual clock under the simulator. */
  readonly clock?: Clock;
  /** Each transition of the stream machine (coverage). */
  readonly onTransition?: (t: TransitionTrace) => void;
  /** §10.5: a stanza from an authenticated remote domain, re-scoped to 'jabber:client' (§4.8.3), for the router. */
  deliver(stanza: XmlElement): void;
  /** XEP-0220 §2.1.2 Step 2: ask the Authoritative Server; the answer comes back through `verifyAnswered` / `verifyFailed`. */
  verify(request: VerifyRequest, from: IncomingServerStream): void;
  closed(stream: IncomingServerStream): void;
}

let nextId = 1;

export class IncomingServerStream {
  readonly id = `s2s-in-${nextId++}`;
  private readonly transport: DuplexTransport;
  private readonly driver: SessionDriver<ReceivingServerMachine>;
  private readonly gone = new Once();
  /** Domain pairs ("from to") authenticated on this stream, for logs and the admin view. */
  readonly authenticated = new Set<string>();

  /**
   * `transport`: the accepted connection; its STARTTLS must ask for the peer's certificate and
   * report it (§13.7.1, XEP-0178: SocketTransport with `requestCert` and `reportPeerCertificate`).
   * `remote`: the peer's address, for logs.
   */
  constructor(
    transport: DuplexTransport,
    readonly remote: string,
    private readonly host: IncomingHost,
  ) {
    this.transport = transport;
    this.driver = new SessionDriver({
      machine: receivingServerMachine,
      input: host.input,
      transport: {
        write: (text) => this.transport.write(text),
        startTls: () => this.transport.startTls(),
        close: () => this.transport.close(),
      },
      parser: host.parser,
      contentNamespace: 'jabber:server',
      ...(host.clock && { clock: host.clock }),
      ...(host.onTransition && { onTransition: host.onTransition }),
      onCommand: (command) => this.performSafely(command),
    });
  }

  start(): this {
    this.host.logger.info('s2s.in.open', { conn: this.id, remote: this.remote });
    this.driver.start();
    this.transport.attach(observedSink(this.driver, {
        // Which names the peer's certificate presents and whether its chain is trusted: the machine
        // offers SASL EXTERNAL only when it authenticates the header's 'from' (XEP-0178 §3), else dialback.
        tlsEstablished: ({ peerCertificate: c }) =>
          this.host.logger.info('s2s.in.tls', {
            conn: this.id,
            certificate: c === undefined ? 'none presented' : `${c.trusted ? 'trusted' : 'untrusted'} chain, names ${[...c.identifiers.dnsIds, ...c.identifiers.srvIds, ...c.identifiers.xmppAddrs].join(' ') || '(none)'}`,
          }),
        closed: () => this.onSocketClosed(),
      }));
    return this;
  }

  get isClosed(): boolean {
    return this.gone.happened;
  }

  whenClosed(): Promise<void> {
    return this.gone.wait();
  }

  /** XEP-0220 §2.1.2 Step 3 arrived for a request of this stream. */
  verifyAnswered(answer: DbVerifyAnswer): void {
    this.driver.send({ type: 'VERIFY_ANSWER', answer });
  }

  /** The Authoritative Server of `from` could not be asked (§2.5). */
  verifyFailed(from: string, to: string, reason: VerifyFailure): void {
    this.driver.send({ type: 'VERIFY_FAILED', from, to, reason });
  }

  /** §4.9.3.20: the server is going down. */
  shutdown(): void {
    this.driver.send({ type: 'SHUTDOWN' });
  }

  /** An operator- or runtime-requested stream error (e.g. §4.9.3.17 resource-constraint). */
  fail(condition: StreamErrorCondition, text?: string): void {
    this.driver.send({ type: 'FAIL', condition, ...(text !== undefined ? { text } : {}) });
  }

  destroy(): void {
    this.transport.destroy();
  }

  /** A bug in the glue costs this stream, not the server (§4.9.3.8 internal-server-error). */
  private performSafely(command: Command): void {
    try {
      this.perform(command as ReceivingServerCommand);
    } catch (err) {
      this.host.logger.error('s2s.in.internal-error', { conn: this.id, command: command.type, error: err instanceof Error ? err.stack : String(err) });
      if (command.type !== 'ended') queueMicrotask(() => this.fail('internal-server-error'));
    }
  }

  private perform(command: ReceivingServerCommand): void {
    switch (command.type) {
      case 'deliver':
        this.host.deliver(toClientScope(command.stanza));
        return;
      case 'authenticated':
        this.authenticated.add(`${command.from} ${command.to}`);
        this.host.logger.info('s2s.in.authenticated', { conn: this.id, from: command.from, to: command.to, method: command.method });
        return;
      case 'verify': {
        const parsed = parseVerify(command.element);
        // The pair machine built the element from a request it had checked; anything else is a bug.
        if (!parsed.ok || parsed.value.kind !== 'request') throw new Error(`verify command without a <db:verify/> request: ${parsed.ok ? parsed.value.kind : parsed.reason}`);
        const { from, to, id, key } = parsed.value;
        this.host.verify({ from, to, id, key }, this);
        return;
      }
      case 'pairRejected':
        this.host.logger.warn('s2s.in.dialback-rejected', { conn: this.id, from: command.from, to: command.to, why: 'the Authoritative Server did not recognise the key (XEP-0220 §2.2.1)' });
        return;
      case 'pairFailed':
        this.host.logger.warn('s2s.in.dialback-failed', { conn: this.id, from: command.from, to: command.to, condition: command.condition });
        return;
      case 'ended':
        this.host.logger.info('s2s.in.ended', { conn: this.id, pairs: [...this.authenticated], ...command.outcome });
        return;
      default:
        // pingPeer: only with the 'ping' keepalive policy, which the server does not configure (DEFAULT_RECEIVING_SERVER_POLICY: whitespace).
        return;
    }
  }

  private onSocketClosed(): void {
    if (this.gone.happened) return;
    this.host.logger.info('s2s.in.closed', { conn: this.id, remote: this.remote });
    this.host.closed(this);
    this.gone.fire();
  }
}
