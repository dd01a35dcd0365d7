/**
 * `createServer`: a real XMPP server (client-to-server, RFC 6120) on TCP, built from the
 * receiving entity machine, the session driver, the socket transport, the account store and
 * the router. On first run it creates the data directory, a self-signed certificate and the
 * account store (data-dir.ts).
 */
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import { DialbackSecret } from '../../machines/dialback/index.js';
import type { RoutePolicyOptions } from '../../machines/s2s/route/index.js';
import type { DnsResolver } from '../net/resolve.js';
import { Federation, type FederationPolicy } from '../s2s/federation.js';
import { S2sListener, socketConnector } from '../s2s/network.js';
import { s2sTrust } from '../tls/trust.js';
import type { AccountStore } from '../store/accounts.js';
import type { OfflineStore } from '../store/offline.js';
import type { RosterStore } from '../store/roster.js';
import type { StreamParserOptions } from '../xml/parser.js';
import { Connection, type ConnectionHost } from './connection.js';
import { dialbackSecretIn, initDataDir, openOfflineStoreIn, openRequestStoreIn, openRosterStoreIn, openStoreIn } from './data-dir.js';
import { createLogger, type Logger, type LogLevel, type LogSink } from './logger.js';
import { DEFAULT_OFFLINE_MESSAGES_PER_ACCOUNT } from './offline.js';
export { DEFAULT_OFFLINE_MESSAGES_PER_ACCOUNT };
import { SessionRegistry } from './registry.js';
import { stanzaRouter } from './routing.js';
import { loadTls, machineInputFor, stripUndefined, type ServerPolicy } from './startup.js';

export type { ServerPolicy };

export interface ServerLimits {
  /** Largest top-level element in bytes; larger → `<policy-violation/>` (§4.9.3.14, §13.12). Default 262144. */
  readonly maxStanzaBytes?: number;
  /** Open TCP connections; one more gets `<resource-constraint/>` (§4.9.3.17). Default 1000. */
  readonly maxConnections?: number;
  /** Sustained read rate per connection in bytes/s; faster peers are slowed down (rate-limit.ts). Default 65536. */
  readonly bytesPerSecond?: number;
  /** Burst allowance per connection in bytes. Default 2 × maxStanzaBytes. */
  readonly burstBytes?: number;
  /** On close(): how long streams get to answer `<system-shutdown/>` before their sockets are destroyed. Default 5000 ms. */
  readonly shutdownGraceMs?: number;
  /**
   * RFC 6121 §8.5.2.2.1: offline messages kept per account (chat and normal messages that
   * arrived while it had no available resource); one more gets `<resource-constraint/>`
   * (offline.ts). 0 keeps none (every such message gets the error). Default 1000 (DEFAULT_OFFLINE_MESSAGES_PER_ACCOUNT).
   */
  readonly offlineMessagesPerAccount?: number;
}

/**
 * Choice: RFC 6121 and XEP-0160 set no number. 1000 bounds what strangers can make one account
 * store (RFC 6120 §13.12: denial of service, the limits an administrator can set) while a user away for days loses nothing
 * of ordinary traffic.
 */

/** Server-to-server streams (RFC 6120 §10.4; XEP-0178, XEP-0220): off unless given. */
export interface S2sOptions extends FederationPolicy {
  /** false: no federation, as if `s2s` were not given. Default true. */
  readonly enabled?: boolean;
  /** TCP port of the server-to-server listener; 0 picks a free one. Default 5269 (§14.7). */
  readonly port?: number;
  /** Listening address. Default: the client listener's. */
  readonly host?: string;
  /** CA certificates (PEM files) trusted for peers' certificates besides the system store (§13.7.2.1). */
  readonly caFile?: string | readonly string[];
  /** Trust Node's root store as well. Default true. */
  readonly trustSystemRoots?: boolean;
  /** Domain → `host:port` used instead of DNS (§3.2.3), for private networks and tests. */
  readonly hosts?: Readonly<Record<string, string>>;
  /** DNS resolver (default: the system's). */
  readonly resolver?: DnsResolver;
  /** The outgoing routes' queue bound, timeouts and back-off (machines/s2s/route/policy.ts). */
  readonly route?: RoutePolicyOptions;
  /** Per TCP connection attempt, in ms. Default 10 000. */
  readonly attemptTimeoutMs?: number;
}

