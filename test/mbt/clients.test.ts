/**
 * `xmppkit mbt --client` against real clients, no mocks: our own (runtime/client through
 * `xmppkit connect`), slixmpp (Debian's python3-slixmpp) and @xmpp/client (xmpp.js), each
 * launched once per path at a scripted server that follows the paths of the initiating-entity
 * model. Our client must pass every path (the tester's self-check). The others' deviations are
 * findings, not failures: what must hold is that every path got a verdict, and the pinned
 * behaviours (./client-pinned.ts), so that a change in them is noticed.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLIENT_POLICY } from '../../machines/policy.js';
import { runClientMbt, type ClientUnderTest } from '../../mbt/client/index.js';
import { deviations, renderText, type MbtReport } from '../../mbt/report.js';
import { clientPinned } from './client-pinned.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PYTHON = '/usr/bin/python3';
const ACCOUNT = { domain: 'localhost', user: 'mbt', password: 'mbt-secret-1' };
/** Short timers for our client, so that the silence paths take seconds (RFC 6120 §4.6, §4.4 rule 3). */
const TIMEOUTS = { negotiation: 2500, idle: 1000, pingResponse: 800, closeWait: 800 };

const CLIENTS: ClientUnderTest[] = [
  {
    name: 'xmppkit',
    command: `${process.execPath} ${join(ROOT, 'bin', 'xmppkit.js')} connect --jid {jid} --password {password} --host {host} --port {port} --ca {ca} --timeouts ${Object.values(TIMEOUTS).join(',')}`,
    account: ACCOUNT,
    policy: { ...DEFAULT_CLIENT_POLICY, timeouts: TIMEOUTS },
    timeouts: TIMEOUTS,
  },
  {
    name: 'slixmpp',
    command: `${PYTHON} ${join(ROOT, 'test', 'interop', 'slixmpp_mbt_client.py')} {host} {port} {jid} {password} {ca}`,
    account: ACCOUNT,
    // force_starttls; its mechanisms the server offers (SCRAM-SHA-1, PLAIN).
    policy: { ...DEFAULT_CLIENT_POLICY, mechanisms: ['SCRAM-SHA-1', 'PLAIN'] },
  },
  {
    name: 'xmpp.js',
    command: `NODE_EXTRA_CA_CERTS={ca} ${process.execPath} ${join(ROOT, 'test', 'interop', 'xmppjs_mbt_client.mjs')} {host} {port} {domain} {user} {password}`,
    account: ACCOUNT,
    policy: { ...DEFAULT_CLIENT_POLICY, mechanisms: ['SCRAM-SHA-1', 'PLAIN'] },
  },
];

/** The last run's reports, for people to read. */
export const CLIENT_REPORTS = join(tmpdir(), 'xmppkit-mbt-clients.json');

const reports = new Map<string, MbtReport>();

