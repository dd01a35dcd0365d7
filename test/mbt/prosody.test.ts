/**
 * `xmppkit mbt` against Prosody (Debian's package, a private instance on a free loopback
 * port): the run completes and lists Prosody's deviations from our receiving-entity model.
 * A third-party server's deviation is a finding, not a failure; what must hold is the run
 * itself, its coverage and report, and the behaviours pinned for every server
 * (RFC 6120 §6.5.10, §4.3.5, §4.4). No Prosody is a failure with a clear message, never a skip.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviations, renderText, runMbt, type MbtReport } from '../../mbt/index.js';
import type { RunningPeer } from '../../peers/daemon.js';
import { startProsody } from '../../peers/prosody.js';
import { pinnedBehaviours } from './pinned.js';

/** The last run's report, for people to read: the deviations found in Prosody. */
export const PROSODY_REPORT = join(tmpdir(), 'xmppkit-mbt-prosody.json');

let prosody: RunningPeer | undefined;
let report: MbtReport;

beforeAll(async () => {
  prosody = await startProsody({ nagle: false });
  report = await runMbt({ kind: 'remote', host: prosody.host, port: prosody.port, domain: prosody.domain, user: 'alice', password: 'secret1', insecure: true });
  writeFileSync(PROSODY_REPORT, `${JSON.stringify(report, null, 2)}\n`);
}, 300_000);

afterAll(async () => {
  await prosody?.stop();
});

describe('xmppkit mbt against Prosody (RFC 6120 §4-§8 receiving entity)', () => {
  it('completes: every path is played to a pass or a deviation, none errors', () => {
    expect(report.profiles).toHaveLength(1);
    const errors = report.profiles[0]!.paths.filter((p) => p.status === 'error').map((p) => `${p.id}: ${p.error}`);
    expect(errors).toEqual([]);
    expect(report.totals.paths).toBeGreaterThan(20);
    expect(report.totals.passed + report.totals.deviations).toBe(report.totals.paths);
    expect(report.totals.passed).toBeGreaterThan(5);
  });

  it('uses the policy Prosody announces: STARTTLS required, its SCRAM and PLAIN mechanisms (§5.3.1, §6.3.3)', () => {
    const policy = report.profiles[0]!.policy as { tls: string; mechanisms: string[] };
    expect(policy.tls).toBe('required');
    expect(policy.mechanisms).toContain('SCRAM-SHA-1');
  });

  it('reports coverage of the client-drivable transitions and states; timer paths are left out (Prosody\'s timers are unknown)', () => {
    const c = report.coverage;
    expect(c.drivable + c.hostInternal.length).toBe(c.transitions);
    expect(c.covered).toBeLessThanOrEqual(c.reachable);
    expect(c.reachable).toBeLessThan(c.drivable);
    expect(c.unreachable.some((r) => r.transition.includes('after'))).toBe(true);
    expect(c.percent).toBeGreaterThanOrEqual(40);
    expect(c.states.covered).toBeGreaterThanOrEqual(15);
  });

  it('lists each deviation with the step, the RFC section, the expected and the received XML', () => {
    const found = deviations(report);
    expect(found.length).toBe(report.totals.deviations);
    for (const d of found) {
      expect(d.step.length).toBeGreaterThan(0);
      expect(d.rfc.length).toBeGreaterThan(0);
      expect(d.rfc.every((r) => /^(6120 §|XEP-)/.test(r))).toBe(true);
      expect(d.expected.length + d.received.length).toBeGreaterThan(0);
    }
    const text = renderText(report);
    expect(text).toMatch(/^model-based test of 127\.0\.0\.1:\d+ \(localhost\)/);
    for (const d of found) expect(text).toContain(d.path.split('/')[1]!);
  });

  it('holds the behaviours pinned for every server: not-authorized, nothing routed before auth, closing answered (§6.5.10, §4.3.5, §4.4)', () => {
    const pinned = pinnedBehaviours(report);
    expect(pinned.wrongPassword.length).toBeGreaterThan(0);
    for (const r of pinned.wrongPassword) expect(r).toMatch(/<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized\/>/);
    expect(pinned.stanzaBeforeAuth.length).toBeGreaterThan(0);
    for (const r of pinned.stanzaBeforeAuth) {
      // Either a stream error, or the stanza bounced as an error: never delivered.
      expect(r.includes('<stream:error>') || /<message[^>]* type='error'/.test(r), r).toBe(true);
    }
    expect(pinned.closeAnswered.length).toBeGreaterThan(0);
    for (const r of pinned.closeAnswered) expect(r).toContain('</stream:stream>');
  });
});
