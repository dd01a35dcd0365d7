/**
 * What the Prosody and ejabberd harnesses share: the options and handle of a private peer
 * server, the accounts it gets, running its tools as the package's system user when we
 * are root, and a daemon in the foreground as our child process, stopped by its PID.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inNamespace } from './nsexec.js';
import { freePort, LOOPBACK } from './ports.js';

const execFileP = promisify(execFile);

/** The accounts every private peer has (localpart → password). */
export const DEFAULT_ACCOUNTS: Readonly<Record<string, string>> = { alice: 'secret1', bob: 'secret2' };

export interface PeerOptions {
  /** c2s port; default: a free one on 127.0.0.1, or 5222 (§3.2.1) inside a namespace of our own. */
  readonly port?: number;
  /** The address c2s (and s2s) listen on; default 127.0.0.1. */
  readonly bind?: string;
  /** Run in this network namespace (`ip netns exec`, see peers/netns.ts); default ours. */
  readonly netns?: string;
  /** Server-to-server on (see S2sOptions); default off, no s2s listener. */
  readonly s2s?: boolean | S2sOptions;
  /** The one virtual host; default 'localhost'. */
  readonly domain?: string;
  /** STARTTLS required before authentication (§5.3.1); default true. */
  readonly requireTls?: boolean;
  /** Accounts besides alice/secret1 and bob/secret2 (localpart → password). */
  readonly users?: Readonly<Record<string, string>>;
  /** How long to wait for the port to accept; default 60 s. */
  readonly startTimeoutMs?: number;
  /**
   * The server's certificate from a private CA (peers/ca.ts) instead of a self-signed one,
   * and that CA as the trust anchor for the certificates of peer servers (RFC 6120
   * §13.7.2.1), so SASL EXTERNAL (XEP-0178) can authenticate a server whose certificate verifies.
   */
  readonly certificate?: PeerCertificate;
}

/** A certificate and key (PEM) signed by `caPem`, which is also trusted for peers' certificates. */
export interface PeerCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
}

/**
 * Server-to-server (RFC 6120 §2.5, §3.2.2) as two peers federate on a test network: a
 * listener on `bind`:5269, STARTTLS offered and used but not required (§5.3.1 lets TLS be
 * voluntary), and the peer authenticated by Server Dialback (XEP-0220), since the
 * self-signed certificates cannot be trusted (RFC 6120 §13.7.2.1 lets a server fall
 * back to a weaker method than PKIX when the certificate does not verify).
 */
export interface S2sOptions {
  /** Default 5269 (§3.2.2 fallback port). */
  readonly port?: number;
}

/** The s2s settings in effect, or undefined when s2s is off. */
export function s2sSettings(opts: PeerOptions): Required<S2sOptions> | undefined {
  if (opts.s2s === undefined || opts.s2s === false) return undefined;
  const given = opts.s2s === true ? {} : opts.s2s;
  return { port: given.port ?? 5269 };
}

export interface RunningPeer {
  readonly name: 'prosody' | 'ejabberd';
  /** The Debian package version, e.g. '0.12.3-1+deb12u1'. */
  readonly version: string;
  /** The address it listens on (127.0.0.1 unless `bind` said otherwise). */
  readonly host: string;
  readonly port: number;
  /** The network namespace it runs in, when not ours. */
  readonly netns?: string;
  /** The s2s port, when s2s is on. */
  readonly s2sPort?: number;
  readonly domain: string;
  /** PID of the server process (our child). */
  readonly pid: number;
  /** The temp directory holding config, data, certificate and log; removed by stop(). */
  readonly dir: string;
  /** The trust anchor for the server's certificate (PEM), to give as `tls.ca`: its self-signed certificate, or the CA of `certificate`. */
  readonly ca: string;
  /** Every account: localpart → password. */
  readonly accounts: Readonly<Record<string, string>>;
  /** The server's log so far (for failure messages). */
  log(): string;
  /** Stops the server by its PID and removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

export interface SystemUser {
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/** The package's system user ('prosody', 'ejabberd') when we run as root, else undefined (run as ourselves). */
export function systemUser(name: string): SystemUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (line === undefined) throw new Error(`no system user '${name}' (is the Debian package installed?)`);
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' };
}

