/**
 * Processes on a test network (peers/netns.ts) for the s2s interop tests: our server
 * (./netns-server.ts) and our users (./netns-user.ts) as children inside host namespaces,
 * their JSON lines collected, waited on, and stopped by PID. Certificates come from one
 * private CA (peers/ca.ts) that every server on the network trusts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PrivateCa } from '../../peers/ca.js';
import type { TestNetwork } from '../../peers/netns.js';
import type { LogRecord } from '../../runtime/server/index.js';
import type { NetnsServerConfig } from './netns-server.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

/** A child's stdout as JSON lines, and a way to wait for one. */
class Lines<T extends Record<string, unknown>> {
  readonly all: T[] = [];
  stderr = '';
  private waiters: { pred: (l: T) => boolean; resolve: (l: T) => void }[] = [];
  exited: string | undefined;

  constructor(
    readonly child: ChildProcess,
    private readonly name: string,
  ) {
    let rest = '';
    child.stdout!.on('data', (d: Buffer) => {
      rest += d.toString();
      for (let i = rest.indexOf('\n'); i >= 0; i = rest.indexOf('\n')) {
        const raw = rest.slice(0, i);
        rest = rest.slice(i + 1);
        let l: T;
        try {
          l = JSON.parse(raw) as T;
        } catch {
          this.stderr += `${raw}\n`;
          continue;
        }
        this.all.push(l);
        for (const w of this.waiters.filter((x) => x.pred(l))) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-16384)));
    child.once('exit', (code, signal) => (this.exited = `${name} exited (${signal ?? `code ${code}`})`));
  }

