/**
 * Our client (runtime/client) against our server (runtime/server) on loopback: every SASL
 * mechanism, message routing, SASL failure (§6.5.10), certificate verification (§13.7.2,
 * RFC 6125), the pre-online queue (§4.3.5), IQ answers (§8.4) and the closing handshake (§4.4).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import type { MechanismName } from '../../machines/protocol.js';
import { child, el, text } from '../../machines/xml.js';
import { ClientError, createClient, StanzaError, type ClientOptions, type XmppClient } from '../../runtime/client/index.js';
import { createSelfSignedCertificate } from '../../runtime/tls/index.js';
import { nextEvent, nextStanza, removeDir, startServer, USERS, type Running } from './fixture.js';

let running: Running;
const clients: XmppClient[] = [];

beforeAll(async () => {
  running = await startServer();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await running.stop();
  removeDir(running.dataDir);
});

function client(user: keyof typeof USERS, extra: Partial<ClientOptions> = {}): XmppClient {
  const c = createClient({
    jid: `${user}@localhost`,
    password: USERS[user],
    host: '127.0.0.1',
    port: running.port,
    tls: { ca: running.certPem },
    ...extra,
  });
  clients.push(c);
  return c;
}

const chat = (to: string, body: string) => el('message', NS.CLIENT, { to, type: 'chat' }, el('body', NS.CLIENT, {}, body));
const bodyOf = (e: { children: readonly unknown[] } & Parameters<typeof child>[0]) => {
  const b = child(e, 'body', NS.CLIENT);
  return b ? text(b) : undefined;
};

describe('login (RFC 6120 §5 STARTTLS, §6 SASL, §7 bind)', () => {
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] as MechanismName[]) {
    it(`logs in with ${mechanism} over TLS and binds a resource`, async () => {
      const c = client('alice', { policy: { mechanisms: [mechanism] } });
      const out: string[] = [];
      c.on('wire', (w) => w.direction === 'out' && out.push(w.text));
      const rfcs: string[] = [];
      // The main section of each transition (meta.rfc lists it first).
      c.on('state', (t) => t.rfc && rfcs.push(t.rfc.split(',')[0]!.trim()));
      const jid = await c.start();
      expect(jid).toMatch(/^alice@localhost\/.+/);
      expect(c.jid).toBe(jid);
      expect(c.mechanism).toBe(mechanism);
      // The <auth/> element on the wire names the mechanism (§6.4.2), after <starttls/> (§5.4.2.1).
      const starttls = out.findIndex((t) => t.includes('<starttls'));
      const auth = out.findIndex((t) => t.includes(`mechanism='${mechanism}'`) || t.includes(`mechanism="${mechanism}"`));
      expect(starttls).toBeGreaterThanOrEqual(0);
      expect(auth).toBeGreaterThan(starttls);
      expect(rfcs).toEqual(expect.arrayContaining(['6120 §5.4.2.3', '6120 §5.4.3.3', '6120 §6.4.6', '6120 §7.6.1']));
      const outcome = await c.stop();
      expect(outcome).toMatchObject({ kind: 'closed', rfc: '6120 §4.4' });
      expect(c.status).toBe('stopped');
    });
  }

  it('asks for a resourcepart given in the JID (§7.7)', async () => {
    const c = client('alice', { jid: 'alice@localhost/desk' });
    expect(await c.start()).toBe('alice@localhost/desk');
    await c.stop();
  });
});

describe('stanzas (§8, §10)', () => {
  it('delivers a message to self and to another account, with from stamped by the server', async () => {
    const alice = client('alice');
    const bob = client('bob');
    const [aj, bj] = await Promise.all([alice.start(), bob.start()]);
    const toSelf = nextStanza(alice, (e) => bodyOf(e) === 'note to self');
    alice.send(chat(aj, 'note to self'));
    expect((await toSelf).attrs['from']).toBe(aj);

    const atBob = nextStanza(bob, (e) => bodyOf(e) === 'hello bob');
    alice.send(chat('bob@localhost', 'hello bob'));
    const got = await atBob;
    expect(got.attrs['from']).toBe(aj);
    expect(got.attrs['to']).toMatch(/^bob@localhost/);
    expect(bj).toMatch(/^bob@localhost\//);
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('queues stanzas sent before online and flushes them in order once bound (§4.3.5)', async () => {
    const bob = client('bob');
    await bob.start();
    const received: string[] = [];
    const all = new Promise<void>((resolve) =>
      bob.on('stanza', (e) => {
        const b = bodyOf(e);
        if (b?.startsWith('queued ')) received.push(b);
        if (received.length === 3) resolve();
      }),
    );
    const alice = client('alice');
    for (const n of [1, 2, 3]) alice.send(chat('bob@localhost', `queued ${n}`));
    expect(alice.queued).toBe(3);
    await alice.start();
    await all;
    expect(received).toEqual(['queued 1', 'queued 2', 'queued 3']);
    expect(alice.queued).toBe(0);
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('the pre-online queue is bounded: one stanza too many throws', () => {
    const c = client('alice', { maxQueuedStanzas: 2 });
    c.send(chat('bob@localhost', '1'));
    c.send(chat('bob@localhost', '2'));
    expect(() => c.send(chat('bob@localhost', '3'))).toThrow(/maxQueuedStanzas/);
  });

  it('answers an IQ nobody handles with service-unavailable (§8.4), a handled one with a result (§8.2.3)', async () => {
    const alice = client('alice');
    const bob = client('bob');
    const [aj] = await Promise.all([alice.start(), bob.start()]);
    alice.handleIq('urn:xmpp:time', 'time', () => el('time', 'urn:xmpp:time', {}, el('utc', 'urn:xmpp:time', {}, '2026-01-01T00:00:00Z')));

    const unknown = bob.iq(el('iq', NS.CLIENT, { type: 'get', to: aj }, el('query', 'urn:example:unknown')));
    await expect(unknown).rejects.toBeInstanceOf(StanzaError);
    await expect(unknown).rejects.toMatchObject({ condition: 'service-unavailable' });

    const result = await bob.iq(el('iq', NS.CLIENT, { type: 'get', to: aj }, el('time', 'urn:xmpp:time')));
    expect(result.attrs['type']).toBe('result');
    expect(result.attrs['from']).toBe(aj);
    const utc = child(child(result, 'time', 'urn:xmpp:time')!, 'utc', 'urn:xmpp:time');
    expect(utc && text(utc)).toBe('2026-01-01T00:00:00Z');
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('after stop(), send refuses and the server has no session left', async () => {
    const c = client('alice');
    await c.start();
    await c.stop();
    expect(() => c.send(chat('bob@localhost', 'late'))).toThrow(/stopped/);
    await expect.poll(() => running.server.sessionCount, { timeout: 3000 }).toBe(0);
  });
});

describe('failures surface their condition', () => {
  it('a wrong password rejects start() with <not-authorized/> (§6.5.10) and emits error', async () => {
    const c = client('alice', { password: 'not the password' });
    const error = nextEvent(c, 'error');
    const err = await c.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).outcome).toMatchObject({ kind: 'auth-failed', condition: 'not-authorized' });
    // The condition and its section first; our server adds its <text/> after them.
    expect((err as ClientError).message).toMatch(/^authentication failed: <not-authorized\/> \(RFC 6120 §6\.5\.10\)(: .+)?$/);
    expect(await error).toBe(err);
    expect(c.status).toBe('stopped');
  });

  it('a self-signed certificate without ca or insecure fails TLS with a clear message (§13.7.2)', async () => {
    const c = client('alice', { tls: {} });
    const err = (await c.start().catch((e: unknown) => e)) as ClientError;
    expect(err).toBeInstanceOf(ClientError);
    expect(err.outcome.kind).toBe('tls-failed');
    expect(err.message).toMatch(/^TLS failed \(RFC 6120 §5\.4\.3\.2\): self[- ]signed certificate/);
    expect(err.message).toMatch(/--ca FILE/);
  });

  it('insecure skips verification and logs in', async () => {
    const c = client('alice', { tls: { insecure: true } });
    await expect(c.start()).resolves.toMatch(/^alice@localhost\//);
    await c.stop();
  });

  it('with ca = a certificate for another domain: the chain verifies but the identity check (RFC 6125) fails', async () => {
    const other = createSelfSignedCertificate('other.example');
    const dir = running.dataDir + '-other';
    const srv = await startServer({ cert: other.certPem, key: other.keyPem }, dir);
    try {
      const c = createClient({ jid: 'alice@localhost', password: USERS.alice, host: '127.0.0.1', port: srv.port, tls: { ca: other.certPem } });
      const err = (await c.start().catch((e: unknown) => e)) as ClientError;
      expect(err.outcome.kind).toBe('tls-failed');
      expect(err.message).toMatch(/Service identity check failed \(RFC 6125 §6\).*xmpp-client service 'localhost'.*other\.example/);
    } finally {
      await srv.stop();
      removeDir(dir);
    }
  });
});
