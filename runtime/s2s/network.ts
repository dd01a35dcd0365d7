/**
 * The federation on TCP: the server-to-server listener (default port 5269, RFC 6120 §14.7)
 * whose connections become incoming streams, and the connector that resolves a remote domain
 * (§3.2: `_xmpp-server._tcp` SRV, then the domain itself on 5269, or a static override) and
 * wraps the socket for an outgoing stream. Both sides present our certificate and check the
 * peer's chain against our anchors (§13.7.1, §13.7.2.1) without refusing it at the TLS layer:
 * what a certificate proves (EXTERNAL, or dialback instead) is the stream machines' decision.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { connectToDomain, type ResolveOptions } from '../net/resolve.js';
import { SocketTransport } from '../net/socket-transport.js';
import type { Logger } from '../server/logger.js';
import type { Federation } from './federation.js';
import type { ServerConnection } from './outgoing.js';

/** Our certificate and key (PEM), and the anchors peers' certificates must chain to. */
export interface S2sTlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca: readonly string[];
}

export interface ConnectorOptions extends S2sTlsMaterial {
  readonly resolve?: ResolveOptions;
  /** Per TCP attempt, default 10 000 ms (runtime/net/resolve.ts). */
  readonly attemptTimeoutMs?: number;
  readonly logger: Logger;
}

/** §3.2 then a SocketTransport whose STARTTLS is the initiating server's (our certificate offered, the peer's reported). */
export function socketConnector(opts: ConnectorOptions): (remote: string, signal: AbortSignal) => Promise<ServerConnection> {
  return async (remote, signal) => {
    const { socket, address, candidate } = await connectToDomain(remote, 'xmpp-server', {
      ...opts.resolve,
      // XEP-0368 direct TLS for servers is not used here: STARTTLS on _xmpp-server._tcp (§3.2, §5).
      directTls: false,
      signal,
      ...(opts.attemptTimeoutMs !== undefined && { attemptTimeoutMs: opts.attemptTimeoutMs }),
      onAttemptFailed: (a) => opts.logger.info('s2s.out.attempt-failed', { remote, host: a.candidate.host, address: a.address, port: a.candidate.port, failure: a.failure, reason: a.reason }),
    });
    const transport = new SocketTransport(socket, {
      tls: {
        role: 'client',
        servername: remote,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        // The machine decides what the certificate proves (§13.7.2.1): dialback may still authenticate the peer.
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
      },
      reportPeerCertificate: true,
    });
    return { transport, description: { address, port: candidate.port, source: candidate.source } };
  };
}

export interface ListenerOptions extends S2sTlsMaterial {
  readonly port?: number;
  readonly host?: string;
  readonly logger: Logger;
}

/** The server-to-server port: every accepted socket becomes an incoming stream of `federation`. */
export class S2sListener {
  private readonly server: net.Server;
  private bound: { host: string; port: number } | undefined;

  constructor(
    federation: Federation,
    private readonly opts: ListenerOptions,
  ) {
    // The peer's certificate is requested and checked against the anchors of our outgoing streams (§13.7.2.1).
    const secureContext = tls.createSecureContext({ cert: opts.cert, key: opts.key, ca: [...opts.ca] });
    this.server = net.createServer((socket) => {
      const transport = new SocketTransport(socket, { tls: { role: 'server', secureContext, requestCert: true }, reportPeerCertificate: true });
      federation.accept(transport, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
    });
  }

  get address(): { host: string; port: number } | undefined {
    return this.bound;
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
        this.opts.logger.info('s2s.listening', { host: a.address, port: a.port });
        resolve(this.bound);
      });
    });
  }

  /** Stop accepting; the streams already open are the federation's to close. */
  close(): Promise<void> {
    return new Promise((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
  }
}