export interface ServerOptions {
  /** The domain served (§4.7.1). Default: the one recorded in dataDir, else 'localhost'. */
  readonly domain?: string;
  /** TCP port; 0 picks a free one. Default 5222. */
  readonly port?: number;
  /** Listening address. Default '127.0.0.1'. */
  readonly host?: string;
  /** Data directory (server.json, accounts.sqlite, tls/). Default './data'. */
  readonly dataDir?: string;
  /** Certificate and key, PEM text or file paths. Default: a self-signed one in dataDir/tls. */
  readonly cert?: string;
  readonly key?: string;
  readonly policy?: ServerPolicy;
  readonly limits?: ServerLimits;
  /** Federation with other servers; absent: none, stanzas for other domains get `<remote-server-not-found/>`. */
  readonly s2s?: S2sOptions;
  readonly logLevel?: LogLevel;
  /** Where log records go (default: JSON lines on stderr). */
  readonly logger?: LogSink;
}

export interface XmppServer {
  readonly domain: string;
  readonly dataDir: string;
  /** The account store (add users while the server runs). */
  readonly accounts: AccountStore;
  /** The rosters (RFC 6121 §2), in the same file as the accounts. */
  readonly rosters: RosterStore;
  /** Offline messages (RFC 6121 §8.5.2.2.1), in the same file. */
  readonly offlineMessages: OfflineStore;
  /** The certificate presented on STARTTLS (PEM), for clients that pin it. */
  readonly certificatePem: string | undefined;
  /** Where the server listens, once listening. */
  readonly address: { host: string; port: number } | undefined;
  /** Where the server-to-server listener listens, once listening (with `s2s`). */
  readonly s2sAddress: { host: string; port: number } | undefined;
  /** The state of the outgoing route to a remote domain (undefined: none, or no `s2s`). */
  routeState(remote: string): string | undefined;
  /** Open TCP connections. */
  readonly connectionCount: number;
  /** Bound sessions (§7). */
  readonly sessionCount: number;
  listen(): Promise<{ host: string; port: number }>;
  /** Every stream gets `<system-shutdown/>` (§4.9.3.20) and a clean close; then the listener and the store close. */
  close(): Promise<void>;
}

const DEFAULTS = {
  maxStanzaBytes: 262_144,
  maxConnections: 1000,
  bytesPerSecond: 65_536,
  shutdownGraceMs: 5_000,
  offlineMessagesPerAccount: DEFAULT_OFFLINE_MESSAGES_PER_ACCOUNT,
};

