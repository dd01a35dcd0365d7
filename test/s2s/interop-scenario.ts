/**
 * Our server ⇄ a peer server (Prosody or ejabberd) on a private test network (peers/netns.ts),
 * no mocks: each server in a network namespace of its own, dnsmasq the only DNS, every
 * certificate from one private CA (peers/ca.ts), our client (runtime/client) as the users on
 * every side, one process each.
 *
 *   host a  a.test  ours, certificate names a.test      s2s 5270, found by _xmpp-server._tcp SRV (RFC 6120 §3.2.2)
 *   host c  c.test  ours, certificate names not-c.test  s2s 5269, no SRV record: the §3.2.2 fallback
 *   host p  b.test  the peer, certificate names b.test  s2s 5288, found by SRV
 *
 * a.test ⇄ b.test authenticate with SASL EXTERNAL both ways (XEP-0178 §3, RFC 6120 §13.7.2.1);
 * c.test's certificate does not authenticate c.test, so b.test must take dialback for it
 * (XEP-0220 §2.1), checking the key with c.test's Authoritative Server over a stream of its own.
 * Our servers resolve the peer by the SRV records (no `hosts` override). The peer starts once,
 * every case runs against it; the first two measure login-to-first-remote-message on cold routes.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrivateCa, type PrivateCa } from '../../peers/ca.js';
import type { PeerCertificate, PeerOptions } from '../../peers/daemon.js';
import { createTestNetwork, type TestNetwork } from '../../peers/netns.js';
import { loginToDelivery, OUR_USERS, printTimings, scratchDir, startOurServer, startUser, type OurServer, type Timing, type User } from './netns-fixture.js';

const PORTS = { a: 5270, c: 5269, p: 5288 } as const;

/** The server for b.test, whichever it is: what the cases need of it. */
export interface RemoteServer {
  readonly version: string;
  readonly host: string;
  readonly port: number;
  /** The trust anchor for its client certificate check (PEM). */
  readonly ca: string;
  readonly accounts: Readonly<Record<string, string>>;
  log(): string;
  stop(): Promise<void>;
}

export interface PeerUnderTest {
  readonly name: 'Prosody' | 'ejabberd' | 'ours';
  /** Starts b.test on host p of `net` with `peer` (namespace, address, ports, certificate from `ca`). */
  start(ctx: { readonly net: TestNetwork; readonly ca: PrivateCa; readonly dir: string; readonly peer: PeerOptions & { certificate: PeerCertificate } }): Promise<RemoteServer>;
  /** Whether our servers' certificates carry an XmppAddr besides the DNS-ID and SRV-IDs (RFC 6120 §13.7.1.4); default true. */
  readonly xmppAddrInOurCertificates?: boolean;
}

