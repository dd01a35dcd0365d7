/**
 * Server-to-server federation on a private test network (peers/netns.ts): host a runs
 * Prosody for a.test, host b runs ejabberd for b.test, each in its own network namespace,
 * with dnsmasq the only DNS. Every port is off the standard one and only the SRV records
 * say where it is, so a message that arrives proves the servers found each other by
 * RFC 6120 §3.2.1 / §3.2.2 lookups, authenticated each other by Server Dialback (XEP-0220)
 * and routed the stanza over s2s (§10.4). Our client (runtime/client) runs inside the
 * namespaces and finds its own server by `_xmpp-client._tcp` SRV.
 *
 * This is the template for our own server: start it on a host of the network in place of
 * one of the two. No root, ip, dnsmasq, Prosody or ejabberd → the suite fails with the
 * reason; it is never skipped. Everything is torn down even when a test fails (afterAll,
 * and the network's own process exit handler).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPeer } from '../../peers/daemon.js';
import { startEjabberd } from '../../peers/ejabberd.js';
import { createTestNetwork, type TestNetwork } from '../../peers/netns.js';
import { startProsody } from '../../peers/prosody.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const CLIENT = join(HERE, 'netns-client.ts');
/** Non-standard ports: only the SRV records tell where the services are. */
const PORTS = { a: { c2s: 5242, s2s: 5288 }, b: { c2s: 5252, s2s: 5299 } };

let net: TestNetwork | undefined;
let prosody: RunningPeer | undefined;
let ejabberd: RunningPeer | undefined;

