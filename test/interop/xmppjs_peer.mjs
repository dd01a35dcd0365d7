/**
 * Interop peer for test/interop/xmppjs.test.ts: two @xmpp/client (xmpp.js) clients log in
 * to the server under test over STARTTLS with SASL, bind, exchange messages both ways,
 * ping the server (XEP-0199), ask its disco#info (XEP-0030) and stop cleanly. One JSON
 * object on stdout says what happened.
 *
 * xmpp.js passes no CA option to its STARTTLS upgrade (`tls.connect({ socket, host })`), so
 * the server's self-signed certificate is trusted the Node way: the test starts this script
 * with NODE_EXTRA_CA_CERTS pointing at it. Verification (chain and the name 'localhost')
 * stays on; nothing sets NODE_TLS_REJECT_UNAUTHORIZED.
 *
 * usage: node xmppjs_peer.mjs PORT DOMAIN USER1 PASSWORD1 USER2 PASSWORD2
 *        node xmppjs_peer.mjs echo PORT DOMAIN USER PASSWORD RESOURCE   (see echo below)
 */
import { client, xml } from '@xmpp/client';

const [port, domain, user1, password1, user2, password2] = process.argv.slice(2);
const TIMEOUT = 15_000;
const out = { failures: [] };

function withTimeout(promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout: ${what}`)), TIMEOUT).unref()),
  ]);
}

function peer(username, password) {
  const xmpp = client({ service: `xmpp://127.0.0.1:${port}`, domain, username, password });
  xmpp.reconnect.stop(); // a failure must show, not be retried
  const inbox = [];
  const waiting = [];
  const sent = { mechanism: null };
  xmpp.on('send', (element) => {
    if (element?.name === 'auth' && element.attrs?.xmlns === 'urn:ietf:params:xml:ns:xmpp-sasl') sent.mechanism = element.attrs.mechanism;
  });
  xmpp.on('stanza', (stanza) => {
    if (!stanza.is('message')) return;
    const w = waiting.shift();
    if (w) w(stanza);
    else inbox.push(stanza);
  });
  xmpp.on('error', (err) => out.failures.push(`${username}: ${err.condition ?? err.message}`));
  const nextMessage = () => withTimeout(inbox.length ? Promise.resolve(inbox.shift()) : new Promise((r) => waiting.push(r)), `message to ${username}`);
  return { xmpp, nextMessage, sent };
}

async function main() {
  const a = peer(user1, password1);
  const b = peer(user2, password2);
  const t0 = performance.now();
  const [jidA, jidB] = await withTimeout(
    Promise.all([a, b].map(async (p) => {
      const address = await p.xmpp.start();
      return { address: address.toString(), ms: performance.now() - t0 };
    })),
    'login',
  );
  out.login_ms = [jidA.ms, jidB.ms].map((x) => Math.round(x * 10) / 10);
  out.jids = [jidA.address, jidB.address];
  out.tls = [a, b].map((p) => p.xmpp.socket?.socket?.encrypted === true || p.xmpp.socket?.socket?.constructor?.name === 'TLSSocket');
  out.mechanisms = [a, b].map((p) => p.sent.mechanism);

  await a.xmpp.send(xml('presence'));
  await b.xmpp.send(xml('presence'));

  // a → b's full JID; b → a's bare JID (RFC 6120 §10.5.4, §10.5.3.2).
  await a.xmpp.send(xml('message', { to: jidB.address, type: 'chat', id: 'x1' }, xml('body', {}, 'hello from a')));
  const gotB = await b.nextMessage();
  await b.xmpp.send(xml('message', { to: jidA.address.split('/')[0], type: 'chat', id: 'x2' }, xml('body', {}, 'hello from b')));
  const gotA = await a.nextMessage();
  out.b_received = { from: gotB.attrs.from, to: gotB.attrs.to, body: gotB.getChildText('body') };
  out.a_received = { from: gotA.attrs.from, to: gotA.attrs.to, body: gotA.getChildText('body') };

  // XEP-0199 ping to the server.
  const t1 = performance.now();
  const pong = await a.xmpp.iqCaller.request(xml('iq', { type: 'get', to: domain }, xml('ping', 'urn:xmpp:ping')), TIMEOUT);
  out.ping_ms = Math.round((performance.now() - t1) * 10) / 10;
  out.ping_type = pong.attrs.type;

  // XEP-0030 disco#info of the server.
  const info = await a.xmpp.iqCaller.get(xml('query', 'http://jabber.org/protocol/disco#info'), domain, TIMEOUT);
  out.disco_identities = info.getChildren('identity').map((i) => [i.attrs.category, i.attrs.type]);
  out.disco_features = info.getChildren('feature').map((f) => f.attrs.var).sort();

  // RFC 6121 §2.2 roster get: the server answers with the roster, empty for a new account (runtime/server/roster.ts).
  try {
    await a.xmpp.iqCaller.get(xml('query', 'jabber:iq:roster'), undefined, TIMEOUT);
    out.roster = 'result';
  } catch (err) {
    out.roster = `error:${err.condition ?? err.message}`;
  }

  await Promise.all([a.xmpp.stop(), b.xmpp.stop()]);
  out.stopped = [a.xmpp.status, b.xmpp.status];
}

/**
 * echo mode (`node xmppjs_peer.mjs echo PORT DOMAIN USER PASSWORD RESOURCE`): log in, print
 * {"online": JID}, answer every message with "echo: BODY" to its sender, and on the body
 * "quit" stop cleanly and print {"stopped": STATUS}. The slixmpp test talks to it.
 */
async function echo([port, domain, username, password, resource]) {
  const xmpp = client({ service: `xmpp://127.0.0.1:${port}`, domain, username, password, resource });
  xmpp.reconnect.stop();
  xmpp.on('error', (err) => process.stderr.write(`xmpp.js error: ${err.condition ?? err.message}\n`));
  const quit = new Promise((resolve) => {
    xmpp.on('stanza', async (stanza) => {
      if (!stanza.is('message') || stanza.attrs.type === 'error') return;
      const body = stanza.getChildText('body');
      if (body === 'quit') return resolve();
      await xmpp.send(xml('message', { to: stanza.attrs.from, type: 'chat', id: `echo-${stanza.attrs.id}` }, xml('body', {}, `echo: ${body}`)));
    });
  });
  const address = await withTimeout(xmpp.start(), 'login');
  process.stdout.write(`${JSON.stringify({ online: address.toString() })}\n`);
  await withTimeout(quit, 'quit message');
  await xmpp.stop();
  process.stdout.write(`${JSON.stringify({ stopped: xmpp.status })}\n`);
}

if (process.argv[2] === 'echo') {
  echo(process.argv.slice(3)).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
} else main().then(
  () => {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.exit(0);
  },
  (err) => {
    out.failures.push(String(err?.stack ?? err));
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.exit(1);
  },
);
