/**
 * `xmppkit mbt --target self`: our own server (createServer, port 0, temporary data dir)
 * played by the model-based client over real sockets with STARTTLS, under both self
 * profiles. Every path must match the receiving-entity model (RFC 6120 §4-§8) and together
 * they must take every client-drivable transition and visit every state. A model that
 * differs from the server (a retry limit of 2 where the server allows 3, §6.4.5) must show
 * as a deviation at the right step, with the RFC section and both sides' XML.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rfc6120Sections } from '../../machines/introspect/sections.js';
import { run as runCli } from '../../cli/commands/mbt.js';
import type { MbtReport } from '../../mbt/report.js';
import { Model, planPaths, runProfile, seededRandom, SELF_PROFILES, startSelf } from '../../mbt/index.js';
import { HEADER_FAULT_NAMES, HEADER_FAULTS, LIMIT_FAULT_NAMES, MALFORMED_FAULT_NAMES, MALFORMED_FAULTS } from '../../mbt/faults.js';
import { pinnedBehaviours } from './pinned.js';

let dir: string;
let report: MbtReport;
let exitCode: number;
let stdout = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xmppkit-mbt-test-'));
  const file = join(dir, 'report.json');
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  try {
    exitCode = await runCli(['--target', 'self', '--json', file, '--quiet']);
  } finally {
    process.stdout.write = write;
  }
  report = JSON.parse(readFileSync(file, 'utf8')) as MbtReport;
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('xmppkit mbt --target self (RFC 6120 §4-§8 receiving entity)', () => {
  it('passes every path under both policy profiles, exit code 0', () => {
    expect(report.profiles.map((p) => p.name)).toEqual(SELF_PROFILES.map((p) => p.name));
    const failing = report.profiles.flatMap((p) => p.paths.filter((x) => x.status !== 'pass').map((x) => `${p.name}/${x.id}: ${JSON.stringify(x.deviation ?? x.error)}`));
    expect(failing).toEqual([]);
    expect(report.totals.paths).toBeGreaterThan(50);
    expect(report.totals.passed).toBe(report.totals.paths);
    expect(exitCode).toBe(0);
  });

  it('covers 100% of the client-drivable transitions and every state', () => {
    const c = report.coverage;
    expect(c.uncovered).toEqual([]);
    expect(c.unreachable).toEqual([]);
    expect(c.covered).toBe(c.drivable);
    expect(c.percent).toBe(100);
    expect(c.drivable + c.hostInternal.length).toBe(c.transitions);
    expect(c.states.covered).toBe(c.states.total);
  });

  it('exercises every error condition the model sends on client input: each malformed-input and header class on its own path (§4.9.3, §11)', () => {
    const c = report.coverage.conditions;
    expect(c.uncovered).toEqual([]);
    expect(c.covered).toBe(c.reachable);
    expect(c.percent).toBe(100);
    const reachable = new Set(report.profiles.flatMap((p) => p.conditionsReachable));
    for (const n of MALFORMED_FAULT_NAMES) expect(reachable).toContain(`stream ${MALFORMED_FAULTS[n].condition}`);
    for (const n of HEADER_FAULT_NAMES) expect(reachable).toContain(`stream ${HEADER_FAULTS[n].condition}`);
    expect(reachable).toContain('sasl not-authorized');
    expect(reachable).toContain('sasl invalid-mechanism');
    // Each malformed-input class is played, not only one per transition.
    const goals = report.profiles[0]!.paths.map((p) => p.actions.join(' '));
    for (const n of MALFORMED_FAULT_NAMES) expect(goals.some((g) => g.includes(`malformed(${n})`)), n).toBe(true);
    for (const n of LIMIT_FAULT_NAMES) expect(goals.some((g) => g.includes(`overLimit(${n} > `)), n).toBe(true);
    expect(reachable).toContain('stream policy-violation');
    expect(stdout).toContain(`condition coverage: ${c.covered}/${c.reachable} error conditions`);
  });

  it('lists the host-internal transitions with why a client cannot drive them', () => {
    const host = report.coverage.hostInternal.map((r) => r.transition);
    expect(host.some((t) => t.includes('SHUTDOWN'))).toBe(true);
    expect(host.some((t) => t.includes('REPLACED'))).toBe(true);
    expect(report.coverage.hostInternal.every((r) => r.why.length > 0 && r.rfc !== undefined)).toBe(true);
  });

  it('prints per path and coverage as text', () => {
    expect(stdout).toMatch(/^model-based test of self/);
    expect(stdout).toContain(`transition coverage: ${report.coverage.covered}/${report.coverage.drivable} client-drivable (100%)`);
    expect(stdout).toMatch(/PASS path-01 /);
    expect(stdout).toContain('host-internal (unit-tested, not driven by a client)');
  });

  it('holds the behaviours pinned for every server: not-authorized, nothing routed before auth, closing answered (§6.5.10, §4.3.5, §4.4)', () => {
    const pinned = pinnedBehaviours(report);
    expect(pinned.wrongPassword.length).toBeGreaterThan(0);
    for (const r of pinned.wrongPassword) expect(r).toMatch(/<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized\/>/);
    expect(pinned.stanzaBeforeAuth.length).toBeGreaterThan(0);
    for (const r of pinned.stanzaBeforeAuth) expect(r).toMatch(/<stream:error><not-authorized/);
    expect(pinned.closeAnswered.length).toBeGreaterThan(0);
    for (const r of pinned.closeAnswered) expect(r).toContain('</stream:stream>');
  });
});

describe('a model that disagrees with the server', () => {
  it('reports the deviation with the step, the RFC section and both sides (§6.4.5)', async () => {
    const base = SELF_PROFILES[0]!;
    const server = await startSelf(base.name, base.policy); // the server allows 3 attempts
    try {
      const policy = { ...base.policy, maxAuthAttempts: 2 };
      const plan = planPaths(new Model({ account: server.profile.target.account, policy, random: seededRandom(1) }));
      const only = plan.paths.filter((p) => p.goal.includes('lastAuthAttempt')).map((p) => p.id);
      expect(only.length).toBeGreaterThan(0);
      const { result } = await runProfile({ ...server.profile, policy }, { concurrency: 4, only });
      const dev = result.paths.filter((p) => p.status === 'deviation');
      expect(dev.length).toBeGreaterThan(0);
      const d = dev.find((p) => p.deviation!.rfc.some((r) => rfc6120Sections(r).includes('6.4.5')))!;
      expect(d, JSON.stringify(dev.map((x) => x.deviation))).toBeDefined();
      expect(d.deviation!.expected.join(' ')).toContain('<policy-violation');
      expect(d.deviation!.received.join(' ')).not.toContain('<policy-violation');
      expect(d.transcript!.some((l) => l.startsWith('>> ') && l.includes('<auth'))).toBe(true);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
