/**
 * A `Transport` over a Node TCP socket, with the in-place STARTTLS upgrade of
 * RFC 6120 §5.4.3: the same TCP connection continues as TLS, for either role.
 */
import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import type { Transport, TransportSink } from '../session/driver.js';
import { peerCertificateOf } from '../tls/identity.js';

export type TlsRole =
  /** Receiving entity: present our certificate (§5.4.3.1). */
  | {
      readonly role: 'server';
      readonly secureContext: tls.SecureContext;
      /**
       * Ask the initiating entity for its certificate (§13.7.1: a server authenticates a peer
       * server by it, XEP-0178), without refusing one that does not verify: the stream machine
       * decides what the certificate proves, and dialback remains for the rest.
       */
      readonly requestCert?: boolean;
    }
  /** Initiating entity: verify the server's certificate (§13.7.2) unless told not to. */
  | {
      readonly role: 'client';
      readonly servername: string;
      readonly ca?: string | Buffer | readonly (string | Buffer)[];
      /** Our own certificate and key, presented to a receiving server that asks (§13.7.1, XEP-0178 §3). */
      readonly cert?: string;
      readonly key?: string;
      readonly rejectUnauthorized: boolean;
      readonly checkServerIdentity?: (host: string, cert: tls.PeerCertificate) => Error | undefined;
      /** RFC 6120 §3.3: a TLS session (ticket) from an earlier connection to resume. */
      readonly session?: Buffer;
      /** Called with each session (ticket) the server issues, for a later `session`. */
      readonly onSession?: (session: Buffer) => void;
    };

export interface SocketTransportOptions {
  readonly tls?: TlsRole;
  /**
   * A peer that stops reading makes our writes pile up in memory. Past this many
   * unsent bytes the connection counts as dead (§4.6.1) and the driver gets WRITE_FAILED.
   */
  readonly maxBufferedBytes?: number;
  /** After we half-close, destroy the socket if the peer has not closed within this time. */
  readonly lingerMs?: number;
  /**
   * Report the peer's certificate (chain trusted or not, and its identifiers) with
   * TLS_ESTABLISHED, for machines that authenticate the peer by it (§13.7.2.1).
   */
  readonly reportPeerCertificate?: boolean;
}

export class SocketTransport implements Transport {
  private socket: Socket;
  private driver: TransportSink | undefined;
  private readonly opts: SocketTransportOptions;
  private ended = false;
  private failed = false;
  private readonly onData = (chunk: Buffer): void => this.driver?.receive(chunk);

  constructor(socket: Socket, opts: SocketTransportOptions = {}) {
    this.socket = socket;
    this.opts = opts;
    socket.setNoDelay(true);
  }

  /** Connect the transport to its driver and start reading. */
  attach(driver: TransportSink): void {
    this.driver = driver;
    this.listen(this.socket);
  }

  get encrypted(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  /** True when the TLS handshake resumed an earlier session (§3.3) instead of a full one. */
  get sessionReused(): boolean {
    return this.socket instanceof tls.TLSSocket && this.socket.isSessionReused();
  }

  get peerCertificate(): tls.PeerCertificate | undefined {
    return this.socket instanceof tls.TLSSocket ? this.socket.getPeerCertificate() : undefined;
  }

  write(text: string): void {
    if (this.ended || this.failed || this.socket.destroyed) return;
    this.socket.write(text);
    const limit = this.opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    if (this.socket.writableLength > limit) this.fail(`peer is not reading (${this.socket.writableLength} bytes unsent)`);
  }

  startTls(): void {
    const role = this.opts.tls;
    if (!role) {
      queueMicrotask(() => this.driver?.tlsFailed('TLS is not configured on this transport'));
      return;
    }
    const raw = this.socket;
    raw.removeListener('data', this.onData);
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    raw.removeAllListeners('end');
    const secure =
      role.role === 'server'
        ? new tls.TLSSocket(raw, {
            isServer: true,
            secureContext: role.secureContext,
            ...(role.requestCert ? { requestCert: true, rejectUnauthorized: false } : {}),
          })
        : tls.connect({
            socket: raw,
            servername: role.servername,
            ca: role.ca as string | Buffer | (string | Buffer)[] | undefined,
            ...(role.cert !== undefined ? { cert: role.cert, key: role.key } : {}),
            rejectUnauthorized: role.rejectUnauthorized,
            checkServerIdentity: role.checkServerIdentity ?? (() => undefined),
            ...(role.session ? { session: role.session } : {}),
          });
    if (role.role === 'client' && role.onSession) secure.on('session', role.onSession);
    this.socket = secure;
    let settled = false;
    const ok = (): void => {
      if (settled) return;
      settled = true;
      const peerCertificate = this.opts.reportPeerCertificate ? peerCertificateOf(secure) : undefined;
      this.driver?.tlsEstablished({
        peerVerified: role.role === 'client' ? secure.authorized : undefined,
        ...(peerCertificate !== undefined && { peerCertificate }),
      });
    };
    const bad = (err: Error): void => {
      if (settled) return;
      settled = true;
      this.failed = true;
      secure.destroy();
      this.driver?.tlsFailed(err.message);
    };
    secure.once(role.role === 'server' ? 'secure' : 'secureConnect', ok);
    secure.once('error', bad);
    secure.once('close', () => {
      if (!settled) bad(new Error('connection closed during the TLS handshake'));
    });
    // A client TLSSocket emits 'secure' *before* it verifies the certificate (verification
    // failures then arrive as 'error'), so only the role's own completion event disarms `bad`.
    secure.once(role.role === 'server' ? 'secure' : 'secureConnect', () => secure.removeListener('error', bad));
    this.listen(secure);
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    // §4.4 security note: end() sends TLS close_notify before FIN on a TLS socket.
    this.socket.end();
    const linger = setTimeout(() => this.socket.destroy(), this.opts.lingerMs ?? 5_000);
    linger.unref();
    this.socket.once('close', () => clearTimeout(linger));
  }

  /** Stop reading (a host's traffic shaping); TCP flow control then slows the peer down. */
  pause(): void {
    this.socket.pause();
  }

  /** Read again after `pause()`. */
  resume(): void {
    this.socket.resume();
  }

  /** Abort without a closing handshake (used by servers on shutdown timeouts). */
  destroy(): void {
    this.ended = true;
    this.socket.destroy();
  }

  private fail(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    this.driver?.writeFailed(reason);
    this.socket.destroy();
  }

  private listen(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('error', (err) => {
      if (!this.failed) {
        this.failed = true;
        this.driver?.writeFailed(err.message);
      }
    });
    socket.once('close', () => this.driver?.closed(this.failed ? 'error' : 'closed'));
  }
}