export function createServer(opts: ServerOptions = {}): XmppServer {
  const dataDir = opts.dataDir ?? './data';
  const info = initDataDir(dataDir, opts.domain);
  const domain = info.domain;
  const logger: Logger = createLogger(opts.logLevel ?? 'info', opts.logger);
  const limits = { ...DEFAULTS, ...stripUndefined(opts.limits ?? {}) };
  const burstBytes = opts.limits?.burstBytes ?? 2 * limits.maxStanzaBytes;
  const offlineLimit = limits.offlineMessagesPerAccount;
  if (!Number.isInteger(offlineLimit) || offlineLimit < 0) throw new Error(`limits.offlineMessagesPerAccount must be a non-negative integer, not ${offlineLimit}`);
  const input = machineInputFor(opts.policy, domain, dataDir);
  const { certificatePem, keyPem, secureContext } = loadTls(opts, input.tls, dataDir, domain);

  const accounts = openStoreIn(dataDir);
  const rosters = openRosterStoreIn(dataDir); // after the account store: the schema is migrated by whichever opens first
  const requests = openRequestStoreIn(dataDir);
  const offline = openOfflineStoreIn(dataDir);
  const registry = new SessionRegistry();
  const connections = new Set<Connection>();
  const parser: StreamParserOptions = { maxStanzaBytes: limits.maxStanzaBytes };

  let federation: Federation | undefined;
  let s2sListener: S2sListener | undefined;
  if (opts.s2s !== undefined && opts.s2s.enabled !== false) {
    const s2s = opts.s2s;
    if (certificatePem === undefined || keyPem === undefined) throw new Error('server-to-server streams need a certificate: TLS cannot be off (RFC 6120 §13.7)');
    const material = {
      cert: certificatePem,
      key: keyPem,
      ca: s2sTrust({ ...(s2s.caFile !== undefined && { caFile: s2s.caFile }), system: s2s.trustSystemRoots ?? true }).ca,
    };
    federation = new Federation({
      domain,
      secret: new DialbackSecret(dialbackSecretIn(dataDir)),
      policy: s2s,
      ...(s2s.route && { route: s2s.route }),
      connect: socketConnector({
        ...material,
        resolve: { ...(s2s.hosts && { overrides: s2s.hosts }), ...(s2s.resolver && { resolver: s2s.resolver }) },
        ...(s2s.attemptTimeoutMs !== undefined && { attemptTimeoutMs: s2s.attemptTimeoutMs }),
        logger,
      }),
      maxConnections: limits.maxConnections,
      parser: { maxStanzaBytes: limits.maxStanzaBytes },
      random: (n) => new Uint8Array(randomBytes(n)),
      logger,
      deliverInbound: (stanza) => routing.inbound(stanza),
    });
    s2sListener = new S2sListener(federation, { ...material, port: s2s.port ?? 5269, host: s2s.host ?? opts.host ?? '127.0.0.1', logger });
  }
  const routing = stanzaRouter(domain, { accounts, rosters, requests, offline, offlineLimit }, registry, logger, federation);

  const host: ConnectionHost = {
    input,
    parser,
    secureContext,
    registry,
    logger,
    bytesPerSecond: limits.bytesPerSecond,
    burstBytes,
    lookupCredentials: (username) => accounts.lookup(username),
    route: (stanza, session) => routing.route(stanza, session),
    sessionEnded: (session) => routing.ended(session),
    closed: (c) => connections.delete(c),
  };

  let rejected = 0;
  let closing = false;
  let closed: Promise<void> | undefined;
  let address: { host: string; port: number } | undefined;
  const server = net.createServer((socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    const over = connections.size >= limits.maxConnections;
    if (over && rejected >= limits.maxConnections) {
      // Refusing costs something too; past twice the limit we stop writing stream errors.
      socket.destroy();
      return;
    }
    const connection = new Connection(socket, host);
    connections.add(connection);
    connection.start();
    if (over) {
      // Choice: §4.9.3.17 resource-constraint ("the server lacks the system resources necessary
      // to service the stream"): a global connection cap is server capacity, not something
      // this peer did wrong (that would be §4.9.3.14 policy-violation).
      rejected++;
      void connection.whenClosed().then(() => rejected--);
      logger.warn('connection.rejected', { conn: connection.id, open: connections.size - 1, max: limits.maxConnections });
      connection.fail('resource-constraint', 'too many connections');
    }
  });
  server.on('error', (err) => logger.error('listener.error', { error: err.message }));

  return {
    domain,
    dataDir,
    accounts,
    rosters,
    offlineMessages: offline,
    certificatePem,
    get address() {
      return address;
    },
    get s2sAddress() {
      return s2sListener?.address;
    },
    routeState: (remote) => federation?.routeState(remote),
    get connectionCount() {
      return connections.size;
    },
    get sessionCount() {
      return registry.size;
    },
    async listen() {
      const hostName = opts.host ?? '127.0.0.1';
      await s2sListener?.listen();
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port ?? 5222, hostName, () => {
          server.removeListener('error', reject);
          const a = server.address() as net.AddressInfo;
          address = { host: a.address, port: a.port };
          logger.info('listening', { domain, host: a.address, port: a.port, dataDir, firstRun: info.created });
          resolve(address);
        });
      });
    },
    close() {
      closed ??= shutdown();
      return closed;
    },
  };

  /** §4.9.3.20 for every stream, wait for the §4.4 handshakes (bounded), then stop listening and close the store. */
  async function shutdown(): Promise<void> {
    closing = true;
    const listenerClosed = new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    const open = [...connections];
    logger.info('shutdown', { connections: open.length, sessions: registry.size });
    // §10.4.3: the routes bounce what waits while the client streams are still there to receive it.
    const federationClosed = Promise.all([s2sListener?.close(), federation?.close(limits.shutdownGraceMs)]);
    for (const c of open) c.shutdown();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), limits.shutdownGraceMs);
    });
    const result = await Promise.race([Promise.all(open.map((c) => c.whenClosed())), deadline]);
    clearTimeout(timer);
    if (result === 'timeout') {
      const left = [...connections];
      logger.warn('shutdown.forced', { connections: left.length });
      for (const c of left) c.destroy();
      await Promise.all(left.map((c) => c.whenClosed()));
    }
    await listenerClosed;
    await federationClosed;
    offline.close();
    requests.close();
    rosters.close();
    accounts.close();
    logger.info('stopped', {});
  }
}
