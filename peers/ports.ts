/**
 * Ports for the peer harness: a free loopback one to listen on, and waiting until
 * something accepts on one (on loopback, or listens on one inside a network namespace).
 */
import * as net from 'node:net';
import { listensIn } from './nsexec.js';

export const LOOPBACK = '127.0.0.1';

/** A TCP port nothing listens on at the moment (the kernel's pick, released again). */
export function freePort(host = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** True once a TCP connection to host:port is accepted (then closed at once). */
export function accepts(port: number, host = LOOPBACK, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export interface WaitOptions {
  readonly host?: string;
  /** The network namespace the port is in (then asked of `ss` there, `host` aside); default ours. */
  readonly netns?: string;
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Checked between attempts: a reason to give up early (e.g. the daemon exited). */
  readonly failed?: () => string | undefined;
}

/** Resolves when host:port accepts; rejects after timeoutMs or as soon as `failed` gives a reason. */
export async function waitForPort(port: number, opts: WaitOptions = {}): Promise<void> {
  const host = opts.host ?? LOOPBACK;
  const until = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (opts.netns !== undefined ? await listensIn(opts.netns, port) : await accepts(port, host)) return;
    const reason = opts.failed?.();
    const where = opts.netns !== undefined ? `${host}:${port} in netns ${opts.netns}` : `${host}:${port}`;
    if (reason !== undefined) throw new Error(`nothing will listen on ${where}: ${reason}`);
    if (Date.now() > until) throw new Error(`nothing listens on ${where} after ${opts.timeoutMs ?? 60_000} ms`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
