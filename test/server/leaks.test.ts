/**
 * No leaked timers, sockets or sessions: after sessions end in every way (clean close,
 * abrupt disconnect, stream error, shutdown) and the server stops, the process holds no more
 * timers or TCP handles than before the server started.
 */
import { describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { el } from '../../machines/xml.js';
import { eventually, HEADER, login, RawClient } from './client.js';
import { startServer } from './fixture.js';

function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

describe('resource leaks', () => {
  it('timers and TCP handles return to their baseline after sessions end and the server stops', async () => {
    const before = handles();
    const running = await startServer({ policy: { timeouts: { negotiation: 2000, idle: 1000 } } });
    running.server.accounts.add('juliet', 'pw');
    const clean = await login(running.port, { username: 'juliet', password: 'pw', ca: running.ca, resource: 'a' });
    const abrupt = await login(running.port, { username: 'juliet', password: 'pw', ca: running.ca, resource: 'b' });
    const survivor = await login(running.port, { username: 'juliet', password: 'pw', ca: running.ca, resource: 'c' });
    const broken = await RawClient.connect(running.port);
    broken.write(`${HEADER()}<<`);
    const unfinished = await RawClient.connect(running.port);
    unfinished.open();
    await unfinished.element('features', NS.STREAMS);

    clean.client.send(el('message', NS.CLIENT, { to: 'juliet@localhost/c' }, el('body', NS.CLIENT, {}, 'bye')));
    clean.client.write('</stream:stream>');
    await clean.client.waitClosed();
    abrupt.client.destroy();
    await broken.waitClosed();
    for (const c of [survivor.client, unfinished]) void c.next((e) => e.type === 'STREAM_CLOSE', 5000).then(() => c.write('</stream:stream>'), () => undefined);
    await running.stop();
    await eventually(() => survivor.client.closed && unfinished.closed, 3000, 'client sockets closed');
    expect(running.server.connectionCount).toBe(0);
    expect(running.server.sessionCount).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    const after = handles();
    for (const kind of ['Timeout', 'TCPSocketWrap', 'TCPServerWrap', 'TLSWrap']) {
      expect(after[kind] ?? 0, `${kind}: ${JSON.stringify({ before, after })}`).toBeLessThanOrEqual(before[kind] ?? 0);
    }
  });
});
