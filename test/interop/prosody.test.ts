/**
 * Interop: our client (runtime/client) against a private Prosody (Debian's package, started
 * by peers/prosody.ts on a free loopback port): STARTTLS with Prosody's
 * self-signed certificate pinned as ca (chain + RFC 6125 identity 'localhost'), SCRAM,
 * binding, a message alice → bob, a SASL failure, and the closing handshake (§4.4).
 * No Prosody → the suite fails with the reason; it is never skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { child, el, text } from '../../machines/xml.js';
import { ClientError, createClient, type ClientOptions, type XmppClient } from '../../runtime/client/index.js';
import type { RunningPeer } from '../../peers/daemon.js';
import { startProsody } from '../../peers/prosody.js';

let prosody: RunningPeer | undefined;
let port = 0;
let ca = '';
const clients: XmppClient[] = [];

beforeAll(async () => {
  prosody = await startProsody();
  port = prosody.port;
  ca = prosody.ca;
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await prosody?.stop();
});

function client(jid: string, password: string, extra: Partial<ClientOptions> = {}): XmppClient {
  const c = createClient({ jid, password, host: '127.0.0.1', port, tls: { ca }, ...extra });
  clients.push(c);
  return c;
}

describe('our client against Prosody', () => {
  it('alice logs in with SCRAM over STARTTLS and delivers a message that bob receives', async () => {
    const alice = client('alice@localhost', 'secret1');
    const bob = client('bob@localhost', 'secret2');
    const out: string[] = [];
    alice.on('wire', (w) => w.direction === 'out' && out.push(w.text));
    const rfcs: string[] = [];
    // The main section of each transition (meta.rfc lists it first).
    alice.on('state', (t) => t.rfc && rfcs.push(t.rfc.split(',')[0]!.trim()));

    const [aj, bj] = await Promise.all([alice.start(), bob.start()]);
    expect(aj).toMatch(/^alice@localhost\/.+/);
    expect(bj).toMatch(/^bob@localhost\/.+/);
    // The mechanism negotiated is SCRAM (Prosody's internal_hashed store offers SCRAM-SHA-1).
    expect(alice.mechanism).toMatch(/^SCRAM-SHA-(1|256)$/);
    const auth = out.find((t) => t.startsWith('<auth '));
    expect(auth).toMatch(/mechanism='SCRAM-SHA-(1|256)'/);
    // ... after TLS: <starttls/> went out before <auth/> and the handshake completed (§5.4.3.3).
    expect(out.findIndex((t) => t.includes('<starttls'))).toBeLessThan(out.findIndex((t) => t.startsWith('<auth ')));
    expect(rfcs).toEqual(expect.arrayContaining(['6120 §5.4.3.3', '6120 §6.4.6', '6120 §7.6.1']));

    const got = new Promise<ReturnType<typeof el>>((resolve) =>
      bob.on('stanza', (s) => {
        const b = child(s, 'body', NS.CLIENT);
        if (s.name === 'message' && b && text(b) === 'hello bob, from our client') resolve(s);
      }),
    );
    // To bob's full JID: Prosody (RFC 6121 §8.5.2) gives a bare-JID message only to resources that
    // sent available presence, and this bob sent none.
    alice.send(el('message', NS.CLIENT, { to: bj, type: 'chat', id: 'm1' }, el('body', NS.CLIENT, {}, 'hello bob, from our client')));
    const m = await got;
    expect(m.attrs['from']).toBe(aj); // stamped by Prosody (§8.1.2.1)

    // Closing handshake with Prosody (§4.4): both closing tags, then TCP.
    expect(await alice.stop()).toMatchObject({ kind: 'closed', rfc: '6120 §4.4' });
    expect(await bob.stop()).toMatchObject({ kind: 'closed', rfc: '6120 §4.4' });
  });

  it('answers Prosody-routed IQ requests it does not handle with service-unavailable (§8.4)', async () => {
    const alice = client('alice@localhost', 'secret1');
    const bob = client('bob@localhost', 'secret2');
    const [aj] = await Promise.all([alice.start(), bob.start()]);
    await expect(bob.iq(el('iq', NS.CLIENT, { type: 'get', to: aj }, el('query', 'urn:example:nothing')))).rejects.toMatchObject({
      condition: 'service-unavailable',
    });
    // And the server answers ours: XEP-0199 ping to the domain.
    const pong = await alice.iq(el('iq', NS.CLIENT, { type: 'get', to: 'localhost' }, el('ping', NS.PING)));
    expect(pong.attrs['type']).toBe('result');
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('a wrong password surfaces Prosody\'s <not-authorized/> (§6.5.10)', async () => {
    const c = client('alice@localhost', 'not-secret1');
    const err = (await c.start().catch((e: unknown) => e)) as ClientError;
    expect(err).toBeInstanceOf(ClientError);
    expect(err.outcome).toMatchObject({ kind: 'auth-failed', condition: 'not-authorized' });
    expect(err.message).toMatch(/^authentication failed: <not-authorized\/> \(RFC 6120 §6\.5\.10\)/);
  });

  it('without ca or insecure, Prosody\'s self-signed certificate is refused (§13.7.2)', async () => {
    const c = client('alice@localhost', 'secret1', { tls: {} });
    const err = (await c.start().catch((e: unknown) => e)) as ClientError;
    expect(err.outcome.kind).toBe('tls-failed');
    expect(err.message).toMatch(/self[- ]signed certificate/);
  });
});
