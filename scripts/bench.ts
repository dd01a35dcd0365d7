/**
 * `npm run bench`: our server against Prosody on loopback, both measured with OUR client.
 *
 *  - login time: TCP connect → STARTTLS → SCRAM → bind → online (§5, §6, §7), median of N
 *    sequential logins (after a short warm-up), each a fresh connection;
 *  - throughput: two connected clients; the sender writes M messages to the receiver's
 *    full JID, the receiver counts them; messages/second until the last one arrives
 *    (median of R runs).
 *
 * Both servers run as their own processes (ours: `xmppkit serve` under tsx; Prosody:
 * /work/shared/peers/prosody-up.sh with `nagle = false`, see /work/shared/peers/README.md),
 * so neither shares an event loop with the clients. PBKDF2 dominates login time, so the
 * iteration count each server's store uses is read from its SCRAM challenge (i=) and printed.
 * A benchmark prints figures and ratios; it asserts nothing.
 *
 * Env: BENCH_LOGINS (30), BENCH_MESSAGES (2000), BENCH_RUNS (3).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { NS } from '../machines/ns.js';
import type { MechanismName } from '../machines/protocol.js';
import { DEFAULT_ITERATIONS } from '../machines/sasl/index.js';
import { el } from '../machines/xml.js';
import { createClient, type XmppClient } from '../runtime/client/index.js';
import { openAccountStore } from '../runtime/store/accounts.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const PEERS = '/work/shared/peers';
const N = Number(process.env['BENCH_LOGINS'] ?? 30);
const M = Number(process.env['BENCH_MESSAGES'] ?? 2000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const WARMUP = 3;

interface Target {
  readonly label: string;
  readonly port: number;
  readonly ca: string;
  readonly users: { alice: string; bob: string };
  readonly mechanism: MechanismName;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Our server as a child process (`xmppkit serve`), its store made beforehand with `iterations`. */
