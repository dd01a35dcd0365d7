/**
 * `npm run bench`: our server against Prosody on loopback, both measured with OUR client.
 *
 *  - login time: TCP connect → STARTTLS → SCRAM → bind → online (§5, §6, §7), median of N
 *    sequential logins (after a short warm-up), each a fresh connection;
 *  - throughput: two connected clients; the sender writes M messages to the receiver's
 *    full JID, the receiver counts them; messages/second until the last one arrives
 *    (median of R runs).
 *
 * Both servers run as their own processes (ours: createServer in a child of this script; Prosody:
 * a private instance from peers/prosody.ts with `nagle = false`, Nagle otherwise adding
 * about 40 ms to each login on loopback), so neither shares an event loop with the clients.
 * PBKDF2 dominates login time, so the iteration count each server's store uses is read from
 * its SCRAM challenge (i=) and printed.
 * A benchmark prints figures and ratios; it asserts nothing.
 *
 * Env: BENCH_LOGINS (30), BENCH_MESSAGES (2000), BENCH_RUNS (3).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { NS } from '../machines/ns.js';
import type { MechanismName } from '../machines/protocol.js';
import { DEFAULT_ITERATIONS } from '../machines/sasl/index.js';
import { el } from '../machines/xml.js';
import { createClient, type XmppClient } from '../runtime/client/index.js';
import { openAccountStore } from '../runtime/store/accounts.js';
import { freePort, waitForPort } from '../peers/ports.js';
import { startProsody } from '../peers/prosody.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
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

/**
 * Child mode: `tsx scripts/bench.ts --serve-ours DIR PORT LIMITS` runs our server like
 * `xmppkit serve` does, with the per-connection read limit either the default ('default':
 * 64 KiB/s, 512 KiB burst) or lifted ('lifted': Prosody's benchmark config has no mod_limits).
 */
