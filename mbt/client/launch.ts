/**
 * Launching the client under test: the command line given to `xmppkit mbt --client`, its
 * placeholders ({host} {port} {domain} {user} {jid} {password} {ca}) replaced by shell-quoted
 * values, run by `sh -c` in a process group of its own (so the tester ends exactly what it
 * started, by that group's id). stdin stays open and empty: an interactive client stays online.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface LaunchValues {
  readonly host: string;
  readonly port: number;
  readonly domain: string;
  readonly user: string;
  readonly password: string;
  readonly ca: string;
}

export const PLACEHOLDERS = ['{host}', '{port}', '{domain}', '{user}', '{jid}', '{password}', '{ca}'] as const;

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function substitute(command: string, v: LaunchValues): string {
  const values: Record<string, string> = {
    '{host}': v.host,
    '{port}': String(v.port),
    '{domain}': v.domain,
    '{user}': v.user,
    '{jid}': `${v.user}@${v.domain}`,
    '{password}': v.password,
    '{ca}': v.ca,
  };
  return command.replace(/\{(host|port|domain|user|jid|password|ca)\}/g, (m) => quote(values[m]!));
}

export interface LaunchedClient {
  readonly pid: number | undefined;
  /** The last lines the client wrote (stdout and stderr), for the report of a path that did not pass. */
  output(): string;
  readonly exited: Promise<number | null>;
  /** SIGTERM to the client's process group, SIGKILL after `graceMs`; resolves when it exited. */
  stop(graceMs?: number): Promise<void>;
}

export function launchClient(command: string, v: LaunchValues, env?: NodeJS.ProcessEnv): LaunchedClient {
  const child: ChildProcess = spawn('sh', ['-c', substitute(command, v)], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...(env ? { env } : {}) });
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.stdin?.on('error', () => undefined);
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      out += `\n(spawn failed: ${err.message})`;
      done = true;
      resolve(null);
    });
    child.on('exit', (code) => {
      done = true;
      resolve(code);
    });
  });
  const signal = (sig: NodeJS.Signals): void => {
    if (done || child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  return {
    pid: child.pid,
    output: () => out,
    exited,
    async stop(graceMs = 1000) {
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      child.stdin?.destroy();
    },
  };
}