export function interopSuite(peer: PeerUnderTest): void {
  const ca = createPrivateCa('s2s interop CA');
  const label = peer.name === 'ours' ? 'our server' : peer.name;
  const scratch = scratchDir();
  const timings: Timing[] = [];
  let net: TestNetwork;
  let remote: RemoteServer | undefined;
  let a: OurServer | undefined;
  let c: OurServer | undefined;
  const users: User[] = [];
  let peerCa = '';

  const failure = (): string =>
    `\n--- ${label} log:\n${remote?.log() ?? ''}\n--- a.test s2s:\n${s2sLog(a)}\n--- c.test s2s:\n${s2sLog(c)}\n--- dns:\n${net?.dnsLog().slice(-3000)}`;

  beforeAll(async () => {
    net = await createTestNetwork({
      subnet: '10.214.0',
      hosts: [
        { name: 'a', domains: ['a.test'] },
        { name: 'c', domains: ['c.test'] },
        { name: 'p', domains: ['b.test'] },
      ],
      srv: [
        { service: 'xmpp-server', domain: 'a.test', target: 'a.test', port: PORTS.a },
        { service: 'xmpp-server', domain: 'b.test', target: 'b.test', port: PORTS.p },
      ],
    });
    const p = net.host('p');
    const b = ca.issueServer('b.test');
    const xmppAddr = peer.xmppAddrInOurCertificates ?? true;
    [remote, a, c] = await Promise.all([
      peer.start({ net, ca, dir: scratch.dir, peer: { netns: p.ns, bind: p.address, domain: 'b.test', port: 5222, s2s: { port: PORTS.p }, certificate: { certPem: b.certPem, keyPem: b.keyPem, caPem: ca.certPem } } }),
      startOurServer(net, 'a', { domain: 'a.test', certificate: 'good', xmppAddr, s2sPort: PORTS.a, ca, dir: scratch.dir }),
      startOurServer(net, 'c', { domain: 'c.test', certificate: 'wrong-name', xmppAddr, s2sPort: PORTS.c, ca, dir: scratch.dir }),
    ]);
    peerCa = join(scratch.dir, 'peer-ca.pem');
    writeFileSync(peerCa, remote.ca);
  }, 60_000);

  afterAll(async () => {
    printTimings(`ours ⇄ ${label} ${remote?.version ?? ''}`, timings);
    await Promise.allSettled(users.map((u) => u.stop()));
    await Promise.allSettled([remote?.stop(), a?.stop(), c?.stop()]);
    await net?.teardown();
    scratch.remove();
  }, 60_000);

  const ours = (jid: string, server: OurServer, first?: { to: string; body: string }): User => {
    const u = startUser(net, server === a ? 'a' : 'c', { jid, password: OUR_USERS[jid.split('@')[0] as keyof typeof OUR_USERS], host: server.host, port: server.port, ...(server === a && { caFile: join(scratch.dir, 'ca.pem') }), ...(first && { first }) });
    users.push(u);
    return u;
  };
  const theirs = (jid: string, first?: { to: string; body: string }): User => {
    const u = startUser(net, 'p', { jid, password: remote!.accounts[jid.split('@')[0]!]!, host: remote!.host, port: remote!.port, caFile: peerCa, ...(first && { first }) });
    users.push(u);
    return u;
  };

  describe(`our server ⇄ ${label} (b.test), certificates good: SASL EXTERNAL, routes found by SRV`, () => {
    it(`alice@a.test → bob@b.test on a cold route: delivered; a.test found b.test by SRV and authenticated with EXTERNAL (XEP-0178 §3)`, async () => {
      const bob = theirs('bob@b.test');
      await bob.online();
      const alice = ours('alice@a.test', a!, { to: 'bob@b.test', body: 'hello b, from a' });
      const got = await bob.message('hello b, from a', 20_000).catch((e: Error) => Promise.reject(new Error(e.message + failure())));
      expect(got.message!.from).toMatch(/^alice@a\.test\/.+/);
      timings.push({ path: `ours (a.test) → ${label} (b.test), EXTERNAL`, ms: loginToDelivery(alice, got) });
      // §3.2.2: the SRV record, from our server's host, then the target's address.
      expect(net.dnsLog()).toMatch(/query\[SRV\] _xmpp-server\._tcp\.b\.test from 10\.214\.0\.10/);
      expect(a!.logged('s2s.out.connected').find((r) => r['remote'] === 'b.test')).toMatchObject({ address: '10.214.0.12', port: PORTS.p, source: 'srv' });
      expect(a!.logged('s2s.out.authenticated').map((r) => [r['to'], r['method']])).toEqual([['b.test', 'sasl-external']]);
    }, 30_000);

    it(`alice@b.test → bob@a.test on a cold route: ${label} found a.test by SRV and authenticated with EXTERNAL`, async () => {
      const bob = ours('bob@a.test', a!);
      await bob.online();
      const alice = theirs('alice@b.test', { to: 'bob@a.test', body: 'hello a, from b' });
      const got = await bob.message('hello a, from b', 20_000).catch((e: Error) => Promise.reject(new Error(e.message + failure())));
      expect(got.message!.from).toMatch(/^alice@b\.test\/.+/);
      timings.push({ path: `${label} (b.test) → ours (a.test), EXTERNAL`, ms: loginToDelivery(alice, got) });
      expect(net.dnsLog()).toMatch(/query\[SRV\] _xmpp-server\._tcp\.a\.test from 10\.214\.0\.12/);
      expect(a!.logged('s2s.in.authenticated').map((r) => [r['from'], r['method']])).toEqual([['b.test', 'sasl-external']]);
    }, 30_000);

    it('XEP-0199 pings each way (alice@a.test → b.test, alice@b.test → a.test, bob@b.test → alice@a.test’s client) and a reply each way', async () => {
      const [aliceA, bobB] = [users[1]!, users[0]!];
      const [bobA, aliceB] = [users[2]!, users[3]!];
      const fromB = await aliceA.ping('b.test');
      expect(fromB.iq).toMatchObject({ type: 'result', from: 'b.test' });
      const fromA = await aliceB.ping('a.test');
      expect(fromA.iq).toMatchObject({ type: 'result', from: 'a.test' });
      const aliceFull = aliceA.lines.find((l) => l.online)!.online!;
      const fromClient = await bobB.ping(aliceFull);
      expect(fromClient.iq).toMatchObject({ type: 'result', from: aliceFull });
      bobB.send('alice@a.test', 're: from b');
      expect((await aliceA.message('re: from b')).message!.from).toMatch(/^bob@b\.test\//);
      bobA.send('alice@b.test', 're: from a');
      expect((await aliceB.message('re: from a')).message!.from).toMatch(/^bob@a\.test\//);
      // Still one stream each way, nothing refused or bounced.
      expect(a!.logged('s2s.out.authenticated')).toHaveLength(1);
      expect(a!.logged('s2s.bounced')).toEqual([]);
    }, 30_000);
  });

  describe(`c.test's certificate names not-c.test: ${label} takes dialback (XEP-0220), c.test found by the §3.2.2 fallback`, () => {
    it(`alice@c.test → bob@b.test: ${label} verifies c.test's key with c.test (XEP-0220 §2.1.2); a ping and a reply back`, async () => {
      const bob = users[0]!;
      const alice = ours('alice@c.test', c!, { to: 'bob@b.test', body: 'hello b, from c' });
      const got = await bob.message('hello b, from c', 20_000).catch((e: Error) => Promise.reject(new Error(e.message + failure())));
      expect(got.message!.from).toMatch(/^alice@c\.test\/.+/);
      timings.push({ path: `ours (c.test) → ${label} (b.test), dialback`, ms: loginToDelivery(alice, got) });
      expect(c!.logged('s2s.out.authenticated').filter((r) => r['to'] === 'b.test').map((r) => r['method'])).toEqual(['dialback']);
      // The peer connected back to c.test's Authoritative Server: no SRV record, so c.test:5269 (§3.2.2).
      expect(net.dnsLog()).toMatch(/query\[SRV\] _xmpp-server\._tcp\.c\.test from 10\.214\.0\.12/);
      expect(c!.logged('s2s.in.open').length).toBeGreaterThan(0);

      expect((await alice.ping('b.test')).iq).toMatchObject({ type: 'result', from: 'b.test' });
      bob.send('alice@c.test', 're: from b to c');
      expect((await alice.message('re: from b to c')).message!.from).toMatch(/^bob@b\.test\//);
      expect((await bob.ping('c.test')).iq).toMatchObject({ type: 'result', from: 'c.test' });
      expect(c!.logged('s2s.bounced')).toEqual([]);
    }, 40_000);
  });

  describe('what our servers made of it', () => {
    it('no internal error, no stream error sent or received, nothing bounced on a.test and c.test', () => {
      for (const s of [a!, c!]) {
        expect(s.logs.filter((r) => r.level === 'error'), s.domain).toEqual([]);
        expect(s.logs.filter((r) => /^s2s\.(in|out)\.ended$/.test(r.event) && String(r['kind']).startsWith('error')), s.domain).toEqual([]);
        expect(s.logged('s2s.bounced'), s.domain).toEqual([]);
        expect(s.logged('s2s.route.backoff'), s.domain).toEqual([]);
      }
    });

    it('teardown by PID and namespace name leaves nothing: servers, users, namespaces, /etc/netns dirs', async () => {
      const pids = [a!.pid, c!.pid, ...users.map((u) => u.pid)];
      const nss = [net.switchNs, ...net.hosts.map((h) => h.ns)];
      await Promise.all(users.map((u) => u.stop()));
      await Promise.all([remote!.stop(), a!.stop(), c!.stop()]);
      await net.teardown();
      for (const pid of pids) expect(existsSync(`/proc/${pid}`), `pid ${pid}`).toBe(false);
      for (const ns of nss) {
        expect(existsSync(`/run/netns/${ns}`), ns).toBe(false);
        expect(existsSync(`/etc/netns/${ns}`), ns).toBe(false);
      }
    }, 30_000);
  });
}

/** Our server's s2s log records, for failure messages. */
function s2sLog(s: OurServer | undefined): string {
  return (s?.logs ?? [])
    .filter((r) => String(r.event).startsWith('s2s.'))
    .slice(-40)
    .map((r) => JSON.stringify(r))
    .join('\n');
}