/** Gives `dir` and everything below it to `user` (no-op when not root). */
export function chownTree(dir: string, user: SystemUser | undefined): void {
  if (user === undefined) return;
  chownSync(dir, user.uid, user.gid);
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) chownTree(p, user);
    else chownSync(p, user.uid, user.gid);
  }
}

/** Where and as whom a tool or daemon runs. */
export interface RunOptions {
  readonly user?: SystemUser | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** A network namespace to run in; default ours. */
  readonly netns?: string | undefined;
}

/** The argv to spawn, and the user spawn itself switches to (none inside a namespace: setpriv does it there). */
function placed(command: string, args: readonly string[], opts: RunOptions): [string, string[], SystemUser | undefined] {
  if (opts.netns === undefined) return [command, [...args], opts.user];
  return [...inNamespace(opts.netns, command, args, opts.user), undefined];
}

/** Runs a command to completion (as `user` if given); rejects with its output on failure. */
export async function runTool(
  command: string,
  args: readonly string[],
  opts: RunOptions & { timeoutMs?: number } = {},
): Promise<string> {
  try {
    const [cmd, argv, spawnUser] = placed(command, args, opts);
    const { stdout } = await execFileP(cmd, argv, {
      timeout: opts.timeoutMs ?? 60_000,
      ...(opts.env !== undefined && { env: opts.env }),
      ...(opts.cwd !== undefined && { cwd: opts.cwd }),
      ...(spawnUser !== undefined && { uid: spawnUser.uid, gid: spawnUser.gid }),
    });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${[e.message, e.stdout, e.stderr].filter(Boolean).join('\n')}`);
  }
}

/** The installed version of a Debian package, or throws with how to install it. */
export async function packageVersion(pkg: string, command: string): Promise<string> {
  const found = await execFileP('sh', ['-c', `command -v ${command}`]).then(
    () => true,
    () => false,
  );
  if (!found) throw new Error(`'${command}' not found: install Debian's '${pkg}' package (npm run setup, as root)`);
  return (await execFileP('dpkg-query', ['-W', '-f=${Version}', pkg]).catch(() => ({ stdout: '?' }))).stdout;
}

export interface Daemon {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Why the daemon can no longer come up (it exited), or undefined while it runs. */
  exitReason(): string | undefined;
  /** stdout and stderr so far (the last 64 KiB). */
  output(): string;
  /** SIGTERM to `pid` (default: the child), SIGKILL after `graceMs`; resolves when the child has exited. */
  stop(pid?: number, graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHook = false;

/**
 * Starts `command args` in the foreground as our child. If this process exits while it
 * still runs, it is killed (by its PID) so no server outlives its test run.
 */
export function startDaemon(
  command: string,
  args: readonly string[],
  opts: RunOptions = {},
): Daemon {
  const [cmd, argv, spawnUser] = placed(command, args, opts);
  const child = spawn(cmd, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.env !== undefined && { env: opts.env }),
    ...(opts.cwd !== undefined && { cwd: opts.cwd }),
    ...(spawnUser !== undefined && { uid: spawnUser.uid, gid: spawnUser.gid }),
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-65536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      exit ??= err.message;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exit ??= `${command} exited (${signal ?? `code ${code}`})`;
      running.delete(child);
      resolve();
    });
  });
  running.add(child);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of running) if (c.pid !== undefined) killQuietly(c.pid, 'SIGKILL');
    });
  }
  const pid = child.pid;
  return {
    child,
    pid,
    exitReason: () => exit,
    output: () => out,
    async stop(target = pid, graceMs = 10_000) {
      if (exit !== undefined) return;
      killQuietly(target, 'SIGTERM');
      const timer = setTimeout(() => {
        killQuietly(target, 'SIGKILL');
        if (target !== pid) killQuietly(pid, 'SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** What every private peer starts from: its domain, address, c2s port, accounts and a fresh directory of its own. */
export async function peerBasics(opts: PeerOptions, name: string) {
  const domain = opts.domain ?? 'localhost';
  const host = opts.bind ?? LOOPBACK;
  // A namespace of our own has every port free; outside it, the kernel picks one.
  const port = opts.port ?? (opts.netns !== undefined ? 5222 : await freePort());
  const accounts = { ...DEFAULT_ACCOUNTS, ...opts.users };
  const dir = mkdtempSync(join(tmpdir(), `xmppkit-${name}-`));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  return { domain, host, port, accounts, dir, cleanup };
}
