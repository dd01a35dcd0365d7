/**
 * Name resolution over real DNS (RFC 6120 §3.2, XEP-0368) on the namespaced test network
 * (peers/netns.ts): dnsmasq answers the SRV and A records below and nothing else, the
 * listeners run in hosts b and c, and everything that looks them up runs in host a
 * (test/net/netns-peer.ts), through the namespace's own /etc/resolv.conf. Certificates
 * come from a private CA (peers/ca.ts) and are verified per RFC 6125.
 *
 * No root, ip or dnsmasq → the suite fails with the reason; it is never skipped.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrivateCa } from '../../peers/ca.js';
import { createTestNetwork, type TestNetwork } from '../../peers/netns.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const PEER = join(HERE, 'netns-peer.ts');
const B = '10.213.0.11';
const C = '10.213.0.12';

let net: TestNetwork | undefined;
const dir = mkdtempSync(join(tmpdir(), 'xmppkit-resolve-'));
const ca = createPrivateCa();
const caFile = join(dir, 'ca.pem');

/** Writes a certificate bundle to files; returns their paths. */
function files(name: string, bundle: { certPem: string; keyPem: string }): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  writeFileSync(cert, bundle.certPem);
  writeFileSync(key, bundle.keyPem, { mode: 0o600 });
  return { cert, key };
}

/** Starts netns-peer.ts listeners on `host`; resolves once they listen. */
function listeners(host: string, spec: unknown[]): Promise<ChildProcess> {
  const child = net!.spawn(host, process.execPath, ['--import', 'tsx', PEER, JSON.stringify({ listen: spec })], { cwd: ROOT });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"listening"')) resolve(child);
      if (out.includes('"error"')) reject(new Error(`listeners on ${host}: ${out}\n${err}`));
    });
    child.once('exit', (code) => reject(new Error(`listeners on ${host} exited ${code}: ${out}\n${err}`)));
  });
}

