/**
 * The client machine against the server machine, in memory: full sessions (RFC 6120 §4-§8).
 */
import { describe, expect, it } from 'vitest';
import { NS } from '../../../machines/ns.js';
import type { MechanismName } from '../../../machines/protocol.js';
import { el } from '../../../machines/xml.js';
import { BARE, DOMAIN, USER, connect, message, type Link } from './harness.js';

function onlineJid(link: Link): string | undefined {
  const online = link.clientCommands.find((c) => c.type === 'online');
  return online?.type === 'online' ? online.jid : undefined;
}
function clientState(link: Link): string {
  return JSON.stringify(link.client.getSnapshot().value);
}
function clientSent(link: Link) {
  return link.clientCommands.flatMap((c) => (c.type === 'send' ? [c.element] : []));
}

const CASES: { mechanism: MechanismName; initialResponse: boolean; resource?: string }[] = [
  { mechanism: 'SCRAM-SHA-256', initialResponse: true },
  { mechanism: 'SCRAM-SHA-256', initialResponse: false, resource: 'balcony' },
  { mechanism: 'SCRAM-SHA-1', initialResponse: true, resource: 'orchard' },
  { mechanism: 'SCRAM-SHA-1', initialResponse: false },
  { mechanism: 'PLAIN', initialResponse: true, resource: 'garden' },
  { mechanism: 'PLAIN', initialResponse: false },
];

