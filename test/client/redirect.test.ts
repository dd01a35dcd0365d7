/**
 * RFC 6120 §4.9.3.19 `<see-other-host/>`: the client reconnects where the server says, with
 * the same 'to' and the same certificate checks, and gives up after a few successive redirects.
 */
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, createClient, MAX_REDIRECTS, parseSeeOtherHost } from '../../runtime/client/index.js';
import { removeDir, startServer, USERS, type Running } from './fixture.js';

describe('parseSeeOtherHost', () => {
  it.each([
    ['example.net', { host: 'example.net', port: 5222 }],
    ['  example.net:9222\n', { host: 'example.net', port: 9222 }],
    ['127.0.0.1:5333', { host: '127.0.0.1', port: 5333 }],
    ['[2001:41D0:1:A49b::1]:9222', { host: '2001:41D0:1:A49b::1', port: 9222 }], // the §4.9.3.19 example
    ['[::1]', { host: '::1', port: 5222 }],
  ])('%j → %o', (text, expected) => {
    expect(parseSeeOtherHost(text)).toEqual(expected);
  });
  it.each(['', undefined, 'a@b', 'host/x', 'host:0', 'host:70000', 'host:x', '::1', '[nope]:1'])('%j is refused', (text) => {
    expect(parseSeeOtherHost(text)).toBeUndefined();
  });
});

/** A server that answers every stream header with `<see-other-host>TEXT</see-other-host>`. */
async function redirector(target: () => string): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    let seen = '';
    socket.on('data', (d) => {
      seen += d.toString('utf8');
      if (!seen.includes('<stream:stream')) return;
      // §4.9.1.1: the error follows our response header; then the closing tag.
      socket.end(
        `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='r${count}' version='1.0'>` +
          `<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>${target()}</see-other-host></stream:error></stream:stream>`,
      );
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { port, connections: () => count, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let running: Running;
beforeAll(async () => {
  running = await startServer();
});
afterAll(async () => {
  await running.stop();
  removeDir(running.dataDir);
});

describe('following <see-other-host/> (§4.9.3.19)', () => {
  it('reconnects at the named host:port and logs in there, verifying the same identity', async () => {
    const r = await redirector(() => `127.0.0.1:${running.port}`);
    const c = createClient({ jid: 'alice@localhost', password: USERS.alice, host: '127.0.0.1', port: r.port, tls: { ca: running.certPem } });
    const hops: unknown[] = [];
    c.on('redirected', (h) => hops.push(h));
    try {
      expect(await c.start()).toMatch(/^alice@localhost\//);
      expect(hops).toEqual([{ host: '127.0.0.1', port: running.port, count: 1 }]);
      expect(r.connections()).toBe(1);
    } finally {
      await c.stop();
      await r.close();
    }
  });

  it(`gives up after ${MAX_REDIRECTS} successive redirects and reports the condition`, async () => {
    let self = 0;
    const r = await redirector(() => `127.0.0.1:${self}`);
    self = r.port;
    const c = createClient({ jid: 'alice@localhost', password: USERS.alice, host: '127.0.0.1', port: r.port, tls: { ca: running.certPem } });
    try {
      const err = (await c.start().catch((e: unknown) => e)) as ClientError;
      expect(err).toBeInstanceOf(ClientError);
      expect(err.message).toBe(`stream error from the server: <see-other-host/> (RFC 6120 §4.9.3.19): 127.0.0.1:${r.port}`);
      expect(r.connections()).toBe(1 + MAX_REDIRECTS);
    } finally {
      await r.close();
    }
  });
});