/** Runs netns-peer.ts on host a to completion; its JSON lines. */
async function fromA(command: unknown): Promise<Record<string, unknown>[]> {
  const { stdout } = await net!.exec('a', process.execPath, ['--import', 'tsx', PEER, JSON.stringify(command)], { cwd: ROOT, timeoutMs: 30_000 });
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const connect = async (domain: string, service: 'xmpp-client' | 'xmpp-server', attemptTimeoutMs?: number) =>
  (await fromA({ connect: { domain, service, ca: caFile, ...(attemptTimeoutMs ? { attemptTimeoutMs } : {}) } }))[0]!;

beforeAll(async () => {
  writeFileSync(caFile, ca.certPem);
  net = await createTestNetwork({
    hosts: [
      { name: 'a', domains: ['a.test'] },
      { name: 'b', domains: ['b.test', 'd.test'] },
      { name: 'c', domains: ['c.test', 'dead.test', 'tls.test', 'wrong.test'] },
    ],
    srv: [
      // b.test s2s: a dead first candidate (nothing listens on c:5999), then b itself; no direct TLS ('.').
      { service: 'xmpp-server', domain: 'b.test', target: 'dead.test', port: 5999, priority: 0 },
      { service: 'xmpp-server', domain: 'b.test', target: 'b.test', port: 5299, priority: 10 },
      { service: 'xmpps-server', domain: 'b.test', target: '.', port: 0 },
      // c.test: no SRV record at all → the A record on 5269 (§3.2.2).
      // tls.test: direct TLS has the better priority; the STARTTLS record behind it is dead.
      { service: 'xmpps-server', domain: 'tls.test', target: 'tls.test', port: 5270, priority: 5 },
      { service: 'xmpp-server', domain: 'tls.test', target: 'tls.test', port: 5999, priority: 20 },
      // wrong.test: a direct TLS server whose (CA-signed) certificate names evil.test.
      { service: 'xmpps-server', domain: 'wrong.test', target: 'wrong.test', port: 5271 },
      // none.test: decidedly not available.
      { service: 'xmpp-server', domain: 'none.test', target: '.', port: 0 },
      // Our XMPP server for b.test on a non-standard port: only SRV says where.
      { service: 'xmpp-client', domain: 'b.test', target: 'b.test', port: 5252 },
      // d.test: direct TLS (through a TLS-terminating proxy) preferred over STARTTLS.
      { service: 'xmpps-client', domain: 'd.test', target: 'd.test', port: 5223, priority: 0 },
      { service: 'xmpp-client', domain: 'd.test', target: 'd.test', port: 5262, priority: 10 },
    ],
  });
  const b = files('b', ca.issueServer('b.test'));
  const d = files('d', ca.issueServer('d.test'));
  await Promise.all([
    listeners('b', [
      { tcp: { host: B, port: 5299, name: 'b-s2s' } },
      { server: { host: B, port: 5252, domain: 'b.test', ...b, users: { alice: 'secret1' } } },
      // d.test: one server, STARTTLS on :5262, and direct TLS on :5223 terminated in front of a
      // loopback listener that does not insist on STARTTLS (the TLS is the proxy's).
      { server: { host: B, port: 5262, domain: 'd.test', ...d, users: { carol: 'secret3' } } },
      { server: { host: '127.0.0.1', port: 5263, domain: 'd.test', ...d, users: { carol: 'secret3' }, tls: 'optional' } },
      { tlsProxy: { host: B, port: 5223, ...d, to: { host: '127.0.0.1', port: 5263 } } },
    ]),
    listeners('c', [
      { tcp: { host: C, port: 5269, name: 'c-fallback' } },
      { tls: { host: C, port: 5270, name: 'tls-direct', ...files('tls', ca.issueServer('tls.test')) } },
      { tls: { host: C, port: 5271, name: 'wrong', ...files('wrong', ca.issueWrongName('evil.test')) } },
    ]),
  ]);
}, 90_000);

afterAll(async () => {
  await net?.teardown();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('RFC 6120 §3.2 over DNS, from another host of the test network', () => {
  it('SRV (§3.2.1): the dead first candidate is refused and skipped to the second; the _xmpps target "." means no direct TLS', async () => {
    const r = await connect('b.test', 'xmpp-server');
    expect(r).toMatchObject({ ok: true, said: 'hello b-s2s', address: B, candidate: { host: 'b.test', port: 5299, directTls: false, source: 'srv' } });
    expect(r['failed']).toEqual([
      { candidate: { host: 'dead.test', port: 5999, directTls: false, source: 'srv' }, address: C, failure: 'refused', reason: `connect ECONNREFUSED ${C}:5999` },
    ]);
    // The DNS answer's own order is dnsmasq's; the priorities put dead.test first all the same.
    const [starttls, direct] = r['lookups'] as string[];
    expect(starttls).toMatch(/^_xmpp-server\._tcp\.b\.test: /);
    expect(starttls).toContain('0 0 5999 dead.test');
    expect(starttls).toContain('10 0 5299 b.test');
    expect(direct).toBe('_xmpps-server._tcp.b.test: 0 0 1 .');
    // The lookups were made through the network's DNS, from host a.
    expect(net!.dnsLog()).toMatch(/query\[SRV\] _xmpp-server\._tcp\.b\.test from 10\.213\.0\.10/);
    expect(net!.dnsLog()).toMatch(/query\[SRV\] _xmpps-server\._tcp\.b\.test from 10\.213\.0\.10/);
  }, 30_000);

  it('no SRV record (§3.2.2): the fallback to the A record of the domain, port 5269', async () => {
    const r = await connect('c.test', 'xmpp-server');
    expect(r).toMatchObject({ ok: true, said: 'hello c-fallback', address: C, candidate: { host: 'c.test', port: 5269, directTls: false, source: 'fallback' } });
    expect(r['lookups']).toEqual(['_xmpp-server._tcp.c.test: no SRV records (ENOTFOUND)', '_xmpps-server._tcp.c.test: no SRV records (ENOTFOUND)']);
  }, 30_000);

  it("a single '.' target: decidedly not available, no fallback attempted (§3.2.1 step 3)", async () => {
    const r = await connect('none.test', 'xmpp-server');
    expect(r).toMatchObject({ ok: false, condition: 'remote-server-not-found', attempts: [] });
    expect(r['unavailable']).toMatch(/_xmpp-server\._tcp\.none\.test: target '\.', the service is decidedly not available at none\.test/);
  }, 30_000);

  it('direct TLS (XEP-0368) by its better priority; the private CA certificate verified for the source domain (RFC 6125)', async () => {
    const r = await connect('tls.test', 'xmpp-server');
    expect(r).toMatchObject({ ok: true, said: 'hello tls-direct', authorized: true, candidate: { host: 'tls.test', port: 5270, directTls: true, source: 'srv' }, failed: [] });
  }, 30_000);

  it('a wrong-name certificate is refused with a clear reason: remote-server-not-found', async () => {
    const r = await connect('wrong.test', 'xmpp-server');
    expect(r).toMatchObject({ ok: false, condition: 'remote-server-not-found' });
    const [attempt] = r['attempts'] as { failure: string; reason: string }[];
    expect(attempt).toMatchObject({ failure: 'tls' });
    expect(attempt!.reason).toContain("certificate does not identify xmpp-server service 'wrong.test'; it presents SRV-IDs [_xmpp-client.evil.test, _xmpp-server.evil.test], DNS-IDs [evil.test], XmppAddrs [evil.test]");
    expect(r['message']).toContain(`direct TLS wrong.test (${C}):5271 [srv]: tls: ERR_TLS_CERT_ALTNAME_INVALID`);
  }, 30_000);

  it('our client logs in to our server found by _xmpp-client._tcp SRV only (STARTTLS, CA-signed certificate)', async () => {
    const lines = await fromA({ login: { jid: 'alice@b.test', password: 'secret1', ca: caFile } });
    expect(lines[0]).toEqual({ located: { host: 'b.test', port: 5252, directTls: false, source: 'srv', address: B } });
    expect(lines[1]).toMatchObject({ online: expect.stringMatching(/^alice@b\.test\/.+/), starttls: true });
    expect(lines[2]).toEqual({ stopped: 'closed' });
    expect(net!.dnsLog()).toMatch(/query\[SRV\] _xmpp-client\._tcp\.b\.test from 10\.213\.0\.10/);
  }, 30_000);

  it('our client prefers the _xmpps-client record by priority: direct TLS, no STARTTLS on it (XEP-0368 rule 5)', async () => {
    const lines = await fromA({ login: { jid: 'carol@d.test', password: 'secret3', ca: caFile } });
    expect(lines[0]).toEqual({ located: { host: 'd.test', port: 5223, directTls: true, source: 'srv', address: B } });
    expect(lines[1]).toMatchObject({ online: expect.stringMatching(/^carol@d\.test\/.+/), starttls: false });
    expect(lines[2]).toEqual({ stopped: 'closed' });
  }, 30_000);
});
