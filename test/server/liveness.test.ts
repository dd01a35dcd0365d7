/**
 * Silent peers over real sockets (RFC 6120 §4.6, XEP-0199), 'from' checks (§4.9.3.9),
 * and arbitrary bytes from the network (§4.9.3, §11): always a stream error, a closing tag
 * and a closed socket, never a crash or a leaked connection.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { attr, child, el } from '../../machines/xml.js';
import { TokenBucket } from '../../runtime/server/rate-limit.js';
import { createLogger, type LogRecord } from '../../runtime/server/logger.js';
import { eventually, HEADER, login, RawClient, streamErrorCondition } from './client.js';
import { startServer, type Running } from './fixture.js';

let running: Running | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe('RFC 6120 §4.6.2 / XEP-0199: idle sessions are pinged', () => {
  it('a client that answers the ping stays connected; one that does not gets <connection-timeout/>', async () => {
    running = await startServer({ policy: { timeouts: { idle: 300, pingResponse: 400 } } });
    running.server.accounts.add('juliet', 'pw');
    const alive = await login(running.port, { username: 'juliet', password: 'pw', ca: running.ca, resource: 'alive' });
    const silent = await login(running.port, { username: 'juliet', password: 'pw', ca: running.ca, resource: 'silent' });

    // `alive` answers every ping of the server (from the domain to the full JID, XEP-0199 §4.2).
    const pings: Record<string, string>[] = [];
    let answering = true;
    void (async () => {
      while (answering) {
        const p = await alive.client.stanza((s) => s.name === 'iq' && child(s, 'ping', NS.PING) !== undefined, 10_000, 'server ping');
        pings.push({ ...p.attrs });
        alive.client.send(el('iq', NS.CLIENT, { type: 'result', id: attr(p, 'id'), to: 'localhost' }));
      }
    })().catch(() => undefined);

    await silent.client.stanza((s) => s.name === 'iq' && child(s, 'ping', NS.PING) !== undefined, 3000, 'server ping');
    const error = await silent.client.element('error', NS.STREAMS, 3000);
    expect(streamErrorCondition(error)).toBe('connection-timeout');
    await silent.client.waitClosed();
    expect(alive.client.closed).toBe(false);
    answering = false;
    expect(pings.length).toBeGreaterThan(0);
    expect(pings[0]).toMatchObject({ type: 'get', from: 'localhost', to: alive.jid });
    // The answered ping was consumed by the machine, not routed (no error came back for it).
    expect(alive.client.elements().filter((s) => attr(s, 'type') === 'error')).toEqual([]);
    alive.client.destroy();
    await eventually(() => running!.server.connectionCount === 0 && running!.server.sessionCount === 0);
  });
});

describe('close() with a peer that never answers', () => {
  it('the stream gets <system-shutdown/>; at the grace deadline its socket is destroyed; close() is idempotent', async () => {
    running = await startServer({ policy: { timeouts: { closeWait: 30_000 } }, limits: { shutdownGraceMs: 300 } });
    const c = await RawClient.connect(running.port);
    c.open();
    await c.element('features', NS.STREAMS);
    const first = running.server.close();
    const second = running.server.close();
    expect(second).toBe(first);
    await first;
    expect(streamErrorCondition(await c.element('error', NS.STREAMS))).toBe('system-shutdown');
    await c.waitClosed(2000);
    expect(running.logs.find((r) => r.event === 'shutdown.forced')).toMatchObject({ connections: 1 });
    expect(running.server.connectionCount).toBe(0);
  });
});

describe("RFC 6120 §4.9.3.9 'from' of client stanzas", () => {
  it("a stanza claiming another account's address ends the stream with <invalid-from/>; the bare JID is accepted", async () => {
    running = await startServer();
    running.server.accounts.add('juliet', 'pw');
    running.server.accounts.add('romeo', 'pw');
    const j = await login(running.port, { username: 'juliet', password: 'pw', ca: running.ca });
    const r = await login(running.port, { username: 'romeo', password: 'pw', ca: running.ca });
    j.client.send(el('message', NS.CLIENT, { to: r.jid, from: 'juliet@localhost', id: 'ok' }, el('body', NS.CLIENT, {}, 'x')));
    const got = await r.client.element('message', NS.CLIENT);
    expect(got.attrs).toMatchObject({ id: 'ok', from: j.jid }); // restamped with the full JID (§8.1.2.1)
    j.client.send(el('message', NS.CLIENT, { to: r.jid, from: 'nurse@localhost/x', id: 'spoof' }, el('body', NS.CLIENT, {}, 'x')));
    expect(streamErrorCondition(await j.client.element('error', NS.STREAMS))).toBe('invalid-from');
    await j.client.waitClosed();
    expect(r.client.elements().some((s) => attr(s, 'id') === 'spoof')).toBe(false);
    r.client.destroy();
  });
});

describe('arbitrary bytes (property)', () => {
  it('end in a stream error, a closing tag and a closed socket; no connection is left', async () => {
    running = await startServer({ policy: { timeouts: { negotiation: 1500, closeWait: 200 } } });
    const port = running.port;
    const server = running.server;
    // Bytes that cannot continue a stream: raw binary, or XML-ish text with a stray '<' or '&'.
    const garbage = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Uint8Array.from([0x00, ...b])),
      fc.string({ minLength: 1, maxLength: 40 }).map((s) => `${s}<<&>`),
    );
    await fc.assert(
      fc.asyncProperty(fc.boolean(), garbage, async (afterHeader, bytes) => {
        const c = await RawClient.connect(port);
        if (afterHeader) c.write(HEADER());
        c.write(bytes);
        const error = await c.element('error', NS.STREAMS, 3000);
        expect(streamErrorCondition(error)).toBeDefined();
        await c.next((e) => e.type === 'STREAM_CLOSE', 3000, '</stream:stream>');
        await c.waitClosed(3000);
        await eventually(() => server.connectionCount === 0, 3000, 'no connection left');
      }),
      { numRuns: 12 },
    );
  });
});

describe('TokenBucket and logger (units)', () => {
  it('the bucket allows a burst, then asks for the time the rate needs', () => {
    let now = 0;
    const b = new TokenBucket({ bytesPerSecond: 1000, burstBytes: 500, now: () => now });
    expect(b.take(500)).toBe(0);
    expect(b.take(250)).toBe(250); // 250 bytes of debt at 1000 B/s
    now += 100;
    expect(b.wait()).toBe(150);
    now += 150;
    expect(b.wait()).toBe(0);
    now += 10_000;
    expect(b.take(500)).toBe(0); // refilled only up to the burst
    expect(b.take(1)).toBeGreaterThan(0);
  });

  it('log records are JSON-ready objects filtered by level', () => {
    const seen: LogRecord[] = [];
    const log = createLogger('warn', (r) => seen.push(r));
    log.info('hidden');
    log.warn('shown', { conn: 1 });
    log.error('also', {});
    expect(seen.map((r) => [r.level, r.event])).toEqual([
      ['warn', 'shown'],
      ['error', 'also'],
    ]);
    expect(seen[0]).toMatchObject({ conn: 1 });
    expect(JSON.parse(JSON.stringify(seen[0]))).toEqual(seen[0]);
  });
});
