/**
 * Our server (runtime/server createServer, with federation) as a process inside one host of
 * a test network (peers/netns.ts), for the s2s interop tests. It resolves remote domains
 * with the namespace's DNS (the network's dnsmasq: `_xmpp-server._tcp` SRV records, RFC
 * 6120 §3.2.2), never a static `hosts` override.
 *
 *   netns-server.ts CONFIG_JSON_FILE
 *
 * The config (NetnsServerConfig) names the domain, the addresses, the certificate files, the
 * CA file and the s2s policy. Every log record goes to stdout as one JSON line (the server's
 * own format, `event` first-class), then `{"event":"child.ready", port, s2sPort}` once both
 * listeners listen. SIGTERM closes the server (§4.9.3.20 system-shutdown to every stream) and exits.
 */
import { readFileSync } from 'node:fs';
import { createServer, type S2sOptions } from '../../runtime/server/index.js';

export interface NetnsServerConfig {
  readonly domain: string;
  readonly host: string;
  readonly port: number;
  readonly s2sPort: number;
  readonly dataDir: string;
  /** PEM files. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  readonly users: Readonly<Record<string, string>>;
  readonly s2s?: Pick<S2sOptions, 'tls' | 'dialback' | 'attemptTimeoutMs'>;
}

const say = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

const file = process.argv[2];
if (file === undefined) throw new Error('usage: netns-server.ts CONFIG_JSON_FILE');
const cfg = JSON.parse(readFileSync(file, 'utf8')) as NetnsServerConfig;
const server = createServer({
  domain: cfg.domain,
  host: cfg.host,
  port: cfg.port,
  dataDir: cfg.dataDir,
  cert: cfg.certFile,
  key: cfg.keyFile,
  logLevel: 'debug',
  logger: (r) => say(r),
  policy: { timeouts: { closeWait: 1000 } },
  limits: { shutdownGraceMs: 2000 },
  s2s: { port: cfg.s2sPort, caFile: cfg.caFile, trustSystemRoots: false, attemptTimeoutMs: 3000, ...cfg.s2s },
});
for (const [user, password] of Object.entries(cfg.users)) server.accounts.add(user, password);
const { port } = await server.listen();
say({ event: 'child.ready', port, s2sPort: server.s2sAddress?.port });
process.once('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
