/**
 * The 'federation' family (sim/fed/): several of our servers, each the sim host plus the real
 * runtime/s2s Federation over faulty sim links. A fixed number of runs for one seed holds every
 * invariant and prints the same bytes twice; hand-written worlds pin down what the generated
 * ones only sample: EXTERNAL with good certificates (XEP-0178), dialback with a wrong-name one
 * (XEP-0220), bounces for a domain nobody hosts (RFC 6120 §10.4.3), a forger's wrong key never
 * accepted (XEP-0220 §2.2.1) and its stanzas never routed (§4.3.5).
 */
import { describe, expect, it } from 'vitest';
import { Link } from '../../sim/link.js';
import { VirtualClock } from '../../sim/clock.js';
import { Rng } from '../../sim/rng.js';
import { certificateOf } from '../../sim/fed/world.js';
import { formatFedSummary, runFederation, simulateFederation } from '../../sim/fed/runner.js';
import { simulateFederationOnCores } from '../../sim/fed/parallel.js';
import type { FederationScenario, FedLinkPlan, FedServerPlan } from '../../sim/fed/scenario.js';

const clean: FedLinkPlan = { maxFragment: 7, delay: [0, 3], faultyConnections: 0 };
const server = (domain: FedServerPlan['domain'], extra: Partial<FedServerPlan> = {}): FedServerPlan => ({
  domain, certificate: 'good', dialback: true, tls: 'required',
  clients: [{ user: 'alice', startAt: 0, idle: 500, stanzas: [] }],
  ...extra,
});
const world = (servers: FedServerPlan[], extra: Partial<FederationScenario> = {}): FederationScenario => {
  const links: Record<string, FedLinkPlan> = {};
  servers.forEach((_, i) => servers.forEach((__, j) => i !== j && (links[`${i}>${j}`] = clean)));
  return { name: 'federation', seed: 7, servers, links, ...extra };
};
const msg = (server: number, user: 'bob' | 'nobody' = 'bob') => ({ kind: 'msg' as const, server, user, gap: 5 });
const inAuth = (r: Awaited<ReturnType<typeof runFederation>>, i: number) =>
  'error' in r ? [] : r.world.servers[i]!.logs.filter((l) => l.event === 's2s.in.authenticated').map((l) => `${String(l.fields['from'])} ${String(l.fields['method'])}`);

describe('sim link: TLS reports the certificate the other end presents', () => {
  it('each end gets the peer certificate on TLS established; an end without one reports none (client links unchanged)', () => {
    const clock = new VirtualClock();
    const link = new Link(clock, new Rng(1));
    link.b.certificate = certificateOf('wrong-name', 'b.test');
    const seen: unknown[] = [];
    const sink = (name: string) => ({ receive() {}, tlsFailed() {}, closed() {}, writeFailed() {}, tlsEstablished: (info?: unknown) => seen.push([name, info]) });
    link.a.attach(sink('a'));
    link.b.attach(sink('b'));
    link.a.startTls();
    link.b.startTls();
    clock.run();
    expect(seen.sort((x, y) => ((x as string[])[0]! < (y as string[])[0]! ? -1 : 1))).toEqual([
      ['a', { peerVerified: true, peerCertificate: { trusted: true, identifiers: { dnsIds: ['not-b.test'], srvIds: [], xmppAddrs: [], uriIds: [], cn: ['not-b.test'] } } }],
      ['b', { peerVerified: true }],
    ]);
  });
});