async function startOurs(iterations: number): Promise<{ port: number; ca: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'xmppkit-bench-'));
  const store = openAccountStore({ file: join(dir, 'accounts.sqlite'), iterations });
  store.add('alice', 'secret1');
  store.add('bob', 'secret2');
  store.close();
  const port = await freePort();
  const child: ChildProcess = spawn(
    resolve(ROOT, 'node_modules/.bin/tsx'),
    [resolve(ROOT, 'runtime/cli/main.ts'), 'serve', '--port', String(port), '--data', dir, '--log-level', 'warn'],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForPort(port, 60_000);
  return {
    port,
    ca: readFileSync(join(dir, 'tls', 'cert.pem'), 'utf8'),
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM'); // by PID: the server we started
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startProsody(): Promise<{ port: number; ca: string; version: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'xmppkit-bench-prosody-'));
  const port = await freePort();
  await run(join(PEERS, 'prosody-up.sh'), [String(port), dir], {
    timeout: 300_000,
    env: { ...process.env, PROSODY_NETWORK_SETTINGS: 'nagle = false' },
  });
  const version = (await run('dpkg-query', ['-W', '-f=${Version}', 'prosody']).catch(() => ({ stdout: '?' }))).stdout;
  return {
    port,
    ca: readFileSync(join(dir, 'localhost.crt'), 'utf8'),
    version,
    async stop() {
      await run(join(PEERS, 'prosody-down.sh'), [dir]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function client(t: Target, who: 'alice' | 'bob'): XmppClient {
  return createClient({
    jid: `${who}@localhost`,
    password: t.users[who],
    host: '127.0.0.1',
    port: t.port,
    tls: { ca: t.ca },
    policy: { mechanisms: [t.mechanism] },
  });
}

/** The PBKDF2 iteration count the server sent in its SCRAM server-first-message (RFC 5802 §5.1 i=). */
function iterationsSeen(wireIn: string[]): number | undefined {
  for (const chunk of wireIn) {
    const m = /<challenge[^>]*>([^<]+)<\/challenge>/.exec(chunk);
    if (!m) continue;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const i = /(?:^|,)i=(\d+)/.exec(decoded);
    if (i) return Number(i[1]);
  }
  return undefined;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function loginTimes(t: Target): Promise<{ ms: number[]; iterations: number | undefined; mechanism: string | undefined }> {
  const ms: number[] = [];
  let iterations: number | undefined;
  let mechanism: string | undefined;
  for (let k = 0; k < WARMUP + N; k++) {
    const c = client(t, 'alice');
    const wireIn: string[] = [];
    if (k === 0) c.on('wire', (w) => w.direction === 'in' && wireIn.push(w.text));
    const t0 = performance.now();
    await c.start();
    const dt = performance.now() - t0;
    if (k === 0) {
      iterations = iterationsSeen(wireIn);
      mechanism = c.mechanism;
    }
    if (k >= WARMUP) ms.push(dt);
    await c.stop();
  }
  return { ms, iterations, mechanism };
}

async function throughput(t: Target): Promise<number[]> {
  const alice = client(t, 'alice');
  const bob = client(t, 'bob');
  const [, bobJid] = await Promise.all([alice.start(), bob.start()]);
  const rates: number[] = [];
  try {
    for (let r = 0; r < RUNS; r++) {
      const prefix = `b${r}-`;
      let count = 0;
      let t0 = 0;
      const done = new Promise<number>((resolveDone, reject) => {
        const timer = setTimeout(() => reject(new Error(`${t.label}: only ${count}/${M} messages arrived within 120 s`)), 120_000);
        const on = (s: { name: string; attrs: Readonly<Record<string, string>> }): void => {
          if (s.name !== 'message' || !s.attrs['id']?.startsWith(prefix)) return;
          if (++count === M) {
            clearTimeout(timer);
            bob.off('stanza', on as never);
            resolveDone(performance.now() - t0);
          }
        };
        bob.on('stanza', on as never);
      });
      t0 = performance.now();
      for (let i = 0; i < M; i++) {
        alice.send(el('message', NS.CLIENT, { to: bobJid, type: 'chat', id: `${prefix}${i}` }, el('body', NS.CLIENT, {}, `benchmark message ${i}`)));
      }
      const elapsed = await done;
      rates.push((M / elapsed) * 1000);
    }
  } finally {
    await Promise.all([alice.stop(), bob.stop()]);
  }
  return rates;
}

interface Row {
  label: string;
  mechanism: string;
  iterations: number | undefined;
  loginMedian: number;
  loginP10: number;
  loginP90: number;
  rate?: number;
}

const f1 = (x: number): string => x.toFixed(1);

async function main(): Promise<void> {
  const before = loadavg();
  process.stdout.write(
    `xmpp-statekit bench: N=${N} logins (after ${WARMUP} warm-up), M=${M} messages × ${RUNS} runs; node ${process.version}; ` +
      `${cpus().length} CPUs; load average ${before.map((x) => x.toFixed(2)).join(' ')}\n`,
  );
  const rows: Row[] = [];
  const prosody = await startProsody();
  const ours10k = await startOurs(10_000);
  const oursDefault = await startOurs(DEFAULT_ITERATIONS);
  try {
    const targets: { t: Target; rate: boolean }[] = [
      { t: { label: 'ours, store at 10000 iterations', port: ours10k.port, ca: ours10k.ca, users: { alice: 'secret1', bob: 'secret2' }, mechanism: 'SCRAM-SHA-1' }, rate: true },
      { t: { label: `ours, store default (${DEFAULT_ITERATIONS})`, port: oursDefault.port, ca: oursDefault.ca, users: { alice: 'secret1', bob: 'secret2' }, mechanism: 'SCRAM-SHA-256' }, rate: false },
      { t: { label: `Prosody ${prosody.version} (nagle = false)`, port: prosody.port, ca: prosody.ca, users: { alice: 'secret1', bob: 'secret2' }, mechanism: 'SCRAM-SHA-1' }, rate: true },
    ];
    for (const { t, rate } of targets) {
      process.stdout.write(`  measuring ${t.label} ...\n`);
      const login = await loginTimes(t);
      const row: Row = {
        label: t.label,
        mechanism: login.mechanism ?? t.mechanism,
        iterations: login.iterations,
        loginMedian: median(login.ms),
        loginP10: percentile(login.ms, 10),
        loginP90: percentile(login.ms, 90),
      };
      if (rate) row.rate = median(await throughput(t));
      rows.push(row);
    }
  } finally {
    await Promise.all([ours10k.stop(), oursDefault.stop(), prosody.stop()]);
  }

  const header = ['server', 'SASL', 'PBKDF2 i', 'login median ms', 'p10..p90 ms', 'msgs/s (median)'];
  const table = rows.map((r) => [
    r.label,
    r.mechanism,
    String(r.iterations ?? '?'),
    f1(r.loginMedian),
    `${f1(r.loginP10)}..${f1(r.loginP90)}`,
    r.rate !== undefined ? r.rate.toFixed(0) : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  process.stdout.write(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${table.map(line).join('\n')}\n`);

  const ours = rows[0]!;
  const theirs = rows[2]!;
  process.stdout.write(
    `\nratio ours/Prosody (same mechanism SCRAM-SHA-1, same iteration count):\n` +
      `  login time   ${(ours.loginMedian / theirs.loginMedian).toFixed(2)}  (< 1: ours logs in faster)\n` +
      `  throughput   ${((ours.rate ?? 0) / (theirs.rate ?? 1)).toFixed(2)}  (> 1: ours routes more messages per second)\n` +
      `load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