beforeAll(async () => {
  net = await createTestNetwork({
    hosts: [
      { name: 'a', domains: ['a.test'] },
      { name: 'b', domains: ['b.test'] },
    ],
    srv: [
      { service: 'xmpp-client', domain: 'a.test', target: 'a.test', port: PORTS.a.c2s },
      { service: 'xmpp-server', domain: 'a.test', target: 'a.test', port: PORTS.a.s2s },
      { service: 'xmpp-client', domain: 'b.test', target: 'b.test', port: PORTS.b.c2s },
      { service: 'xmpp-server', domain: 'b.test', target: 'b.test', port: PORTS.b.s2s },
    ],
  });
  const [a, b] = [net.host('a'), net.host('b')];
  [prosody, ejabberd] = await Promise.all([
    startProsody({ netns: a.ns, bind: a.address, domain: 'a.test', port: PORTS.a.c2s, s2s: { port: PORTS.a.s2s } }),
    startEjabberd({ netns: b.ns, bind: b.address, domain: 'b.test', port: PORTS.b.c2s, s2s: { port: PORTS.b.s2s } }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([prosody?.stop(), ejabberd?.stop()]);
  await net?.teardown();
}, 60_000);

interface Line {
  readonly located?: { domain: string; host: string; port: number };
  readonly online?: string;
  readonly message?: { from: string; to: string; body: string };
  readonly stopped?: string;
  readonly error?: string;
}

/** Runs netns-client.ts on `host`; resolves with its JSON lines once it exits 0, rejects with them otherwise. */
function client(host: 'a' | 'b', args: string[], onLine: (l: Line, stdin: NodeJS.WritableStream) => void = () => {}): Promise<Line[]> {
  const child = net!.spawn(host, process.execPath, ['--import', 'tsx', CLIENT, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  let rest = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    rest += d.toString();
    for (let i = rest.indexOf('\n'); i >= 0; i = rest.indexOf('\n')) {
      const l = JSON.parse(rest.slice(0, i)) as Line;
      rest = rest.slice(i + 1);
      lines.push(l);
      onLine(l, child.stdin!);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(lines) : reject(new Error(`client on ${host} exited ${code}: ${JSON.stringify(lines)}\n${stderr}\n--- prosody:\n${prosody?.log()}\n--- ejabberd:\n${ejabberd?.log()}\n--- dns:\n${net!.dnsLog()}`)),
    ),
  );
}

/** ejabberd's own log file (it names the s2s authentication method of each stream). */
function ejabberdLog(): string {
  return readFileSync(join(ejabberd!.dir, 'logs', 'ejabberd.log'), 'utf8');
}

function caFile(peer: RunningPeer): string {
  const file = join(peer.dir, 'client-ca.pem');
  writeFileSync(file, peer.ca);
  return file;
}

describe('test network: Prosody (a.test) and ejabberd (b.test) in namespaces of their own', () => {
  it('each server listens on its host address inside its namespace, on the ports the SRV records name', async () => {
    expect(prosody).toMatchObject({ netns: net!.host('a').ns, host: '10.213.0.10', port: PORTS.a.c2s, s2sPort: PORTS.a.s2s });
    expect(ejabberd).toMatchObject({ netns: net!.host('b').ns, host: '10.213.0.11', port: PORTS.b.c2s, s2sPort: PORTS.b.s2s });
    const { stdout } = await net!.exec('b', 'ss', ['-Hltn']);
    expect(stdout).toContain(`10.213.0.11:${PORTS.b.s2s}`);
    // From host a, b.test and its s2s SRV record come from the network's DNS.
    expect((await net!.exec('a', 'getent', ['hosts', 'b.test'])).stdout).toMatch(/^10\.213\.0\.11\s+b\.test/);
  });

  it('alice@a.test (Prosody) and bob@b.test (ejabberd) exchange messages over s2s: SRV lookups, dialback, routing (§3.2.2, XEP-0220, §10.4)', async () => {
    // Both start at once (a node process takes a second or two to come up); alice sends once bob is online.
    let bobOnline!: () => void;
    const online = new Promise<void>((r) => (bobOnline = r));
    const bob = client('b', ['echo', 'bob@b.test', 'secret2', caFile(ejabberd!)], (l) => l.online && bobOnline());
    const alice = client('a', ['ask', 'alice@a.test', 'secret1', caFile(prosody!), 'bob@b.test', 'hello bob, from a.test'], (l, stdin) => {
      if (l.online) void online.then(() => stdin.write('go\n'));
    });
    const [aliceLines, bobLines] = await Promise.all([alice, bob]);

    // Each client found its own server by its _xmpp-client._tcp SRV record (§3.2.1).
    expect(aliceLines[0]).toEqual({ located: { domain: 'a.test', host: '10.213.0.10', port: PORTS.a.c2s } });
    expect(bobLines[0]).toEqual({ located: { domain: 'b.test', host: '10.213.0.11', port: PORTS.b.c2s } });
    // a → b: Prosody reached ejabberd and the message arrived from alice's full JID.
    const atBob = bobLines.find((l) => l.message)!.message!;
    expect(atBob.body).toBe('hello bob, from a.test');
    expect(atBob.from).toMatch(/^alice@a\.test\/.+/);
    // b → a: ejabberd's answer came back the other way.
    const atAlice = aliceLines.find((l) => l.message)!.message!;
    expect(atAlice).toMatchObject({ body: 're: hello bob, from a.test' });
    expect(atAlice.from).toMatch(/^bob@b\.test\/.+/);

    // The servers asked the network's DNS for each other's _xmpp-server._tcp records (§3.2.2).
    const dns = net!.dnsLog();
    expect(dns).toMatch(/query\[SRV\] _xmpp-server\._tcp\.b\.test from 10\.213\.0\.10/);
    expect(dns).toMatch(/query\[SRV\] _xmpp-server\._tcp\.a\.test from 10\.213\.0\.11/);
    // And authenticated each other by dialback (XEP-0220 §2.1), both ways, the certificates being self-signed.
    await expect.poll(() => ejabberdLog(), { timeout: 5_000 }).toMatch(/Accepted inbound s2s dialback authentication a\.test -> b\.test/);
    expect(ejabberdLog()).toMatch(/Accepted outbound s2s dialback authentication b\.test -> a\.test/);
  }, 30_000);

  it('teardown leaves nothing: servers, namespaces and /etc/netns dirs gone', async () => {
    const [pp, ep] = [prosody!.pid, ejabberd!.pid];
    const nss = [net!.switchNs, ...net!.hosts.map((h) => h.ns)];
    await Promise.all([prosody!.stop(), ejabberd!.stop()]);
    await net!.teardown();
    expect(existsSync(`/proc/${pp}`)).toBe(false);
    expect(existsSync(`/proc/${ep}`)).toBe(false);
    for (const ns of nss) {
      expect(existsSync(`/run/netns/${ns}`)).toBe(false);
      expect(existsSync(`/etc/netns/${ns}`)).toBe(false);
    }
  }, 60_000);
});
