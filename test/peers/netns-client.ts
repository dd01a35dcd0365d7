/**
 * Our client (runtime/client) as a process inside one host of a test network
 * (peers/netns.ts), started there by `ip netns exec`, for test/peers/federation.test.ts.
 * It finds its server the way RFC 6120 §3.2.1 says: the `_xmpp-client._tcp` SRV record of
 * its JID's domain, from the network's DNS (the namespace's resolv.conf), then the A record
 * of the target. One JSON object per line on stdout says what happened.
 *
 *   netns-client.ts echo JID PASSWORD CA_FILE         online, then answers the first message with "re: BODY" and exits
 *   netns-client.ts ask  JID PASSWORD CA_FILE TO BODY online, sends BODY to TO once a line comes on stdin,
 *                                                     exits when the answer comes
 */
import { promises as dns } from 'node:dns';
import { readFileSync } from 'node:fs';
import { parseJid } from '../../machines/jid.js';
import { NS } from '../../machines/ns.js';
import { child, el, text, type XmlElement } from '../../machines/xml.js';
import { createClient } from '../../runtime/client/index.js';

const [mode, jid, password, caFile, to, body] = process.argv.slice(2);
const say = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

/** §3.2.1: the SRV lookup first; this harness's DNS always has the record, so no fallback is taken silently. */
async function locate(domain: string): Promise<{ host: string; port: number }> {
  const [srv] = (await dns.resolveSrv(`_xmpp-client._tcp.${domain}`)).sort((a, b) => a.priority - b.priority);
  if (srv === undefined) throw new Error(`no _xmpp-client._tcp SRV record for ${domain}`);
  const [address] = await dns.resolve4(srv.name);
  return { host: address!, port: srv.port };
}

/** Resolves at the first line on stdin (the test's go-ahead). */
function oneLine(): Promise<void> {
  return new Promise((resolve) => {
    let buf = '';
    process.stdin.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve();
    });
  });
}

async function main(): Promise<void> {
  if ((mode !== 'echo' && mode !== 'ask') || !jid || !password || !caFile || (mode === 'ask' && (!to || !body))) {
    throw new Error('usage: netns-client.ts echo JID PASSWORD CA_FILE | ask JID PASSWORD CA_FILE TO BODY');
  }
  const domain = parseJid(jid)!.domain;
  const { host, port } = await locate(domain);
  say({ located: { domain, host, port } });
  const client = createClient({ jid, password, host, port, tls: { ca: readFileSync(caFile, 'utf8') } });
  const firstMessage = new Promise<XmlElement>((resolve) =>
    client.on('stanza', (s) => {
      if (s.name === 'message' && child(s, 'body', NS.CLIENT) !== undefined) resolve(s);
    }),
  );
  const full = await client.start();
  // Available presence (RFC 6121 §4.2), so a message to the bare JID is delivered to us (RFC 6121 §8.5.2.1.1).
  client.send(el('presence', NS.CLIENT, {}));
  say({ online: full });
  if (mode === 'ask') await oneLine();
  if (mode === 'ask') client.send(el('message', NS.CLIENT, { to: to!, type: 'chat', id: 'ask1' }, el('body', NS.CLIENT, {}, body!)));
  const m = await firstMessage;
  const got = text(child(m, 'body', NS.CLIENT)!);
  say({ message: { from: m.attrs['from'], to: m.attrs['to'], body: got } });
  if (mode === 'echo') {
    client.send(el('message', NS.CLIENT, { to: m.attrs['from']!, type: 'chat', id: 're1' }, el('body', NS.CLIENT, {}, `re: ${got}`)));
  }
  const outcome = await client.stop();
  say({ stopped: outcome.kind });
}

const timer = setTimeout(() => {
  say({ error: 'timed out after 20 s' });
  process.exit(2);
}, 20_000);
main().then(
  () => {
    clearTimeout(timer);
    process.exit(0);
  },
  (err: unknown) => {
    say({ error: (err as Error).message });
    process.exit(1);
  },
);
