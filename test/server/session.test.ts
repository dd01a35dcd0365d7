/**
 * Full sessions over real sockets: STARTTLS (Node tls, the server's certificate pinned),
 * SASL with the machines' client functions, binding, routing (§10), conflicts (§7.7.2.2),
 * shutdown (§4.9.3.20).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { attr, child, childElements, el, text, type XmlElement } from '../../machines/xml.js';
import { openAccountStore } from '../../runtime/store/accounts.js';
import { authenticate, eventually, login, RawClient, secured, stanzaError, streamErrorCondition } from './client.js';
import { startServer, type Running } from './fixture.js';

let running: Running;
let port: number;
let ca: string;
beforeAll(async () => {
  running = await startServer();
  port = running.port;
  ca = running.ca;
  running.server.accounts.add('juliet', 'r0m30myr0m30');
  running.server.accounts.add('romeo', 'wherefore');
  running.server.accounts.add('nurse', 'tybalt');
});
afterAll(async () => {
  await running.stop();
});

const juliet = (resource?: string) => login(port, { username: 'juliet', password: 'r0m30myr0m30', ca, ...(resource ? { resource } : {}) });
const romeo = (resource?: string) => login(port, { username: 'romeo', password: 'wherefore', ca, ...(resource ? { resource } : {}) });

let ids = 0;
const iq = (to: string | undefined, payload: XmlElement, type = 'get') => el('iq', NS.CLIENT, { to, id: `q${++ids}`, type }, payload);
const reply = (c: RawClient, request: XmlElement) => c.stanza((s) => s.name === 'iq' && attr(s, 'id') === attr(request, 'id'), 3000, `reply to ${attr(request, 'id')}`);

async function closeClient(c: RawClient): Promise<void> {
  c.write('</stream:stream>');
  await c.waitClosed();
}

describe('negotiation (§5, §6, §7)', () => {
  it('before TLS only <starttls><required/> is offered; after TLS SCRAM-SHA-256, SCRAM-SHA-1 and PLAIN', async () => {
    const c = await RawClient.connect(port);
    c.open();
    const plain = await c.element('features', NS.STREAMS);
    expect(childElements(plain).map((e) => e.name)).toEqual(['starttls']);
    expect(child(child(plain, 'starttls', NS.TLS)!, 'required', NS.TLS)).toBeDefined();
    c.send(el('starttls', NS.TLS));
    await c.element('proceed', NS.TLS);
    const secure = await c.startTls(ca);
    expect(secure.authorized).toBe(true); // the pinned self-signed certificate verifies for 'localhost'
    c.open();
    const features = await c.element('features', NS.STREAMS);
    const mechanisms = childElements(child(features, 'mechanisms', NS.SASL)!).map(text);
    expect(mechanisms).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
    c.destroy();
  });

  it.each(['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] as const)('logs in with %s and binds a server-generated resource', async (mechanism) => {
    const t0 = performance.now();
    const { client, jid } = await login(port, { username: 'nurse', password: 'tybalt', ca, mechanism });
    const ms = performance.now() - t0;
    expect(jid).toMatch(/^nurse@localhost\/[0-9a-f]{16}$/);
    expect(ms).toBeLessThan(5000);
    await closeClient(client);
  });

  it('a wrong password is <not-authorized/> (§6.5.10), exactly like an absent account (RFC 5802 §5.1)', async () => {
    const failures: string[] = [];
    for (const [username, password] of [['juliet', 'wrong'], ['nobody', 'wrong']] as const) {
      const { client: c } = await secured(port, ca);
      const err = await authenticate(c, username, password, 'SCRAM-SHA-256').then(() => undefined, (e: unknown) => e);
      expect(String(err)).toMatch(/not-authorized/);
      failures.push(String(err));
      c.destroy();
    }
    // The same bytes for both: nothing tells an absent account from a wrong password.
    expect(failures[1]).toBe(failures[0]);
  });
});

describe('routing (§10) between two real sessions', () => {
  it('message to a full JID, to a bare JID, and \'from\' stamped by the server (§8.1.2.1)', async () => {
    const j = await juliet('balcony');
    const r = await romeo('orchard');
    expect(j.jid).toBe('juliet@localhost/balcony');
    j.client.send(el('message', NS.CLIENT, { to: r.jid, type: 'chat', id: 'm1' }, el('body', NS.CLIENT, {}, 'Art thou not Romeo?')));
    const got = await r.client.element('message', NS.CLIENT);
    expect(got.attrs).toMatchObject({ from: j.jid, to: r.jid, id: 'm1' });
    expect(text(child(got, 'body', NS.CLIENT)!)).toBe('Art thou not Romeo?');

    r.client.send(el('message', NS.CLIENT, { to: 'juliet@localhost', type: 'chat', id: 'm2' }, el('body', NS.CLIENT, {}, 'Neither, fair saint')));
    const back = await j.client.element('message', NS.CLIENT);
    expect(back.attrs).toMatchObject({ from: r.jid, id: 'm2' });
    await closeClient(j.client);
    await closeClient(r.client);
  });

  it('extension payloads pass through unchanged (§8.4): foreign namespaces, prefixed attributes, xml:lang', async () => {
    const j = await juliet();
    const r = await romeo();
    const raw =
      `<message to='${r.jid}' id='ext' xml:lang='fr'><body>bonjour &amp; &lt;salut&gt;</body>` +
      `<active xmlns='http://jabber.org/protocol/chatstates'/>` +
      `<x xmlns='urn:example:x' xmlns:p='urn:example:p' p:flag='1'><p:item n='2'>t</p:item></x></message>`;
    j.client.write(raw);
    const got = await r.client.element('message', NS.CLIENT);
    expect(got.attrs).toMatchObject({ id: 'ext', 'xml:lang': 'fr', from: j.jid });
    expect(text(child(got, 'body', NS.CLIENT)!)).toBe('bonjour & <salut>');
    expect(child(got, 'active', 'http://jabber.org/protocol/chatstates')).toBeDefined();
    const x = child(got, 'x', 'urn:example:x')!;
    expect(x.attrs['p:flag']).toBe('1');
    expect(child(x, 'item', 'urn:example:p')!.attrs).toMatchObject({ n: '2' });
    await closeClient(j.client);
    await closeClient(r.client);
  });

  it('in-order delivery (§10.1): bare and full JID addressed stanzas arrive in sending order', async () => {
    const j = await juliet();
    const r = await romeo();
    for (let i = 0; i < 40; i++) {
      j.client.send(el('message', NS.CLIENT, { to: i % 2 ? r.jid : 'romeo@localhost', id: `n${i}` }, el('body', NS.CLIENT, {}, String(i))));
    }
    const seen: string[] = [];
    while (seen.length < 40) seen.push(attr(await r.client.element('message', NS.CLIENT), 'id')!);
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => `n${i}`));
    await closeClient(j.client);
    await closeClient(r.client);
  });

  it("presence without 'to' reaches the account's resources that sent initial presence (§10.3.2), the sender included", async () => {
    const a = await juliet('pa');
    const b = await juliet('pb');
    const r = await romeo();
    b.client.send(el('presence', NS.CLIENT, { id: 'pb-on' }));
    expect((await b.client.stanza((s) => s.name === 'presence')).attrs).toMatchObject({ id: 'pb-on', from: b.jid });
    a.client.send(el('presence', NS.CLIENT, { id: 'pa-on' }));
    for (const c of [a.client, b.client]) expect((await c.stanza((s) => attr(s, 'id') === 'pa-on')).attrs['from']).toBe(a.jid);
    a.client.send(el('presence', NS.CLIENT, { id: 'pa-off', type: 'unavailable' }));
    expect((await b.client.stanza((s) => attr(s, 'id') === 'pa-off')).attrs['type']).toBe('unavailable');
    // Another account is not subscribed (no roster): romeo saw none of it.
    const marker = iq('localhost', el('ping', NS.PING));
    r.client.send(marker);
    await reply(r.client, marker);
    expect(r.client.elements().filter((s) => s.name === 'presence')).toEqual([]);
    for (const c of [a.client, b.client, r.client]) await closeClient(c);
  });

  it('XEP-0199 ping to the server, XEP-0030 disco#info, and <service-unavailable/> for an unknown IQ', async () => {
    const { client } = await juliet();
    const ping = iq('localhost', el('ping', NS.PING));
    client.send(ping);
    expect((await reply(client, ping)).attrs).toMatchObject({ type: 'result', from: 'localhost' });

    const disco = iq('localhost', el('query', NS.DISCO_INFO));
    client.send(disco);
    const info = child(await reply(client, disco), 'query', NS.DISCO_INFO)!;
    expect(child(info, 'identity', NS.DISCO_INFO)!.attrs).toMatchObject({ category: 'server', type: 'im' });
    const features = childElements(info).filter((f) => f.name === 'feature').map((f) => attr(f, 'var'));
    expect(features).toEqual(expect.arrayContaining([NS.PING, NS.DISCO_INFO]));

    const unknown = iq('localhost', el('query', 'urn:example:nothing'), 'set');
    client.send(unknown);
    expect(stanzaError(await reply(client, unknown))).toEqual({ condition: 'service-unavailable', type: 'cancel' });

    const noTo = iq(undefined, el('ping', NS.PING));
    client.send(noTo);
    expect(attr(await reply(client, noTo), 'type')).toBe('result');
    await closeClient(client);
  });

  it('absent users: identical errors for bare and full JIDs, as for a gone resource of an offline account; presence to them is dropped; RFC 6121 §8.5.2.2.1: the offline account\'s bare JID stores the message', async () => {
    const { client } = await juliet();
    const results: Record<string, { condition?: string; type?: string }> = {};
    for (const to of ['ghost@localhost', 'ghost@localhost/x', 'nurse@localhost/x']) {
      const m = el('message', NS.CLIENT, { to, id: `e-${to}` }, el('body', NS.CLIENT, {}, 'hello?'));
      client.send(m);
      const err = await client.stanza((s) => attr(s, 'id') === `e-${to}`);
      expect(attr(err, 'type')).toBe('error');
      results[to] = stanzaError(err);
    }
    const conditions = new Set(Object.values(results).map((e) => JSON.stringify(e)));
    expect([...conditions]).toEqual([JSON.stringify({ condition: 'service-unavailable', type: 'cancel' })]);
    // RFC 6121 §8.5.2.2.1 (a): a normal message to the bare JID of an account with nothing connected is kept for it.
    client.send(el('message', NS.CLIENT, { to: 'nurse@localhost', id: 'e-stored' }, el('body', NS.CLIENT, {}, 'hello?')));
    const ping = iq('localhost', el('ping', NS.PING));
    client.send(ping);
    await reply(client, ping);
    expect(client.elements().some((s) => attr(s, 'id') === 'e-stored')).toBe(false);
    expect(running.server.offlineMessages.take('nurse').map((m) => attr(m.stanza, 'id'))).toEqual(['e-stored']);

    const ghostIq = iq('ghost@localhost/x', el('ping', NS.PING));
    client.send(ghostIq);
    expect(stanzaError(await reply(client, ghostIq)).condition).toBe('service-unavailable');

    client.send(el('presence', NS.CLIENT, { to: 'ghost@localhost', id: 'p-ghost' }));
    const marker = iq('localhost', el('ping', NS.PING));
    client.send(marker);
    await reply(client, marker); // in order (§10.1): had the presence been answered, its reply would be here first
    expect(client.elements().some((s) => attr(s, 'id') === 'p-ghost')).toBe(false);
    await closeClient(client);
  });

  it('accounts added and removed by another process while the server runs are seen by routing (§10.5.3.1)', async () => {
    // A second SQLite connection to the server's file is what `xmppkit adduser/deluser` is.
    const admin = openAccountStore({ file: join(running.dataDir, 'accounts.sqlite') });
    const open: RawClient[] = [];
    try {
      const { client } = await juliet();
      open.push(client);
      let n = 0;
      const send = (): string => {
        const id = `bv-${++n}`;
        client.send(el('message', NS.CLIENT, { to: 'benvolio@localhost/x', id }, el('body', NS.CLIENT, {}, 'hi')));
        return id;
      };
      const absent = send();
      expect(stanzaError(await client.stanza((s) => attr(s, 'id') === absent)).condition).toBe('service-unavailable');

      admin.add('benvolio', 'pw');
      const { client: benvolio, jid } = await login(port, { username: 'benvolio', password: 'pw', ca, resource: 'x' });
      open.push(benvolio);
      expect(jid).toBe('benvolio@localhost/x');
      const present = send();
      const delivered = await benvolio.stanza((s) => attr(s, 'id') === present);
      expect(attr(delivered, 'from')).toMatch(/^juliet@localhost\//);

      // Removed while still connected: the account is gone, so stanzas to it get the absent-account answer.
      expect(admin.remove('benvolio')).toBe(true);
      const removed = send();
      expect(stanzaError(await client.stanza((s) => attr(s, 'id') === removed)).condition).toBe('service-unavailable');
      expect(benvolio.elements().some((s) => attr(s, 'id') === removed)).toBe(false);
      for (const c of open.splice(0)) await closeClient(c);
    } finally {
      for (const c of open) c.destroy();
      admin.close();
    }
  });

  it('remote domain → <remote-server-not-found/>; malformed \'to\' → <jid-malformed/>', async () => {
    const { client } = await juliet();
    const remote = iq('romeo@example.net', el('ping', NS.PING));
    client.send(remote);
    expect(stanzaError(await reply(client, remote))).toEqual({ condition: 'remote-server-not-found', type: 'cancel' });
    const malformed = iq('a@b@c', el('ping', NS.PING));
    client.send(malformed);
    expect(stanzaError(await reply(client, malformed))).toEqual({ condition: 'jid-malformed', type: 'modify' });
    // Subscription presence is stamped with the bare JID (§8.1.2.1); its error still comes back on this stream.
    client.send(el('presence', NS.CLIENT, { to: 'romeo@example.net', type: 'subscribe', id: 'sub1' }));
    const subError = await client.stanza((s) => attr(s, 'id') === 'sub1');
    expect(subError.attrs).toMatchObject({ type: 'error', to: 'juliet@localhost' });
    expect(stanzaError(subError).condition).toBe('remote-server-not-found');
    await closeClient(client);
  });
});

describe('resource conflicts (§7.7.2.2) and shutdown (§4.9.3.20)', () => {
  it('override: the old stream gets <conflict/>, the new one receives what is sent to the full JID', async () => {
    const first = await juliet('phone');
    const second = await juliet('phone');
    expect(second.jid).toBe('juliet@localhost/phone');
    const error = await first.client.element('error', NS.STREAMS);
    expect(streamErrorCondition(error)).toBe('conflict');
    await first.client.waitClosed();
    const r = await romeo();
    r.client.send(el('message', NS.CLIENT, { to: 'juliet@localhost/phone', id: 'after' }, el('body', NS.CLIENT, {}, 'x')));
    expect(attr(await second.client.element('message', NS.CLIENT), 'id')).toBe('after');
    await closeClient(second.client);
    await closeClient(r.client);
  });

  it('abrupt disconnects at every negotiation step leave no connection and no session behind', async () => {
    const steps: ((c: RawClient) => Promise<void>)[] = [
      async () => undefined, // connected, nothing sent
      async (c) => c.write("<?xml version='1.0'?><stream:stream to='localh"), // half a header
      async (c) => {
        c.open();
        await c.element('features', NS.STREAMS);
      },
      async (c) => {
        c.open();
        await c.element('features', NS.STREAMS);
        c.send(el('starttls', NS.TLS));
        await c.element('proceed', NS.TLS); // the server is in the TLS handshake now
      },
      async (c) => {
        c.open();
        await c.element('features', NS.STREAMS);
        c.send(el('starttls', NS.TLS));
        await c.element('proceed', NS.TLS);
        c.write(Uint8Array.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])); // half a TLS ClientHello
        await new Promise((r) => setTimeout(r, 50));
      },
      async (c) => {
        c.open();
        await c.element('features', NS.STREAMS);
        c.send(el('starttls', NS.TLS));
        await c.element('proceed', NS.TLS);
        await c.startTls(ca);
        c.open();
        await c.element('features', NS.STREAMS);
        c.send(el('auth', NS.SASL, { mechanism: 'SCRAM-SHA-256' }, 'biwsbj1qdWxpZXQscj1hYmNkZWZnaGlqa2xtbm9w')); // n,,n=juliet,r=...
        await c.element('challenge', NS.SASL); // mid-SASL
      },
    ];
    for (const step of steps) {
      const c = await RawClient.connect(port);
      await step(c);
      c.destroy();
      await eventually(() => running.server.connectionCount === 0 && running.server.sessionCount === 0, 3000, 'no connections');
    }
    // After authentication, before and after binding.
    const { client: authed } = await secured(port, ca);
    await authenticate(authed, 'juliet', 'r0m30myr0m30', 'SCRAM-SHA-256');
    authed.destroy();
    await eventually(() => running.server.connectionCount === 0, 3000, 'no connections after auth');
    const bound = await juliet('gone');
    expect(running.server.sessionCount).toBe(1);
    bound.client.destroy();
    await eventually(() => running.server.connectionCount === 0 && running.server.sessionCount === 0, 3000, 'no sessions after bind');
  });

  it('close(): every stream gets <system-shutdown/>, a closing tag, and the server stops', async () => {
    const own = await startServer();
    own.server.accounts.add('juliet', 'pw');
    const a = await login(own.port, { username: 'juliet', password: 'pw', ca: own.ca, resource: 'a' });
    const b = await login(own.port, { username: 'juliet', password: 'pw', ca: own.ca, resource: 'b' });
    const pending = await RawClient.connect(own.port);
    pending.open();
    await pending.element('features', NS.STREAMS);
    // The clients answer the server's close tag as RFC 6120 §4.4 asks.
    for (const c of [a.client, b.client, pending]) void c.next((e) => e.type === 'STREAM_CLOSE', 5000).then(() => c.write('</stream:stream>'), () => undefined);
    await own.stop();
    // Every stream closed by the §4.4 handshake; none had to be destroyed at the grace deadline.
    expect(own.logs.some((r) => r.event === 'shutdown.forced')).toBe(false);
    expect(own.logs.filter((r) => r.event === 'stream.ended').map((r) => r['condition'])).toEqual(['system-shutdown', 'system-shutdown', 'system-shutdown']);
    for (const c of [a.client, b.client, pending]) {
      const error = c.elements().find((e) => e.name === 'error' && e.xmlns === NS.STREAMS);
      expect(error && streamErrorCondition(error)).toBe('system-shutdown');
      expect(c.received.endsWith('</stream:stream>')).toBe(true);
      await c.waitClosed();
    }
    expect(own.server.connectionCount).toBe(0);
    await expect(RawClient.connect(own.port)).rejects.toThrow();
  });
});
