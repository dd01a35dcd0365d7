/**
 * runtime/net/resolve.ts on loopback: the candidates tried in order (RFC 6120 §3.2.1 steps
 * 6-7), per-attempt timeouts, direct TLS (XEP-0368) with certificates from the private CA
 * verified per RFC 6125, and overrides (§3.2.3). DNS itself is exercised on the namespaced
 * test network (resolve-netns.test.ts); here a real Resolver points at a UDP socket of
 * ours that records queries and never answers.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrivateCa } from '../../peers/ca.js';
import { freePort } from '../../peers/ports.js';
import { connectCandidates, connectToDomain, ConnectToDomainError, resolveCandidates } from '../../runtime/net/resolve.js';
import type { Candidate } from '../../runtime/net/srv.js';
import { s2sTrust, verifyServiceIdentity } from '../../runtime/tls/index.js';

const LO = '127.0.0.1';
const ca = createPrivateCa();
const otherCa = createPrivateCa('another CA');
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
/** The SNI server name of every TLS connection the listeners accepted. */
const sniSeen: (string | false)[] = [];

/** A listener on loopback; `tls` makes it direct TLS (XEP-0368), `silent` accepts TCP and never speaks. */
async function listen(opts: { tls?: { certPem: string; keyPem: string }; silent?: boolean } = {}): Promise<number> {
  const onSocket = (s: net.Socket): void => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
    if (!opts.silent && !opts.tls) s.end('hello\n');
  };
  const server = opts.tls && !opts.silent
    ? tls.createServer({ cert: opts.tls.certPem, key: opts.tls.keyPem, ALPNProtocols: ['xmpp-server', 'xmpp-client'] }, (s) => {
        onSocket(s);
        sniSeen.push((s as tls.TLSSocket & { servername: string | false }).servername);
        s.end('hello over tls\n');
      })
    : net.createServer(onSocket);
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, LO, r));
  servers.push(server);
  return (server.address() as net.AddressInfo).port;
}

/** A loopback port nothing listens on. */
const deadPort = (): Promise<number> => freePort();

const cand = (port: number, directTls = false, host = LO): Candidate => ({ host, port, directTls, source: 'srv' });

/** A real Resolver whose only DNS server is a UDP socket of ours that records each query and never answers. */
let dns: UdpSocket;
let queries = 0;
let silentResolver: Resolver;

beforeAll(async () => {
  dns = createSocket('udp4');
  dns.on('message', () => void queries++);
  await new Promise<void>((r) => dns.bind(0, LO, r));
  silentResolver = new Resolver({ timeout: 100, tries: 1 });
  silentResolver.setServers([`${LO}:${dns.address().port}`]);
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  dns.close();
});

describe('trying the candidates in order (RFC 6120 §3.2.1 steps 6-7)', () => {
  it('a dead first candidate is skipped to the second; the refusal is kept', async () => {
    const [dead, live] = [await deadPort(), await listen()];
    const c = await connectCandidates('b.test', 'xmpp-server', [cand(dead), cand(live)], { resolver: silentResolver });
    expect(c.candidate.port).toBe(live);
    expect(c.address).toBe(LO);
    expect(c.failed).toEqual([{ candidate: cand(dead), address: LO, failure: 'refused', reason: expect.stringContaining('ECONNREFUSED') }]);
    c.socket.destroy();
  });

  it('every candidate refused: remote-server-not-found (§8.3.3.16), every attempt in the message', async () => {
    const [d1, d2] = [await deadPort(), await deadPort()];
    const err = await connectCandidates('b.test', 'xmpp-server', [cand(d1), cand(d2)], { resolver: silentResolver }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectToDomainError);
    const e = err as ConnectToDomainError;
    expect(e.condition).toBe('remote-server-not-found');
    expect(e.attempts.map((a) => [a.candidate.port, a.failure])).toEqual([
      [d1, 'refused'],
      [d2, 'refused'],
    ]);
    expect(e.message).toContain(`cannot reach xmpp-server service of b.test (remote-server-not-found, RFC 6120 §3.2)`);
    expect(e.message).toContain(`${LO}:${d1} [srv]: refused`);
    expect(e.message).toContain(`${LO}:${d2} [srv]: refused`);
  });

  it('an attempt that hangs times out (its own timeout) and the next is tried; all hanging: remote-server-timeout (§8.3.3.17)', async () => {
    const silent = await listen({ silent: true });
    const live = await listen({ tls: ca.issueServer('b.test') });
    const started = Date.now();
    const c = await connectCandidates('b.test', 'xmpp-server', [cand(silent, true), cand(live, true)], { attemptTimeoutMs: 300, tls: { ca: ca.certPem } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(c.candidate.port).toBe(live);
    expect(c.failed).toEqual([{ candidate: cand(silent, true), address: LO, failure: 'timeout', reason: 'no TLS handshake within 300 ms' }]);
    c.socket.destroy();

    const err = (await connectCandidates('b.test', 'xmpp-server', [cand(silent, true)], { attemptTimeoutMs: 200 }).catch((x: unknown) => x)) as ConnectToDomainError;
    expect(err.condition).toBe('remote-server-timeout');
    expect(err.attempts[0]).toMatchObject({ failure: 'timeout' });
  });

  it('an abort signal ends the process with its reason', async () => {
    const silent = await listen({ silent: true });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('stopped by the test')), 50);
    await expect(connectCandidates('b.test', 'xmpp-server', [cand(silent, true)], { attemptTimeoutMs: 5_000, signal: ac.signal })).rejects.toThrow('stopped by the test');
  });
});

