/**
 * A process inside one host of a test network (peers/netns.ts) for resolve-netns.test.ts.
 * One JSON argument says what to do; one JSON object per line on stdout says what happened.
 *
 *   {"listen": [Listener...]}      start them, print {"listening": n}, run until SIGTERM
 *   {"connect": {domain, service, ca, attemptTimeoutMs?}}
 *                                  connectToDomain (runtime/net/resolve.ts) through the
 *                                  namespace's /etc/resolv.conf (dnsmasq), read the first
 *                                  line the listener says, print the outcome, exit 0
 *   {"login": {jid, password, ca}} our client with no host: found by SRV, online, stop
 *
 * Listener: {tcp: {host, port, name}}: says "hello NAME" and closes;
 *           {tls: {host, port, name, cert, key}}: the same over direct TLS (XEP-0368);
 *           {server: {host, port, domain, cert, key, users, tls?}}: our XMPP server;
 *           {tlsProxy: {host, port, cert, key, to: {host, port}}}: direct TLS terminated
 *           here and the plaintext passed on (an XEP-0368 "direct TLS load balancer").
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { createClient } from '../../runtime/client/index.js';
import { connectToDomain, ConnectToDomainError } from '../../runtime/net/resolve.js';
import { createServer } from '../../runtime/server/index.js';

type Listener =
  | { tcp: { host: string; port: number; name: string } }
  | { tls: { host: string; port: number; name: string; cert: string; key: string } }
  | { server: { host: string; port: number; domain: string; cert: string; key: string; users: Record<string, string>; tls?: 'required' | 'optional' } }
  | { tlsProxy: { host: string; port: number; cert: string; key: string; to: { host: string; port: number } } };

type Command =
  | { listen: Listener[] }
  | { connect: { domain: string; service: 'xmpp-client' | 'xmpp-server'; ca: string; attemptTimeoutMs?: number } }
  | { login: { jid: string; password: string; ca: string } };

const say = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const cmd = JSON.parse(process.argv[2] ?? '{}') as Command;

function listenOn(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

async function listen(listeners: Listener[]): Promise<void> {
  const closers: (() => Promise<unknown>)[] = [];
  for (const l of listeners) {
    if ('tcp' in l) {
      const s = net.createServer((c) => c.end(`hello ${l.tcp.name}\n`));
      await listenOn(s, l.tcp.host, l.tcp.port);
      closers.push(() => new Promise((r) => s.close(r)));
    } else if ('tls' in l) {
      const s = tls.createServer({ cert: readFileSync(l.tls.cert), key: readFileSync(l.tls.key), ALPNProtocols: ['xmpp-server', 'xmpp-client'] }, (c) => c.end(`hello ${l.tls.name}\n`));
      s.on('tlsClientError', () => undefined);
      await listenOn(s, l.tls.host, l.tls.port);
      closers.push(() => new Promise((r) => s.close(r)));
    } else if ('server' in l) {
      const o = l.server;
      const server = createServer({ domain: o.domain, host: o.host, port: o.port, dataDir: mkdtempSync(join(tmpdir(), 'xmppkit-ns-')), cert: o.cert, key: o.key, logLevel: 'error', ...(o.tls ? { policy: { tls: o.tls } } : {}) });
      for (const [u, p] of Object.entries(o.users)) server.accounts.add(u, p);
      await server.listen();
      closers.push(() => server.close());
    } else {
      const o = l.tlsProxy;
      const s = tls.createServer({ cert: readFileSync(o.cert), key: readFileSync(o.key) }, (c) => {
        const up = net.connect(o.to);
        c.pipe(up).pipe(c);
        const end = (): void => void (c.destroy(), up.destroy());
        c.on('error', end).on('close', end);
        up.on('error', end).on('close', end);
      });
      s.on('tlsClientError', () => undefined);
      await listenOn(s, o.host, o.port);
      closers.push(() => new Promise((r) => s.close(r)));
    }
  }
  say({ listening: listeners.length });
  process.once('SIGTERM', () => void Promise.allSettled(closers.map((c) => c())).then(() => process.exit(0)));
}

async function connect(o: Extract<Command, { connect: unknown }>['connect']): Promise<void> {
  try {
    const c = await connectToDomain(o.domain, o.service, { tls: { ca: readFileSync(o.ca, 'utf8') }, attemptTimeoutMs: o.attemptTimeoutMs ?? 3_000 });
    const line = await new Promise<string>((resolve) => {
      let buf = '';
      c.socket.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(buf.trim());
      });
      c.socket.on('end', () => resolve(buf.trim()));
    });
    const authorized = c.socket instanceof tls.TLSSocket ? c.socket.authorized : undefined;
    say({ ok: true, candidate: c.candidate, address: c.address, said: line, authorized, failed: c.failed, lookups: c.lookups });
    c.socket.destroy();
  } catch (err) {
    if (!(err instanceof ConnectToDomainError)) throw err;
    say({ ok: false, condition: err.condition, attempts: err.attempts, unavailable: err.unavailable, message: err.message });
  }
}

async function login(o: Extract<Command, { login: unknown }>['login']): Promise<void> {
  const client = createClient({ jid: o.jid, password: o.password, tls: { ca: readFileSync(o.ca, 'utf8') } });
  client.on('located', (l) => say({ located: l }));
  let starttls = false;
  client.on('wire', (w) => void (w.direction === 'out' && w.text.includes('<starttls') && (starttls = true)));
  const jid = await client.start();
  say({ online: jid, starttls, mechanism: client.mechanism });
  say({ stopped: (await client.stop()).kind });
}

const timer = setTimeout(() => {
  say({ error: 'timed out after 20 s' });
  process.exit(2);
}, 20_000);
const work = 'listen' in cmd ? listen(cmd.listen) : 'connect' in cmd ? connect(cmd.connect) : login(cmd.login);
work.then(
  () => {
    if ('listen' in cmd) clearTimeout(timer);
    else process.exit(0);
  },
  (err: unknown) => {
    say({ error: (err as Error).message });
    process.exit(1);
  },
);
