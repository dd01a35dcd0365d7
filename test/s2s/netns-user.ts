/**
 * A user of one domain on a test network (peers/netns.ts): our client (runtime/client) as a
 * process inside the host's namespace, driven by JSON lines on stdin, reporting JSON lines
 * on stdout, with wall-clock times (Date.now(), one clock for every process of the run) so
 * the test can measure login-to-first-remote-message across processes.
 *
 *   netns-user.ts JSON   {"jid", "password", "host", "port", "ca"?: FILE (else insecure TLS), "first"?: {"to","body"}}
 *
 * stdout: {"login": ms}        just before the client starts (the start of the measurement)
 *         {"online": jid, "at": ms}
 *         {"sent": id, "at": ms} the `first` message, written as soon as the session is up
 *         {"message": {"from","to","body","type"}, "at": ms}
 *         {"iq": {"id","type","from","error"?}, "at": ms}   the answer to a `ping`
 * stdin:  {"send": {"to","body","id"}} | {"ping": {"to","id"}} | {"stop": true}
 * It answers XEP-0199 pings to itself (XEP-0199 §4.2), sends available presence (RFC 6121
 * §4.2) so messages to its bare JID reach it, and exits 0 after `stop`.
 */
import { readFileSync } from 'node:fs';
import { NS } from '../../machines/ns.js';
import { attr, child, el, text } from '../../machines/xml.js';
import { createClient } from '../../runtime/client/index.js';

interface Args {
  readonly jid: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly ca?: string;
  readonly first?: { readonly to: string; readonly body: string };
}

const say = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const chat = (to: string, body: string, id: string) => el('message', NS.CLIENT, { to, type: 'chat', id }, el('body', NS.CLIENT, {}, body));

const client = createClient({
  jid: args.jid,
  password: args.password,
  host: args.host,
  port: args.port,
  tls: args.ca !== undefined ? { ca: readFileSync(args.ca, 'utf8') } : { insecure: true },
});
client.handleIq(NS.PING, 'ping', () => undefined);
client.on('stanza', (s) => {
  if (s.name !== 'message') return;
  const b = child(s, 'body', NS.CLIENT);
  const e = child(s, 'error', NS.CLIENT);
  say({ message: { from: attr(s, 'from'), to: attr(s, 'to'), type: attr(s, 'type'), body: b ? text(b) : undefined, ...(e && { error: e.children.map((c) => (typeof c === 'string' ? c : c.name)).join(' ') }) }, at: Date.now() });
});

say({ login: Date.now() });
const full = await client.start();
client.send(el('presence', NS.CLIENT, {}));
if (args.first !== undefined) {
  client.send(chat(args.first.to, args.first.body, 'first'));
  say({ sent: 'first', at: Date.now() });
}
say({ online: full, at: Date.now() });

let buf = '';
process.stdin.on('data', (d: Buffer) => {
  buf += d.toString();
  for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    void command(JSON.parse(line) as { send?: { to: string; body: string; id: string }; ping?: { to: string; id: string }; stop?: true });
  }
});

async function command(c: { send?: { to: string; body: string; id: string }; ping?: { to: string; id: string }; stop?: true }): Promise<void> {
  if (c.send) {
    client.send(chat(c.send.to, c.send.body, c.send.id));
    say({ sent: c.send.id, at: Date.now() });
  } else if (c.ping) {
    const answer = await client.iq(el('iq', NS.CLIENT, { type: 'get', to: c.ping.to, id: c.ping.id }, el('ping', NS.PING)), 15_000).catch((err: unknown) => err);
    if (answer instanceof Error) say({ iq: { id: c.ping.id, type: 'error', error: answer.message }, at: Date.now() });
    else {
      const a = answer as ReturnType<typeof el>;
      say({ iq: { id: c.ping.id, type: attr(a, 'type'), from: attr(a, 'from') }, at: Date.now() });
    }
  } else if (c.stop) {
    await client.stop();
    process.exit(0);
  }
}