describe('direct TLS candidates (XEP-0368 §3) and RFC 6125 identity', () => {
  it('a certificate from the private CA for the source domain verifies; SNI and ALPN are set', async () => {
    const port = await listen({ tls: ca.issueServer('b.test') });
    // The candidate's host is an address: the reference identity is the source domain (RFC 6125 §6.2.1).
    const c = await connectCandidates('b.test', 'xmpp-server', [cand(port, true)], { tls: { ca: ca.certPem } });
    const s = c.socket as tls.TLSSocket;
    expect(s.authorized).toBe(true);
    expect(s.alpnProtocol).toBe('xmpp-server');
    await expect.poll(() => sniSeen).toContain('b.test');
    expect(verifyServiceIdentity(s.getPeerCertificate().raw, 'b.test', 'xmpp-server')).toMatchObject({ ok: true, matched: 'srv-id', value: '_xmpp-server.b.test' });
    s.destroy();
  });

  it('the SRV target is never the reference identity: a certificate for the target host, not the domain, is refused', async () => {
    // An attacker who controls DNS points b.test's SRV at a host of theirs with a valid certificate for that host.
    // (Here the target host is 'localhost', reached at 127.0.0.1.)
    const port = await listen({ tls: ca.issueServer('localhost') });
    const err = (await connectCandidates('b.test', 'xmpp-server', [cand(port, true)], { tls: { ca: ca.certPem } }).catch((x: unknown) => x)) as ConnectToDomainError;
    expect(err.attempts[0]).toMatchObject({ failure: 'tls', reason: expect.stringContaining("certificate does not identify xmpp-server service 'b.test'; it presents SRV-IDs [_xmpp-client.localhost, _xmpp-server.localhost]") });
  });

  it('a wrong-name certificate is refused with a clear reason, the next candidate is tried', async () => {
    const wrong = await listen({ tls: ca.issueWrongName('evil.test') });
    const right = await listen({ tls: ca.issueServer('b.test') });
    const c = await connectCandidates('b.test', 'xmpp-server', [cand(wrong, true), cand(right, true)], { tls: { ca: ca.certPem } });
    expect(c.candidate.port).toBe(right);
    expect(c.failed).toHaveLength(1);
    expect(c.failed[0]).toMatchObject({ failure: 'tls' });
    expect(c.failed[0]!.reason).toMatch(/^ERR_TLS_CERT_ALTNAME_INVALID: Service identity check failed \(RFC 6125 §6\): certificate does not identify xmpp-server service 'b\.test'; it presents SRV-IDs \[_xmpp-client\.evil\.test, _xmpp-server\.evil\.test\]/);
    c.socket.destroy();
  });

  it('a certificate from a CA we do not trust is refused (the chain, before identity)', async () => {
    const port = await listen({ tls: otherCa.issueServer('b.test') });
    const err = (await connectCandidates('b.test', 'xmpp-server', [cand(port, true)], { tls: { ca: ca.certPem } }).catch((x: unknown) => x)) as ConnectToDomainError;
    expect(err.condition).toBe('remote-server-not-found');
    expect(err.attempts[0]).toMatchObject({ failure: 'tls', reason: expect.stringMatching(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY): /) });
  });

  it('a client certificate is presented when given (s2s, RFC 6120 §13.7.1)', async () => {
    const mine = ca.issueServer('a.test');
    const theirs = ca.issueServer('b.test');
    const server = tls.createServer({ cert: theirs.certPem, key: theirs.keyPem, requestCert: true, ca: ca.certPem });
    const got = new Promise<string | undefined>((r) => server.once('secureConnection', (s) => r(verifyServiceIdentity(s.getPeerCertificate().raw, 'a.test', 'xmpp-server').ok ? 'a.test' : undefined)));
    await new Promise<void>((r) => server.listen(0, LO, r));
    servers.push(server);
    const port = (server.address() as net.AddressInfo).port;
    const c = await connectCandidates('b.test', 'xmpp-server', [cand(port, true)], { tls: { ...s2sTrust({ ca: ca.certPem }), cert: mine.certPem, key: mine.keyPem } });
    expect(await got).toBe('a.test');
    c.socket.destroy();
  });
});

