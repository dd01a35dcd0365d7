/**
 * How the client finds its server (RFC 6120 §3.2) on loopback: with no host or port
 * configured it resolves the JID's domain (runtime/net/resolve.ts) and logs in where that
 * leads; an explicit host/port keeps the old behaviour, no DNS at all. SRV over real DNS:
 * test/net/resolve-netns.test.ts.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type ClientOptions, type XmppClient } from '../../runtime/client/index.js';
import { freePort } from '../../peers/ports.js';
import { removeDir, startServer, USERS, type Running } from './fixture.js';

let running: Running;
const clients: XmppClient[] = [];
/** A real Resolver whose only server is a UDP socket of ours that counts queries and never answers. */
let dns: UdpSocket;
let queries = 0;
let silent: Resolver;

beforeAll(async () => {
  running = await startServer();
  dns = createSocket('udp4');
  dns.on('message', () => void queries++);
  await new Promise<void>((r) => dns.bind(0, '127.0.0.1', r));
  silent = new Resolver({ timeout: 100, tries: 1 });
  silent.setServers([`127.0.0.1:${dns.address().port}`]);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await running.stop();
  removeDir(running.dataDir);
  dns.close();
});

function client(opts: Partial<ClientOptions>, logs: string[] = []): XmppClient {
  const c = createClient({
    jid: 'alice@localhost',
    password: USERS.alice,
    tls: { ca: running.certPem },
    logger: (level, message, data) => logs.push(`${level} ${message} ${JSON.stringify(data ?? {})}`),
    ...opts,
  });
  clients.push(c);
  return c;
}

describe('client: the server found by name (RFC 6120 §3.2)', () => {
  it('no host or port: the domain is resolved, a static override (§3.2.3) leads to our server, login over STARTTLS', async () => {
    const logs: string[] = [];
    const c = client({ dns: { resolver: silent, overrides: { localhost: `127.0.0.1:${running.port}` } } }, logs);
    expect(c.resolvesByName).toBe(true);
    const located = new Promise((r) => c.once('located', r));
    const before = queries;
    const jid = await c.start();
    expect(jid).toMatch(/^alice@localhost\//);
    expect(await located).toEqual({ host: '127.0.0.1', address: '127.0.0.1', port: running.port, directTls: false, source: 'override' });
    expect(queries).toBe(before); // the override won: no DNS query
    expect(logs[0]).toBe('info resolving {"domain":"localhost","service":"xmpp-client"}');
    expect(c.tlsSessionReused).toBe(false);
    await c.stop();
  });

  it('nothing answers where the override points: start() fails naming every attempt, each logged as it fails', async () => {
    const dead = await freePort();
    const logs: string[] = [];
    const c = client({ dns: { resolver: silent, overrides: { localhost: `127.0.0.1:${dead}` } } }, logs);
    const err = (await c.start().then(() => new Error("online"), (e: unknown) => e)) as Error;
    expect(err.message).toContain('cannot reach xmpp-client service of localhost (remote-server-not-found, RFC 6120 §3.2)');
    expect(err.message).toContain(`127.0.0.1:${dead} [override]: refused`);
    expect(logs.some((l) => l.startsWith('warn connection attempt failed') && l.includes('"failure":"refused"'))).toBe(true);
  });

  it('no DNS answer: the §3.2.2 fallback (the domain on 5222) is tried, and the error says what DNS said', async () => {
    const c = client({ dns: { resolver: silent } });
    const err = (await c.start().then(() => new Error("online"), (e: unknown) => e)) as Error;
    expect(err.message).toContain('localhost:5222 [fallback]: dns: no A/AAAA record for localhost (A: ETIMEOUT, AAAA: ETIMEOUT)');
    expect(err.message).toContain('DNS _xmpp-client._tcp.localhost: no answer (ETIMEOUT)');
    expect(err.message).toContain('DNS _xmpps-client._tcp.localhost: no answer (ETIMEOUT)');
  });

  it('stop() while resolving abandons the attempt: stopped, nothing connects later', async () => {
    const logs: string[] = [];
    const c = client({ dns: { resolver: silent } }, logs);
    const started = c.start().then(() => new Error("online"), (e: unknown) => e as Error);
    expect(c.status).toBe('connecting');
    await c.stop();
    expect(c.status).toBe('stopped');
    expect((await started).message).toMatch(/stopped before the stream got online/);
    // The lookups in flight end (ETIMEOUT after 100 ms) and nothing follows them.
    await new Promise((r) => setTimeout(r, 400));
    expect(logs).toEqual(['info resolving {"domain":"localhost","service":"xmpp-client"}']);
  });

  it('an explicit host and port: no DNS at all, as before', async () => {
    const logs: string[] = [];
    const before = queries;
    const c = client({ host: '127.0.0.1', port: running.port, dns: { resolver: silent } }, logs);
    expect(c.resolvesByName).toBe(false);
    await c.start();
    expect(queries).toBe(before);
    expect(logs.some((l) => l.startsWith('info resolving'))).toBe(false);
    expect(logs[0]).toBe(`info connecting {"host":"127.0.0.1","port":${running.port}}`);
    await c.stop();
  });

  it('a port alone is explicit too: the JID domain on that port, no SRV', () => {
    expect(client({ port: running.port }).resolvesByName).toBe(false);
    expect(client({ host: 'localhost' }).resolvesByName).toBe(false);
  });
});