async function serveOurs(dir: string, port: number, limits: string): Promise<void> {
  const { createServer } = await import('../runtime/server/index.js');
  const server = createServer({
    dataDir: dir,
    port,
    logLevel: 'warn',
    ...(limits === 'lifted' ? { limits: { bytesPerSecond: 1 << 30, burstBytes: 1 << 30 } } : {}),
  });
  await server.listen();
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

/** Our server as a child process, its store made beforehand with `iterations`. */
async function startOurs(iterations: number, limits: 'default' | 'lifted'): Promise<{ port: number; pid: number; ca: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'xmppkit-bench-'));
  const store = openAccountStore({ file: join(dir, 'accounts.sqlite'), iterations });
  store.add('alice', 'secret1');
  store.add('bob', 'secret2');
  store.close();
  const port = await freePort();
  // node --import tsx: the server is this very process (its PID is the one whose CPU we read).
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(ROOT, 'scripts/bench.ts'), '--serve-ours', dir, String(port), limits],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForPort(port, { timeoutMs: 60_000 });
  return {
    port,
    pid: child.pid!,
    ca: readFileSync(join(dir, 'tls', 'cert.pem'), 'utf8'),
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM'); // by PID: the server we started
      await exited;
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

/** CPU time (user + system, ms) a process has used so far, from /proc/PID/stat (Linux). */
function cpuMs(pid: number, tick: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / tick;
}

interface Measured {
  readonly t: Target;
  readonly pid: number;
  readonly logins: number[];
  iterations?: number;
  mechanism?: string;
  loginCpuMs: number;
  readonly rates: number[];
  rateCpuMs: number;
  messages: number;
}

/** One login, TCP connect → online; returns its wall time (the stream is then closed, untimed). */
async function oneLogin(m: Measured, first: boolean): Promise<number> {
  const c = client(m.t, 'alice');
  const wireIn: string[] = [];
  if (first) c.on('wire', (w) => w.direction === 'in' && wireIn.push(w.text));
  const t0 = performance.now();
  await c.start();
  const dt = performance.now() - t0;
  if (first) {
    m.iterations = iterationsSeen(wireIn);
    m.mechanism = c.mechanism;
  }
  await c.stop();
  return dt;
}

/** `count` messages alice → bob's full JID; wall time until bob has them all. */
async function oneBurst(alice: XmppClient, bob: XmppClient, bobJid: string, label: string, prefix: string, count: number): Promise<number> {
  let got = 0;
  let t0 = 0;
  const done = new Promise<number>((resolveDone, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: only ${got}/${count} messages arrived within 120 s`)), 120_000);
    const on = (s: { name: string; attrs: Readonly<Record<string, string>> }): void => {
      if (s.name !== 'message' || !s.attrs['id']?.startsWith(prefix)) return;
      if (++got === count) {
        clearTimeout(timer);
        bob.off('stanza', on as never);
        resolveDone(performance.now() - t0);
      }
    };
    bob.on('stanza', on as never);
  });
  t0 = performance.now();
  for (let i = 0; i < count; i++) {
    alice.send(el('message', NS.CLIENT, { to: bobJid, type: 'chat', id: `${prefix}${i}` }, el('body', NS.CLIENT, {}, `benchmark message ${i}`)));
  }
  return done;
}

/**
 * Servers are measured in turn, sample by sample (login k on each, then login k+1...), so
 * that the load of a shared machine drifting over the run hits them alike. Besides wall
 * time, each server's own CPU time is read from /proc: it does not depend on what else runs.
 */
async function measure(all: Measured[], tick: number): Promise<void> {
  for (const m of all) m.loginCpuMs = -cpuMs(m.pid, tick);
  for (let k = 0; k < WARMUP + N; k++) {
    for (const m of all) {
      const dt = await oneLogin(m, k === 0);
      if (k >= WARMUP) m.logins.push(dt);
    }
  }
  for (const m of all) m.loginCpuMs += cpuMs(m.pid, tick);

  const pairs = await Promise.all(
    all.map(async (m) => {
      const alice = client(m.t, 'alice');
      const bob = client(m.t, 'bob');
      const [, bobJid] = await Promise.all([alice.start(), bob.start()]);
      return { m, alice, bob, bobJid };
    }),
  );
  try {
    // Run 0 warms up the JIT on both ends (M/10 messages, not counted).
    for (const p of pairs) await oneBurst(p.alice, p.bob, p.bobJid, p.m.t.label, 'w-', Math.max(1, Math.floor(M / 10)));
    for (const p of pairs) p.m.rateCpuMs = -cpuMs(p.m.pid, tick);
    for (let r = 1; r <= RUNS; r++) {
      for (const p of pairs) {
        const ms = await oneBurst(p.alice, p.bob, p.bobJid, p.m.t.label, `b${r}-`, M);
        p.m.rates.push((M / ms) * 1000);
        p.m.messages += M;
      }
    }
    for (const p of pairs) p.m.rateCpuMs += cpuMs(p.m.pid, tick);
  } finally {
    await Promise.all(pairs.flatMap((p) => [p.alice.stop(), p.bob.stop()]));
  }
}

const f1 = (x: number): string => x.toFixed(1);

async function main(): Promise<void> {
  const before = loadavg();
  process.stdout.write(
    `xmpp-statekit bench: N=${N} logins (after ${WARMUP} warm-up), M=${M} messages × ${RUNS} runs; node ${process.version}; ` +
      `${cpus().length} CPUs; load average ${before.map((x) => x.toFixed(2)).join(' ')}\n`,
  );
  const tick = Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  const prosody = await startProsody({ nagle: false });
  const ours10k = await startOurs(10_000, 'lifted');
  const oursDefault = await startOurs(DEFAULT_ITERATIONS, 'default');
  const users = { alice: 'secret1', bob: 'secret2' };
  const measured = (t: Target, pid: number): Measured => ({ t, pid, logins: [], loginCpuMs: 0, rates: [], rateCpuMs: 0, messages: 0 });
  const all = [
    measured({ label: 'ours: 10000 iterations, read limit lifted', port: ours10k.port, ca: ours10k.ca, users, mechanism: 'SCRAM-SHA-1' }, ours10k.pid),
    measured(
      { label: `ours: defaults (${DEFAULT_ITERATIONS} iterations, 64 KiB/s read limit)`, port: oursDefault.port, ca: oursDefault.ca, users, mechanism: 'SCRAM-SHA-256' },
      oursDefault.pid,
    ),
    measured({ label: `Prosody ${prosody.version} (nagle = false)`, port: prosody.port, ca: prosody.ca, users, mechanism: 'SCRAM-SHA-1' }, prosody.pid),
  ];
  try {
    await measure(all, tick);
  } finally {
    await Promise.all([ours10k.stop(), oursDefault.stop(), prosody.stop()]);
  }

  const header = ['server', 'SASL', 'PBKDF2 i', 'login median ms', 'p10..p90 ms', 'server CPU ms/login', 'msgs/s (median)', 'server CPU µs/msg'];
  const table = all.map((r) => [
    r.t.label,
    r.mechanism ?? r.t.mechanism,
    String(r.iterations ?? '?'),
    f1(median(r.logins)),
    `${f1(percentile(r.logins, 10))}..${f1(percentile(r.logins, 90))}`,
    f1(r.loginCpuMs / (WARMUP + N)),
    median(r.rates).toFixed(0),
    ((r.rateCpuMs * 1000) / Math.max(1, r.messages)).toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  process.stdout.write(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${table.map(line).join('\n')}\n`);

  const ours = all[0]!;
  const theirs = all[2]!;
  const ratio = (a: number, b: number): string => (a / b).toFixed(2);
  process.stdout.write(
    `\nratio ours/Prosody (first row vs Prosody: same mechanism SCRAM-SHA-1, same iteration count, no read limit):\n` +
      `  login time (median wall)    ${ratio(median(ours.logins), median(theirs.logins))}  (< 1: ours logs in faster)\n` +
      `  server CPU per login        ${ratio(ours.loginCpuMs, theirs.loginCpuMs)}  (< 1: ours spends less CPU)\n` +
      `  throughput (median msgs/s)  ${ratio(median(ours.rates), median(theirs.rates))}  (> 1: ours routes more messages per second)\n` +
      `  server CPU per message      ${ratio(ours.rateCpuMs / ours.messages, theirs.rateCpuMs / theirs.messages)}  (< 1: ours spends less CPU)\n` +
      `Login wall time includes our client's PBKDF2 and TLS work, the same for every server. Server CPU per login includes\n` +
      `the closing handshake. load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`,
  );
}

const entry = process.argv[2] === '--serve-ours' ? serveOurs(process.argv[3]!, Number(process.argv[4]), process.argv[5] ?? 'default') : main().then(() => process.exit(0));
entry.then(
  () => undefined,
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