describe('federated worlds (RFC 6120 §10.4, XEP-0178, XEP-0220)', () => {
  it('good certificates: SASL EXTERNAL both ways; messages delivered across once each', async () => {
    const r = await runFederation(world([server('a.test', { clients: [{ user: 'alice', startAt: 0, idle: 500, stanzas: [msg(1), msg(1, 'nobody')] }] }), server('b.test', { clients: [{ user: 'bob', startAt: 0, idle: 800, stanzas: [] }] })]));
    if ('error' in r) throw new Error(r.error);
    expect(r.violations).toEqual([]);
    expect(inAuth(r, 1)).toEqual(['a.test sasl-external']);
    expect(r.fates).toEqual({ delivered: 2 });
  });

  it("a wrong-name certificate: b.test authenticates a.test by dialback, verifying the key with a.test's Authoritative Server", async () => {
    const r = await runFederation(world([server('a.test', { certificate: 'wrong-name', clients: [{ user: 'alice', startAt: 0, idle: 500, stanzas: [msg(1)] }] }), server('b.test')]));
    if ('error' in r) throw new Error(r.error);
    expect(r.violations).toEqual([]);
    expect(inAuth(r, 1)).toEqual(['a.test dialback']);
    expect(r.fates).toEqual({ delivered: 1 });
  });

  it('certificates required against an untrusted certificate, and a domain nobody hosts: bounced once each (§10.4.3)', async () => {
    const r = await runFederation(world([server('a.test', { certificate: 'untrusted', clients: [{ user: 'alice', startAt: 0, idle: 500, stanzas: [msg(1), msg(-1)] }] }), server('b.test', { dialback: false })]));
    if ('error' in r) throw new Error(r.error);
    expect(r.violations).toEqual([]);
    expect(inAuth(r, 1)).toEqual([]);
    expect(r.fates).toEqual({ bounced: 2 });
  });

  for (const mode of ['wrong-key', 'unauthenticated-from'] as const) {
    it(`a forging peer claiming a.test to b.test (${mode}): never authenticated, its stanzas never routed`, async () => {
      const r = await runFederation(world([server('a.test'), server('b.test', { clients: [{ user: 'bob', startAt: 0, idle: 2000, stanzas: [] }] })], { forger: { target: 1, claims: 'a.test', mode, startAt: 10 } }));
      if ('error' in r) throw new Error(r.error);
      expect(r.violations).toEqual([]);
      expect(r.world.forger!.forged.length).toBeGreaterThan(0);
      expect(r.world.forger!.results).not.toContain('valid');
      expect(r.world.forger!.streamErrors.length + r.world.forger!.results.length).toBeGreaterThan(0);
      expect(r.world.servers[1]!.inbound.map((x) => x.stanza.attrs['id'])).toEqual([]);
    });
  }

  it("a forger that owns evil.test authenticates it by dialback, then sends 'from' a.test: <invalid-from/>, nothing routed (§8.1.2.2, §4.9.3.9)", async () => {
    const r = await runFederation(world([server('a.test'), server('b.test', { clients: [{ user: 'bob', startAt: 0, idle: 2000, stanzas: [] }] })], { forger: { target: 1, claims: 'a.test', mode: 'spoof-after-auth', startAt: 10 } }));
    if ('error' in r) throw new Error(r.error);
    expect(r.violations).toEqual([]);
    expect(r.world.forger!.results).toEqual(['valid']);
    expect(r.world.forger!.streamErrors).toEqual(['invalid-from']);
    expect(r.world.servers[1]!.inbound).toEqual([]);
  });

  it('40 generated runs for seed 1: every invariant holds, and the summary is byte-identical when run again', async () => {
    const first = formatFedSummary(await simulateFederation({ runs: 40, seed: 1 }));
    expect(first).toContain('OK: all invariants held in 40 runs');
    expect(formatFedSummary(await simulateFederation({ runs: 40, seed: 1 }))).toBe(first);
  }, 60_000);

  it('the same summary on 1 and on 3 worker threads (sim/fed/parallel.ts)', async () => {
    const one = formatFedSummary(await simulateFederationOnCores({ runs: 24, seed: 2, workers: 1 }));
    const three = formatFedSummary(await simulateFederationOnCores({ runs: 24, seed: 2, workers: 3 }));
    expect(one).toContain('OK: all invariants held in 24 runs');
    expect(three).toBe(one);
  }, 60_000);
});