describe('initiating entity against the receiving entity (RFC 6120 §4-§8)', () => {
  for (const c of CASES) {
    const resourceText = c.resource ? `client-chosen resource '${c.resource}' (§7.7)` : 'server-generated resource (§7.6)';
    it(`RFC 6120 §5, §6.4, §7: ${c.mechanism} over TLS, ${c.initialResponse ? 'with' : 'without'} initial response, ${resourceText}`, () => {
      const link = connect({
        client: { mechanisms: [c.mechanism], initialResponse: c.initialResponse, jid: c.resource ? `${BARE}/${c.resource}` : BARE },
        server: { mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] },
      });
      const jid = onlineJid(link);
      expect(jid, clientState(link)).toBeDefined();
      if (c.resource) expect(jid).toBe(`${BARE}/${c.resource}`);
      else expect(jid).toMatch(new RegExp(`^${BARE}/[0-9a-f]{16}$`));
      expect(link.bound).toEqual([jid]);
      // §5.4.3.3 / §6.4.6 / §4.3.3: three headers (initial, after TLS, after SASL); 'from' only once TLS is on (§4.7.1).
      const headers = link.clientCommands.flatMap((x) => (x.type === 'openStream' ? [x.header] : []));
      expect(headers.map((h) => h.from)).toEqual([undefined, BARE, BARE]);
      expect(headers.every((h) => h.to === DOMAIN && h.version === '1.0')).toBe(true);
      // The order of negotiation commands.
      const order = link.clientCommands.map((x) => x.type).filter((t) => ['startTls', 'authenticated', 'resetParser', 'online'].includes(t));
      expect(order).toEqual(['startTls', 'resetParser', 'authenticated', 'resetParser', 'online']);
      const auth = clientSent(link).find((e) => e.name === 'auth')!;
      expect(auth.attrs.mechanism).toBe(c.mechanism);
      expect(auth.children.length > 0).toBe(c.initialResponse);
      const authenticated = link.clientCommands.find((x) => x.type === 'authenticated');
      expect(authenticated).toEqual({ type: 'authenticated', username: USER });
      expect(link.client.getSnapshot().value).toEqual({ open: { established: { stanzas: 'exchanging', liveness: 'idle' } } });
    });
  }

  it('RFC 6120 §8, §10.5: messages both ways once online', () => {
    const link = connect({ client: { jid: `${BARE}/balcony` } });
    expect(onlineJid(link)).toBe(`${BARE}/balcony`);
    // From the client to itself (routed back by the host): out, stamped by the server, in again.
    link.clientEvent({ type: 'SEND', stanza: message({ to: `${BARE}/balcony`, from: undefined, id: 'm1' }, 'to myself') });
    const delivered = link.delivered();
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.attrs.from).toBe(`${BARE}/balcony`);
    expect(delivered[0]!.attrs.id).toBe('m1');
    // From elsewhere, routed in by the host.
    link.sendToClient(message({ to: `${BARE}/balcony`, from: 'romeo@example.net/orchard', id: 'm2' }, 'hello'));
    expect(link.delivered().map((m) => m.attrs.id)).toEqual(['m1', 'm2']);
  });

  it('RFC 6120 §4.4: the client closes first; both sides end cleanly', () => {
    const link = connect();
    expect(onlineJid(link)).toBeDefined();
    link.clientEvent({ type: 'CLOSE' });
    expect(link.client.getSnapshot().status).toBe('done');
    expect(link.server.getSnapshot().status).toBe('done');
    expect(link.clientOutcome()).toEqual({ kind: 'closed', rfc: '6120 §4.4' });
    expect(link.serverOutcome()?.kind).toBe('closed');
    const tail = link.clientCommands.map((c) => c.type).slice(-3);
    expect(tail).toEqual(['closeStream', 'closeSocket', 'ended']);
  });

  it('RFC 6120 §4.4: the server closes first; the client answers with its closing tag and closes TCP', () => {
    const link = connect();
    expect(onlineJid(link)).toBeDefined();
    link.serverEvent({ type: 'CLOSE' });
    expect(link.client.getSnapshot().status).toBe('done');
    expect(link.server.getSnapshot().status).toBe('done');
    expect(link.clientOutcome()).toEqual({ kind: 'closed', rfc: '6120 §4.4' });
    expect(link.clientCommands.map((c) => c.type).slice(-3)).toEqual(['closeStream', 'closeSocket', 'ended']);
  });

  it('XEP-0199 §4.2: the client answers the server\'s ping by itself; the server sees the reply', () => {
    const link = connect();
    expect(onlineJid(link)).toBeDefined();
    link.advance(300_000); // the server's idle timer fires first (it started earlier): it pings
    const serverPing = link.serverCommands.flatMap((c) => (c.type === 'send' ? [c.element] : [])).find((e) => e.name === 'iq' && e.attrs.type === 'get');
    expect(serverPing).toBeDefined();
    const reply = clientSent(link).find((e) => e.name === 'iq' && e.attrs.id === serverPing!.attrs.id);
    expect(reply?.attrs.type).toBe('result');
    expect(link.delivered()).toHaveLength(0);
    expect(link.client.getSnapshot().status).toBe('active');
    expect(link.server.getSnapshot().status).toBe('active');
  });

  it('RFC 6120 §6.5.10: a wrong password fails; the client closes the stream (§6.4.5, no retry)', () => {
    const link = connect({ client: { password: 'wrong' } });
    expect(onlineJid(link)).toBeUndefined();
    expect(link.clientOutcome()).toMatchObject({ kind: 'auth-failed', condition: 'not-authorized' });
    expect(link.client.getSnapshot().status).toBe('done');
    expect(link.server.getSnapshot().status).toBe('done');
  });

  it('RFC 6120 §7.7.2.2: a resource in use under the disallow policy → conflict, then a server-generated one', () => {
    const link = connect({ client: { jid: `${BARE}/balcony` }, server: { resourceConflict: 'disallow' }, inUse: ['balcony'] });
    const jid = onlineJid(link);
    expect(jid).toMatch(new RegExp(`^${BARE}/[0-9a-f]{16}$`));
    const binds = clientSent(link).filter((e) => e.name === 'iq' && e.attrs.type === 'set');
    expect(binds).toHaveLength(2);
  });

  it('RFC 6120 §5.3.1: TLS policy optional against a server without TLS → SCRAM in the clear, no from', () => {
    const link = connect({ client: { tls: 'optional' }, server: { tls: 'none' } });
    expect(onlineJid(link)).toBeDefined();
    expect(link.clientCommands.some((c) => c.type === 'startTls')).toBe(false);
    const headers = link.clientCommands.flatMap((x) => (x.type === 'openStream' ? [x.header] : []));
    expect(headers.map((h) => h.from)).toEqual([undefined, undefined]);
    const auth = clientSent(link).find((e) => e.name === 'auth');
    expect(auth?.attrs.mechanism).toBe('SCRAM-SHA-256');
  });

  it('XEP-0368: direct TLS on both ends: no STARTTLS, from on the first header, PLAIN allowed', () => {
    const link = connect({ client: { secure: true, mechanisms: ['PLAIN'] }, server: { secure: true } });
    expect(onlineJid(link)).toBeDefined();
    expect(link.clientCommands.some((c) => c.type === 'startTls')).toBe(false);
    const headers = link.clientCommands.flatMap((x) => (x.type === 'openStream' ? [x.header] : []));
    expect(headers.map((h) => h.from)).toEqual([BARE, BARE]);
  });

  it('RFC 6120 §13.9.4: PLAIN is not used on an unprotected stream even if it is the only one offered', () => {
    const link = connect({
      client: { tls: 'optional', mechanisms: ['PLAIN'] },
      server: { tls: 'none', mechanisms: ['PLAIN'], allowPlainWithoutTls: true },
    });
    expect(clientSent(link).some((e) => e.name === 'auth')).toBe(false);
    expect(link.clientOutcome()).toMatchObject({ kind: 'auth-failed', condition: 'unsupported-feature' });
    expect(link.server.getSnapshot().status).toBe('done');
  });

  it('RFC 6120 §4.9.1.1: the server ends the session with a stream error (system-shutdown)', () => {
    const link = connect();
    expect(onlineJid(link)).toBeDefined();
    link.serverEvent({ type: 'SHUTDOWN' });
    expect(link.clientOutcome()).toMatchObject({ kind: 'error-received', condition: 'system-shutdown' });
    expect(link.server.getSnapshot().status).toBe('done');
  });

  it('RFC 6120 §8.1.2.1: the server stamps from on what the client sends (the client writes it as given)', () => {
    const link = connect({ client: { jid: `${BARE}/balcony` } });
    const stanza = el('presence', NS.CLIENT, {});
    link.clientEvent({ type: 'SEND', stanza });
    expect(clientSent(link).at(-1)).toEqual(stanza);
  });
});
