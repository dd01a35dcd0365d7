/**
 * Bad input over a real socket ends in the right stream error, the closing tag and a
 * closed socket (RFC 6120 §4.9.1.1), never a crash or a hang; limits (§13.12) hold.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { el } from '../../machines/xml.js';
import { eventually, HEADER, RawClient, streamErrorCondition } from './client.js';
import { startServer, type Running } from './fixture.js';

let running: Running | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** Send `bytes` on a fresh connection; expect `<condition/>`, `</stream:stream>` and the server closing TCP. */
async function expectStreamError(port: number, bytes: string | Uint8Array, condition: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.write(bytes);
  const error = await c.element('error', NS.STREAMS);
  expect(streamErrorCondition(error)).toBe(condition);
  await c.next((e) => e.type === 'STREAM_CLOSE', 3000, '</stream:stream>');
  expect(c.received.endsWith('</stream:stream>')).toBe(true);
  // §4.4: the server waits for our closing tag (closeWait = 400 ms here), then closes TCP anyway.
  await c.waitClosed(3000);
  return c;
}

describe('RFC 6120 §4.9.3.13 / §11 malformed input', () => {
  it('garbage bytes → <not-well-formed/>, closing tag, socket closed, no connection left', async () => {
    running = await startServer();
    await expectStreamError(running.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'not-well-formed');
    await eventually(() => running!.server.connectionCount === 0, 3000, 'connection count 0');
  });

  it('garbage inside an open stream → <not-well-formed/> after the header and features', async () => {
    running = await startServer();
    const c = await expectStreamError(running.port, `${HEADER()}<message><<</message>`, 'not-well-formed');
    expect(c.received.startsWith("<?xml version='1.0'?><stream:stream")).toBe(true);
  });

  it('the peer answering our close tag gets TCP closed at once (§4.4)', async () => {
    running = await startServer({ policy: { timeouts: { closeWait: 20_000 } } });
    const c = await RawClient.connect(running.port);
    c.write(`${HEADER()}<a/>`);
    expect(streamErrorCondition(await c.element('error', NS.STREAMS))).toBe('unsupported-stanza-type');
    await c.next((e) => e.type === 'STREAM_CLOSE');
    const t0 = Date.now();
    c.write('</stream:stream>');
    await c.waitClosed(2000);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it.each([
    ['comment', `${HEADER()}<!-- hidden -->`],
    ['processing instruction', `${HEADER()}<?evil instruction?>`],
    ['DTD', `<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY x 'y'>]>${HEADER().slice(21)}`],
    ['unknown entity', `${HEADER()}<message to='localhost'><body>&lol;</body></message>`],
  ])('restricted XML (§11.1): %s → <restricted-xml/>', async (_what, bytes) => {
    running = await startServer();
    await expectStreamError(running.port, bytes, 'restricted-xml');
  });

  it('wrong stream namespace → <invalid-namespace/> (§4.9.3.10)', async () => {
    running = await startServer();
    const bad = `<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='urn:not:streams'>`;
    await expectStreamError(running.port, bad, 'invalid-namespace');
  });

  it("a header for another domain → <host-unknown/> (§4.9.3.6)", async () => {
    running = await startServer();
    await expectStreamError(running.port, HEADER('example.org'), 'host-unknown');
  });

  it('an oversize stanza → <policy-violation/> (§4.9.3.14) while it is still arriving', async () => {
    running = await startServer({ limits: { maxStanzaBytes: 1024 } });
    const c = await RawClient.connect(running.port);
    c.open();
    await c.element('features', NS.STREAMS);
    c.write(`<message to='localhost'><body>${'x'.repeat(4096)}`); // never completed
    const error = await c.element('error', NS.STREAMS);
    expect(streamErrorCondition(error)).toBe('policy-violation');
    await c.waitClosed();
  });
});

describe('RFC 6120 §4.6 silent peers, §4.3 negotiation timeout', () => {
  it('silence before the header → <connection-timeout/> after the negotiation timeout', async () => {
    running = await startServer({ policy: { timeouts: { negotiation: 300 } } });
    const c = await RawClient.connect(running.port);
    const t0 = Date.now();
    const error = await c.element('error', NS.STREAMS, 3000);
    expect(streamErrorCondition(error)).toBe('connection-timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    // §4.9.1.2: the server opened its stream before the error.
    expect(c.received.startsWith("<?xml version='1.0'?><stream:stream")).toBe(true);
    await c.waitClosed();
    await eventually(() => running!.server.connectionCount === 0);
  });
});

describe('limits', () => {
  it('max connections: one more gets <resource-constraint/> (§4.9.3.17); a freed slot is usable again', async () => {
    running = await startServer({ limits: { maxConnections: 2 } });
    const a = await RawClient.connect(running.port);
    const b = await RawClient.connect(running.port);
    await eventually(() => running!.server.connectionCount === 2);
    await expectStreamError(running.port, HEADER(), 'resource-constraint');
    a.destroy();
    await eventually(() => running!.server.connectionCount === 1);
    const d = await RawClient.connect(running.port);
    d.open();
    const features = await d.element('features', NS.STREAMS);
    expect(features.children.length).toBeGreaterThan(0);
    b.destroy();
    d.destroy();
    await eventually(() => running!.server.connectionCount === 0);
  });

  it('a peer over the byte rate is slowed down, not cut off, and loses nothing', async () => {
    running = await startServer({ limits: { bytesPerSecond: 4000, burstBytes: 1000 } });
    const c = await RawClient.connect(running.port);
    c.open();
    await c.element('features', NS.STREAMS);
    const t0 = Date.now();
    // 3000 bytes of whitespace keepalive (§4.6.1) over a 1000-byte burst at 4000 B/s: ≥ 500 ms of shaping.
    c.write(' '.repeat(3000));
    c.send(el('starttls', NS.TLS));
    await c.element('proceed', NS.TLS, 5000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(running.logs.some((r) => r.event === 'connection.shaped')).toBe(true);
    c.destroy();
  });
});
