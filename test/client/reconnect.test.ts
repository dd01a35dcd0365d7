/**
 * RFC 6120 §3.3 reconnection against our server: the connection is cut under the client
 * (a loopback proxy destroys it: no closing tag, §4.6.1) and the server shuts down and comes
 * back (`<system-shutdown/>`, §4.9.3.20). The client gets online again by itself; stanzas
 * sent while it was offline are queued and delivered after the reconnect.
 */
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { child, el, text } from '../../machines/xml.js';
import { createClient, type XmppClient } from '../../runtime/client/index.js';
import { nextEvent, nextStanza, removeDir, startServer, USERS, type Running } from './fixture.js';

/** A TCP relay to the server whose connections the test can cut. */
async function proxyTo(port: number): Promise<{ port: number; cut(): number; close(): Promise<void> }> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect({ host: '127.0.0.1', port });
    const pair: [net.Socket, net.Socket] = [inbound, outbound];
    pairs.add(pair);
    inbound.pipe(outbound).pipe(inbound);
    const drop = (): void => {
      pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      const n = pairs.size;
      for (const [a, b] of [...pairs]) {
        a.resetAndDestroy();
        b.destroy();
      }
      return n;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const body = (e: Parameters<typeof child>[0]): string | undefined => {
  const b = child(e, 'body', NS.CLIENT);
  return b ? text(b) : undefined;
};

let running: Running;
beforeAll(async () => {
  running = await startServer();
});
afterAll(async () => {
  await running.stop();
  removeDir(running.dataDir);
});

describe('reconnection (RFC 6120 §3.3)', { timeout: 60_000 }, () => {
  it('reconnects after the TCP connection is cut, and delivers what was sent meanwhile', async () => {
    const proxy = await proxyTo(running.port);
    const alice = createClient({
      jid: 'alice@localhost',
      password: USERS.alice,
      host: '127.0.0.1',
      port: proxy.port,
      tls: { ca: running.certPem },
      reconnect: { min: 10, initial: 100, max: 400 },
    });
    const bob = createClient({ jid: 'bob@localhost', password: USERS.bob, host: '127.0.0.1', port: running.port, tls: { ca: running.certPem } });
    try {
      const first = await alice.start();
      expect(alice.tlsSessionReused).toBe(false); // a full handshake the first time
      await bob.start();
      const offline = nextEvent(alice, 'offline');
      const scheduled = nextEvent(alice, 'reconnecting');
      expect(proxy.cut()).toBe(1);
      expect(await offline).toMatchObject({ kind: 'transport', rfc: '6120 §4.6.1' });
      const r = (await scheduled) as { attempt: number; delayMs: number };
      expect(r.attempt).toBe(1);
      expect(r.delayMs).toBeGreaterThanOrEqual(10);
      expect(r.delayMs).toBeLessThanOrEqual(100);

      // Sent while offline: queued (§4.3.5), then flushed on the next 'online'.
      const atBob = nextStanza(bob, (e) => body(e) === 'sent while offline', 10_000);
      const online = nextEvent(alice, 'online');
      alice.send(el('message', NS.CLIENT, { to: 'bob@localhost', type: 'chat' }, el('body', NS.CLIENT, {}, 'sent while offline')));
      expect(alice.queued).toBe(1);
      const second = (await online) as string;
      expect(second).toMatch(/^alice@localhost\//);
      expect(second).not.toBe(first); // a new stream, a new server-generated resource (§7.6)
      expect((await atBob).attrs['from']).toBe(second);
      // §3.3: "RECOMMENDED to make use of TLS session resumption when reconnecting".
      expect(alice.tlsSessionReused).toBe(true);
    } finally {
      await Promise.all([alice.stop(), bob.stop()]);
      await proxy.close();
    }
  });

  it('reconnects after the server shuts down (<system-shutdown/>) and comes back on the same port', async () => {
    const dataDir = running.dataDir + '-restart';
    let srv = await startServer({}, dataDir);
    const port = srv.port;
    const alice = createClient({
      jid: 'alice@localhost',
      password: USERS.alice,
      host: '127.0.0.1',
      port,
      tls: { ca: srv.certPem },
      reconnect: { min: 50, initial: 150, max: 300 },
    });
    const outcomes: string[] = [];
    alice.on('offline', (o) => outcomes.push(`${o.kind}:${o.condition ?? ''}`));
    try {
      await alice.start();
      const errored = nextEvent(alice, 'error');
      await srv.stop();
      expect(((await errored) as Error).message).toMatch(/stream error from the server: <system-shutdown\/> \(RFC 6120 §4\.9\.3\.20\)/);
      // While the server is down attempts are refused and retried with growing windows.
      await new Promise((r) => setTimeout(r, 400));
      const online = nextEvent(alice, 'online', 15_000);
      srv = await startServer({ port }, dataDir); // same data dir: same certificate and accounts
      expect(await online).toMatch(/^alice@localhost\//);
      expect(outcomes[0]).toBe('error-received:system-shutdown');
      expect(outcomes.length).toBeGreaterThan(1); // at least one refused attempt while it was down
      expect(outcomes.slice(1).every((o) => o.startsWith('transport'))).toBe(true);
    } finally {
      await alice.stop();
      await srv.stop();
      removeDir(dataDir);
    }
  });

  it('does not reconnect after a stream conflict (§4.9.3.3: another session took the resource)', async () => {
    const opts = { jid: 'alice@localhost/phone', password: USERS.alice, host: '127.0.0.1', port: running.port, tls: { ca: running.certPem } };
    const first = createClient({ ...opts, reconnect: { initial: 50, max: 100 } });
    const second = createClient(opts);
    let reconnects = 0;
    first.on('reconnecting', () => reconnects++);
    try {
      await first.start();
      const gone = nextEvent(first, 'offline');
      await second.start(); // the server's default policy: the newest session wins (§7.7.2.2)
      expect(await gone).toMatchObject({ kind: 'error-received', condition: 'conflict' });
      await new Promise((r) => setTimeout(r, 300));
      expect(reconnects).toBe(0);
      expect(first.status).toBe('stopped');
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});
