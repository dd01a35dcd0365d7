/**
 * `createServer`: a real XMPP server (client-to-server, RFC 6120) on TCP, built from the
 * receiving entity machine, the session driver, the socket transport, the account store and
 * the router. On first run it creates the data directory, a self-signed certificate and the
 * account store (data-dir.ts).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { stanzaErrorReply } from '../../machines/conditions.js';
import { DEFAULT_SERVER_POLICY } from '../../machines/policy.js';
import type { RandomBytes, Timeouts } from '../../machines/protocol.js';
import type { ReceivingEntityMachineInput } from '../../machines/receiving/index.js';
import type { XmlElement } from '../../machines/xml.js';
import type { AccountStore } from '../store/accounts.js';
import type { StreamParserOptions } from '../xml/parser.js';
import { Connection, type ConnectionHost } from './connection.js';
import { certificateIn, fakeSaltSecretIn, initDataDir, openStoreIn } from './data-dir.js';
import { createLogger, type Logger, type LogLevel, type LogSink } from './logger.js';
import { SessionRegistry, type RegisteredSession } from './registry.js';
import { presenceSessionChange, route, type Delivery, type RouterView } from './router.js';

/** Machine policy a server operator may change (RFC 6120 choices; defaults in machines/policy.ts). */
export type ServerPolicy = Partial<Omit<ReceivingEntityMachineInput, 'domain' | 'random' | 'timeouts' | 'secure'>> & {
  readonly timeouts?: Partial<Timeouts>;
};

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
  readonly logLevel?: LogLevel;
  /** Where log records go (default: JSON lines on stderr). */
  readonly logger?: LogSink;
}

export interface XmppServer {
  readonly domain: string;
  readonly dataDir: string;
  /** The account store (add users while the server runs). */
  readonly accounts: AccountStore;
  /** The certificate presented on STARTTLS (PEM), for clients that pin it. */
  readonly certificatePem: string | undefined;
  /** Where the server listens, once listening. */
  readonly address: { host: string; port: number } | undefined;
  /** Open TCP connections. */
  readonly connectionCount: number;
  /** Bound sessions (§7). */
  readonly sessionCount: number;
  listen(): Promise<{ host: string; port: number }>;
  /** Every stream gets `<system-shutdown/>` (§4.9.3.20) and a clean close; then the listener and the store close. */
  close(): Promise<void>;
}

const DEFAULTS = { maxStanzaBytes: 262_144, maxConnections: 1000, bytesPerSecond: 65_536, shutdownGraceMs: 5_000 };

/** §4.7.3 stream ids, nonces, resourceparts, ping ids: unpredictable (real CSPRNG). */
const random: RandomBytes = (n) => new Uint8Array(randomBytes(n));

function pem(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

export function createServer(opts: ServerOptions = {}): XmppServer {
  const dataDir = opts.dataDir ?? './data';
  const info = initDataDir(dataDir, opts.domain);
  const domain = info.domain;
  const logger: Logger = createLogger(opts.logLevel ?? 'info', opts.logger);
  const limits = { ...DEFAULTS, ...stripUndefined(opts.limits ?? {}) };
  const burstBytes = opts.limits?.burstBytes ?? 2 * limits.maxStanzaBytes;
  const { timeouts: timeoutOverrides, ...policy } = opts.policy ?? {};
  const input: ReceivingEntityMachineInput = {
    ...DEFAULT_SERVER_POLICY,
    ...stripUndefined(policy),
    timeouts: { ...DEFAULT_SERVER_POLICY.timeouts, ...stripUndefined(timeoutOverrides ?? {}) },
    domain,
    random,
    fakeSaltSecret: fakeSaltSecretIn(dataDir),
  };

  let certificatePem: string | undefined;
  let secureContext: tls.SecureContext | undefined;
  if (input.tls !== 'none') {
    if ((opts.cert === undefined) !== (opts.key === undefined)) throw new Error('give both cert and key, or neither');
    if (opts.cert !== undefined && opts.key !== undefined) {
      for (const f of [opts.cert, opts.key]) if (!f.includes('-----BEGIN') && !existsSync(f)) throw new Error(`no such file: ${f}`);
      certificatePem = pem(opts.cert);
      secureContext = tls.createSecureContext({ cert: certificatePem, key: pem(opts.key) });
    } else {
      const bundle = certificateIn(dataDir, domain);
      certificatePem = bundle.certPem;
      secureContext = tls.createSecureContext({ cert: bundle.certPem, key: bundle.keyPem });
    }
  }

  const accounts = openStoreIn(dataDir);
  const registry = new SessionRegistry();
  const connections = new Set<Connection>();
  const parser: StreamParserOptions = { maxStanzaBytes: limits.maxStanzaBytes };

  // Built once: a literal per stanza would allocate the object and its closures every time.
  const view: RouterView = {
    domain,
    accountExists: (local) => accounts.exists(local),
    resources: (bareJid) => registry.resources(bareJid),
    hasPresenceSession: (full) => registry.get(full)?.presence ?? false,
  };
  const routeStanza = (stanza: XmlElement, from: RegisteredSession): void => {
    const presence = presenceSessionChange(stanza);
    if (presence !== undefined) from.presence = presence;
    let deliveries: Delivery[];
    try {
      deliveries = route(stanza, view, from.jid);
    } catch (err) {
      // The store failed: §8.3.3.6 internal-server-error, so that an IQ is still answered (§8.2.3).
      logger.error('route.failed', { error: err instanceof Error ? err.message : String(err) });
      const type = stanza.attrs['type'];
      deliveries = type === 'error' || type === 'result' ? [] : [{ to: from.jid, stanza: stanzaErrorReply(stanza, 'internal-server-error') }];
    }
    if (logger.enabled?.('debug') ?? true) {
      logger.debug('stanza.routed', { kind: stanza.name, from: stanza.attrs['from'], to: stanza.attrs['to'], deliveries: deliveries.length });
    }
    // §10.1: performed now, in order, while the sender's stanza is being handled.
    for (const d of deliveries) registry.get(d.to)?.routeIn(d.stanza);
  };

  const host: ConnectionHost = {
    input,
    parser,
    secureContext,
    registry,
    logger,
    bytesPerSecond: limits.bytesPerSecond,
    burstBytes,
    lookupCredentials: (username) => accounts.lookup(username),
    route: routeStanza,
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
    certificatePem,
    get address() {
      return address;
    },
    get connectionCount() {
      return connections.size;
    },
    get sessionCount() {
      return registry.size;
    },
    listen() {
      const hostName = opts.host ?? '127.0.0.1';
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
    accounts.close();
    logger.info('stopped', {});
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