  /** The first line (so far or to come) that satisfies `pred`; rejects after `timeoutMs` with what was seen. */
  waitFor(pred: (l: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
    const seen = this.all.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (l: T) => (clearTimeout(timer), resolve(l)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms${this.exited ? ` (${this.exited})` : ''}\n${this.all.slice(-30).map((l) => JSON.stringify(l)).join('\n')}\n${this.stderr}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** SIGTERM by PID; resolves when it exited (SIGKILL after 5 s). */
  stop(): Promise<void> {
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return Promise.resolve();
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    process.kill(c.pid, 'SIGTERM');
    const timer = setTimeout(() => c.pid !== undefined && c.exitCode === null && process.kill(c.pid, 'SIGKILL'), 5_000);
    return gone.finally(() => clearTimeout(timer));
  }
}

export interface OurServer {
  readonly domain: string;
  readonly host: string;
  readonly port: number;
  readonly s2sPort: number;
  /** Every log record so far (debug level). */
  readonly logs: LogRecord[];
  /** The records of `event` (e.g. 's2s.in.authenticated'). */
  logged(event: string): LogRecord[];
  waitForLog(pred: (r: LogRecord) => boolean, what: string, timeoutMs?: number): Promise<LogRecord>;
  readonly pid: number;
  stop(): Promise<void>;
}

export const OUR_USERS = { alice: 'alice-pw', bob: 'bob-pw' } as const;

/** A scratch directory readable by every process of the run (the peers' system users included). */
export function scratchDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'xmppkit-s2sinterop-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts our server for `domain` on host `hostName`; resolves once both listeners listen. */
export async function startOurServer(
  net: TestNetwork,
  hostName: string,
  opts: { domain: string; certificate: 'good' | 'wrong-name'; xmppAddr?: boolean; s2sPort: number; ca: PrivateCa; dir: string; s2s?: NetnsServerConfig['s2s'] },
): Promise<OurServer> {
  const host = net.host(hostName);
  const dir = join(opts.dir, opts.domain);
  mkdirSync(dir, { recursive: true });
  const xmppAddr = opts.xmppAddr ?? true;
  const bundle = opts.certificate === 'good' ? opts.ca.issueServer(opts.domain, { xmppAddr }) : opts.ca.issueWrongName(`not-${opts.domain}`, { xmppAddr });
  const config: NetnsServerConfig = {
    domain: opts.domain,
    host: host.address,
    port: 5222,
    s2sPort: opts.s2sPort,
    dataDir: join(dir, 'data'),
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
    caFile: join(opts.dir, 'ca.pem'),
    users: OUR_USERS,
    ...(opts.s2s && { s2s: opts.s2s }),
  };
  writeFileSync(config.certFile, bundle.certPem);
  writeFileSync(config.keyFile, bundle.keyPem, { mode: 0o600 });
  writeFileSync(config.caFile, opts.ca.certPem);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const child = net.spawn(hostName, process.execPath, ['--import', 'tsx', join(HERE, 'netns-server.ts'), join(dir, 'config.json')], { cwd: ROOT });
  const lines = new Lines<LogRecord>(child, `our server ${opts.domain}`);
  const ready = await lines.waitFor((l) => l.event === 'child.ready', 'child.ready', 20_000);
  return {
    domain: opts.domain,
    host: host.address,
    port: ready['port'] as number,
    s2sPort: ready['s2sPort'] as number,
    logs: lines.all,
    logged: (event) => lines.all.filter((r) => r.event === event),
    waitForLog: (pred, what, timeoutMs) => lines.waitFor(pred, what, timeoutMs),
    pid: child.pid!,
    stop: () => lines.stop(),
  };
}

export interface UserLine extends Record<string, unknown> {
  readonly login?: number;
  readonly online?: string;
  readonly at?: number;
  readonly sent?: string;
  readonly message?: { from?: string; to?: string; type?: string; body?: string; error?: string };
  readonly iq?: { id: string; type?: string; from?: string; error?: string };
}

export interface User {
  readonly jid: string;
  readonly pid: number;
  readonly lines: UserLine[];
  online(): Promise<UserLine>;
  /** The first message (so far or to come) with this body. */
  message(body: string, timeoutMs?: number): Promise<UserLine>;
  send(to: string, body: string): void;
  /** XEP-0199 §4.3 ping: the IQ answer's line. */
  ping(to: string, timeoutMs?: number): Promise<UserLine>;
  stop(): Promise<void>;
}

let nextId = 1;

/** A user on host `hostName` logged in at host:port (TLS verified with `caFile`, or insecure without it). */
export function startUser(
  net: TestNetwork,
  hostName: string,
  opts: { jid: string; password: string; host: string; port: number; caFile?: string; first?: { to: string; body: string } },
): User {
  const child = net.spawn(hostName, process.execPath, ['--import', 'tsx', join(HERE, 'netns-user.ts'), JSON.stringify({ ...opts, ca: opts.caFile })], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines = new Lines<UserLine>(child, `user ${opts.jid}`);
  const write = (o: unknown): void => void child.stdin!.write(`${JSON.stringify(o)}\n`);
  return {
    jid: opts.jid,
    pid: child.pid!,
    lines: lines.all,
    online: () => lines.waitFor((l) => l.online !== undefined, 'online', 20_000),
    message: (body, timeoutMs) => lines.waitFor((l) => l.message?.body === body, `message '${body}'`, timeoutMs),
    send: (to, body) => write({ send: { to, body, id: `m${nextId++}` } }),
    ping: (to, timeoutMs) => {
      const id = `ping${nextId++}`;
      write({ ping: { to, id } });
      return lines.waitFor((l) => l.iq?.id === id, `answer to ping ${id} → ${to}`, timeoutMs);
    },
    async stop() {
      if (child.exitCode === null) write({ stop: true });
      const gone = child.exitCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r()));
      const t = setTimeout(() => void lines.stop(), 3_000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** One row of the timing table: login on the sender's server until the first remote message arrived. */
export interface Timing {
  readonly path: string;
  readonly ms: number;
}

/** Login (the sender's `login` line) to arrival (the receiver's `message` line), in ms of the one wall clock. */
export function loginToDelivery(sender: User, arrived: UserLine): number {
  const login = sender.lines.find((l) => l.login !== undefined)!.login!;
  return arrived.at! - login;
}

export function printTimings(title: string, rows: readonly Timing[]): void {
  const lines = rows.map((r) => `  ${r.path.padEnd(42)} ${String(r.ms).padStart(6)} ms`);
  process.stdout.write(`\n${title}: login-to-first-remote-message (client login until the remote user has it, s2s setup included)\n${lines.join('\n')}\n`);
}
