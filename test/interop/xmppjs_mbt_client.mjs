/**
 * Client under test for `xmppkit mbt --client` (test/mbt/clients.test.ts): one @xmpp/client
 * (xmpp.js) client that logs in, stays online doing nothing and exits when the stream ends.
 * Reconnection is off (each path is one connection). xmpp.js passes no CA option to its
 * STARTTLS upgrade, so the CA comes from NODE_EXTRA_CA_CERTS (set on the command line).
 *
 * usage: NODE_EXTRA_CA_CERTS=CA node xmppjs_mbt_client.mjs HOST PORT DOMAIN USER PASSWORD
 */
import { client } from '@xmpp/client';

const [host, port, domain, username, password] = process.argv.slice(2);
const xmpp = client({ service: `xmpp://${host}:${port}`, domain, username, password });
xmpp.reconnect.stop();
xmpp.on('error', (err) => process.stderr.write(`xmpp.js error: ${err.condition ?? err.message}\n`));
xmpp.on('offline', () => process.exit(0));
xmpp.on('disconnect', () => setTimeout(() => process.exit(0), 200));
xmpp.start().catch((err) => process.stderr.write(`xmpp.js start: ${err?.condition ?? err?.message ?? err}\n`));
setTimeout(() => process.exit(0), 60_000).unref();