describe('overrides (RFC 6120 §3.2.3) and the DNS answers', () => {
  it('an override wins over DNS: no query is sent', async () => {
    const live = await listen();
    const before = queries;
    const r = await resolveCandidates('B.Test', 'xmpp-server', { resolver: silentResolver, overrides: { 'b.test': `${LO}:${live}` } });
    expect(r.list).toEqual({ kind: 'candidates', candidates: [{ host: LO, port: live, directTls: false, source: 'override' }] });
    const c = await connectToDomain('b.test', 'xmpp-server', { resolver: silentResolver, overrides: { 'b.test': `${LO}:${live}` } });
    expect(c.candidate.source).toBe('override');
    c.socket.destroy();
    expect(queries).toBe(before);
  });

  it("an override's host name goes to the operating system's resolver (localhost)", async () => {
    const live = await listen();
    const c = await connectToDomain('b.test', 'xmpp-client', { resolver: silentResolver, overrides: { 'b.test': `localhost:${live}` } });
    expect(c.address).toBe('localhost');
    c.socket.destroy();
  });

  it('a bad override is a clear error before anything is sent', async () => {
    await expect(connectToDomain('b.test', 'xmpp-server', { overrides: { 'b.test': 'b.test:99999' } })).rejects.toThrow(/override 'b\.test:99999'/);
  });

  it('no DNS answer at all (§3.2.1 step 9): the fallback is taken, both SRV queries and the A/AAAA lookups named in the error', async () => {
    const before = queries;
    const err = (await connectToDomain('nowhere.test', 'xmpp-server', { resolver: silentResolver }).catch((x: unknown) => x)) as ConnectToDomainError;
    expect(err).toBeInstanceOf(ConnectToDomainError);
    expect(queries - before).toBeGreaterThanOrEqual(4); // _xmpp-server, _xmpps-server, A, AAAA
    expect(err.condition).toBe('remote-server-not-found');
    expect(err.attempts).toEqual([
      {
        candidate: { host: 'nowhere.test', port: 5269, directTls: false, source: 'fallback' },
        failure: 'dns',
        reason: 'no A/AAAA record for nowhere.test (A: ETIMEOUT, AAAA: ETIMEOUT)',
      },
    ]);
    expect(err.message).toContain('DNS _xmpp-server._tcp.nowhere.test: no answer (ETIMEOUT)');
    expect(err.message).toContain('DNS _xmpps-server._tcp.nowhere.test: no answer (ETIMEOUT)');
  });

  it('directTls: false asks for the _xmpp-* record only', async () => {
    const r = await resolveCandidates('nowhere.test', 'xmpp-client', { resolver: silentResolver, directTls: false });
    expect(r.lookups).toEqual(['_xmpp-client._tcp.nowhere.test: no answer (ETIMEOUT)']);
  });
});

describe('s2s trust anchors (RFC 6120 §13.7.2.1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xmppkit-trust-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("the system store plus a configured CA file; the file's CA verifies a peer's chain", async () => {
    const file = join(dir, 'ca.pem');
    writeFileSync(file, ca.certPem + otherCa.certPem);
    const trust = s2sTrust({ caFile: file });
    expect(trust.ca.length).toBe(tls.rootCertificates.length + 2);
    expect(trust.ca.slice(0, tls.rootCertificates.length)).toEqual([...tls.rootCertificates]);
    const port = await listen({ tls: otherCa.issueServer('b.test') });
    const c = await connectCandidates('b.test', 'xmpp-server', [cand(port, true)], { tls: trust });
    expect((c.socket as tls.TLSSocket).authorized).toBe(true);
    c.socket.destroy();
    expect(s2sTrust({ system: false, ca: ca.certPem }).ca).toHaveLength(1);
  });

  it('a missing file, a file without a certificate, no anchors at all: clear errors', () => {
    expect(() => s2sTrust({ caFile: join(dir, 'missing.pem') })).toThrow(`CA file ${join(dir, 'missing.pem')}: ENOENT`);
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    expect(() => s2sTrust({ caFile: junk })).toThrow(`CA file ${junk}: no PEM certificate in it`);
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(() => s2sTrust({ caFile: broken })).toThrow(/certificate 1 does not parse/);
    expect(() => s2sTrust({ system: false })).toThrow('no trust anchors');
  });
});