beforeAll(async () => {
  const probe = spawnSync(PYTHON, ['-c', 'import slixmpp'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`slixmpp is not available to ${PYTHON} (install Debian's python3-slixmpp: npm run setup): ${probe.stderr}`);
  const t0 = Date.now();
  const done = await Promise.all(CLIENTS.map((c) => runClientMbt(c, { concurrency: 4, settleMs: 100, stepTimeoutMs: 2500 })));
  CLIENTS.forEach((c, i) => reports.set(c.name, done[i]!));
  writeFileSync(CLIENT_REPORTS, `${JSON.stringify(Object.fromEntries(reports), null, 2)}\n`);
  console.log(`mbt --client: three clients in ${Date.now() - t0} ms`);
  for (const r of done) console.log(renderText(r).split('\n').slice(0, 5).join('\n'));
}, 120_000);

describe('xmppkit mbt --client (RFC 6120 §4-§8 initiating entity)', () => {
  it('our own client passes every path, with full condition coverage of what the server can provoke', () => {
    const r = reports.get('xmppkit')!;
    const failed = r.profiles[0]!.paths.filter((p) => p.status !== 'pass').map((p) => `${p.id} ${p.status}: ${renderText({ ...r, profiles: [{ ...r.profiles[0]!, paths: [p] }] }).split('\n').slice(6, 14).join(' / ')}`);
    expect(failed).toEqual([]);
    expect(r.totals.paths).toBeGreaterThanOrEqual(30);
    expect(r.coverage.covered).toBe(r.coverage.reachable);
    expect(r.coverage.conditions.covered).toBe(r.coverage.conditions.reachable);
  });

  it('every path of every client gets a verdict: pass, deviation (with its RFC section) or not reached; none errors', () => {
    for (const [name, r] of reports) {
      const paths = r.profiles[0]!.paths;
      expect(paths.length, name).toBe(r.totals.paths);
      expect(paths.every((p) => p !== undefined && ['pass', 'deviation', 'not-reached'].includes(p.status)), `${name}: ${paths.filter((p) => p.status === 'error').map((p) => `${p.id}: ${p.error}`).join('; ')}`).toBe(true);
      for (const d of deviations(r)) expect(d.rfc.length, `${name} ${d.path}`).toBeGreaterThan(0);
    }
  });

  it('the third-party clients are tested on the same plan, without the timer paths (their timers are not configured)', () => {
    for (const name of ['slixmpp', 'xmpp.js']) {
      const r = reports.get(name)!;
      expect(r.totals.paths).toBeGreaterThanOrEqual(20);
      expect(r.profiles[0]!.paths.some((p) => p.actions.some((a) => a.startsWith('wait')))).toBe(false);
      expect(r.totals.passed).toBeGreaterThan(0);
    }
  });

  it('our client: refuses to authenticate in clear, refuses a wrong server signature and an untrusted certificate, answers stream errors and closing tags (§5.3.1, §6.4.6, §5.4.3.2, §4.9.1.1, §4.4)', () => {
    expect(clientPinned(reports.get('xmppkit')!)).toEqual({
      clearAuth: 'stream-error+close',
      badSignature: 'stream-error+close+eof',
      badCertificate: 'eof',
      streamError: 'close+eof',
      closeAnswered: 'close+eof',
      tlsFailure: 'close+eof',
    });
  });

  it('slixmpp: pinned findings', () => {
    expect(clientPinned(reports.get('slixmpp')!)).toEqual(PINNED_SLIXMPP);
  });

  it('xmpp.js: pinned findings', () => {
    expect(clientPinned(reports.get('xmpp.js')!)).toEqual(PINNED_XMPPJS);
  });
});

/**
 * slixmpp (Debian python3-slixmpp, force_starttls): authenticates (SCRAM-SHA-1) on a clear
 * stream when STARTTLS is not offered (RFC 6120 §5.3.1, §13.9.4); refuses a wrong server
 * signature by closing without a stream error (§6.4.6, §4.9.1.1); closes TCP without a
 * closing tag on a stream error, on the server's closing tag and on a TLS <failure/>
 * (§4.4); refuses the untrusted certificate (§5.4.3.2).
 */
const PINNED_SLIXMPP = { clearAuth: 'auth', badSignature: 'close+eof', badCertificate: 'eof', streamError: 'eof', closeAnswered: 'eof', tlsFailure: 'eof' };
/**
 * xmpp.js (@xmpp/client): authenticates on a clear stream when STARTTLS is not offered
 * (§5.3.1, §13.9.4); puts a 'mechanism' attribute on <response/> (§6.4.3, the schema of
 * Appendix A.4 has none), so the wrong-signature path stops there; answers a stream error with
 * its closing tag (§4.4); sends nothing on the server's closing tag or a TLS <failure/> (§4.4);
 * refuses the untrusted certificate (§5.4.3.2).
 */
const PINNED_XMPPJS = { clearAuth: 'auth', badSignature: '(not played)', badCertificate: 'eof', streamError: 'close+eof', closeAnswered: '-', tlsFailure: '-' };
