import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/commands/sim.js';
import { safeRun, simulate } from '../../sim/runner.js';
import type { TraceFile } from '../../sim/trace.js';
import { noCloseTagAfterStreamError } from './broken-machines.js';

async function captured(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  try {
    const code = await run(argv);
    return { code, stdout };
  } finally {
    spy.mockRestore();
  }
}

describe('xmppkit sim is deterministic', () => {
  it('two runs with the same seed print identical output, byte for byte', async () => {
    const first = await captured(['--runs', '40', '--seed', '42']);
    const second = await captured(['--runs', '40', '--seed', '42']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('invariant checks:');
    expect(first.stdout).toMatch(/coverage of receivingEntity: states \d+\/\d+/);
    expect(second.stdout).toBe(first.stdout);
    const other = await captured(['--runs', '40', '--seed', '43']);
    expect(other.stdout).not.toBe(first.stdout);
  });

  it('prints the same bytes on one worker thread or several (runs spread over cores, sim/parallel.ts)', async () => {
    const one = await captured(['--runs', '40', '--seed', '42', '--workers', '1']);
    const two = await captured(['--runs', '40', '--seed', '42', '--workers', '2']);
    const three = await captured(['--runs', '40', '--seed', '42', '--workers', '3']);
    expect(one.code).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    expect(three.stdout).toBe(one.stdout);
    expect(one.stdout).toMatch(/runs: 40 completed/);
  }, 60_000);

  it('a scenario replays to the same bytes on the wire', () => {
    const s = simulate({ runs: 30, seed: 5, family: 'faults' });
    expect(s.failure).toBeUndefined();
    const scenario = { name: 'replay', seed: 99, server: { tls: 'required' as const, mechanisms: ['SCRAM-SHA-1' as const], allowPlainWithoutTls: false, maxAuthAttempts: 3, resourceConflict: 'override' as const, keepalive: 'ping' as const, timeouts: { negotiation: 5000, idle: 2000, pingResponse: 500, closeWait: 300 } }, clients: [{ kind: 'script' as const, user: 'bob' as const, mechanisms: ['SCRAM-SHA-1' as const], initialResponse: false, startAt: 3, stanzas: [{ kind: 'msg-peer' as const, gap: 2 }, { kind: 'ping-self' as const, gap: 1 }], idle: 3000, ending: 'client-close' as const, link: { maxFragment: 3, delay: [0, 9] as const } }] };
    const a = safeRun(scenario);
    const b = safeRun(scenario);
    if ('error' in a || 'error' in b) throw new Error('crashed');
    expect(b.world.links[0]!.segments).toEqual(a.world.links[0]!.segments);
    expect(a.violations).toEqual([]);
  });

  it('a failure writes a JSON trace and a Mermaid diagram, and --replay reproduces it', async () => {
    const s = simulate({ runs: 500, seed: 1, serverMachine: noCloseTagAfterStreamError });
    expect(s.failure).toBeDefined();
    const trace = s.failure!.trace;
    expect(trace.path).toBe(s.failure!.path);
    // The replay CLI uses the real machine: the counterexample passes there, and the wire differs from the broken one.
    const dir = mkdtempSync(join(tmpdir(), 'sim-'));
    const file = join(dir, 'trace.json');
    (await import('node:fs')).writeFileSync(file, JSON.stringify(trace));
    const replayed = await captured(['--replay', file]);
    expect(replayed.stdout.startsWith('sequenceDiagram\n')).toBe(true);
    expect(replayed.stdout).toContain('replay: 0 violation(s)');
    // And on the CLI, a failing search writes both files.
    const good = JSON.parse(JSON.stringify(trace)) as TraceFile;
    expect(good.segments.length).toBeGreaterThan(0);
    expect(readdirSync(dir)).toContain('trace.json');
    expect(readFileSync(file, 'utf8')).toContain('xmpp-statekit-sim-trace/1');
  });
});
