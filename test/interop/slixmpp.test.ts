/**
 * Interop with slixmpp (Debian's python3-slixmpp), no mocks: two slixmpp clients, then one
 * slixmpp and one xmpp.js client, against a real server on a loopback port. Fails loudly
 * when the peer is missing (run `npm run setup`).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_FEATURES } from '../../runtime/server/server-iq.js';
import { eventually } from '../server/client.js';
import { startServer, type Running } from '../server/fixture.js';
import { startPeerProcess, type PeerExit } from './peer-process.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'slixmpp_peer.py');

let running: Running;
beforeAll(async () => {
  const probe = spawnSync(PYTHON, ['-c', 'import slixmpp; print(slixmpp.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`slixmpp is not available to ${PYTHON} (install Debian's python3-slixmpp: npm run setup): ${probe.stderr ?? probe.error}`);
  running = await startServer({ logLevel: 'info' });
  running.server.accounts.add('alice', 'correct horse');
  running.server.accounts.add('bob', 'battery staple');
  running.server.accounts.add('carol', 'tr0ub4dor');
});
afterAll(async () => {
  await running?.stop();
});

/** xmpp.js in echo mode (xmppjs_peer.mjs), trusting the pinned certificate; resolves its full JID once online. */
function startXmppjsEcho(ca: string): { online: Promise<string>; exited: Promise<PeerExit> } {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: ca };
  delete env['NODE_TLS_REJECT_UNAUTHORIZED'];
  let announce: (jid: string) => void = () => undefined;
  const peer = startPeerProcess(process.execPath, [join(import.meta.dirname, 'xmppjs_peer.mjs'), 'echo', String(running.port), 'localhost', 'carol', 'tr0ub4dor', 'xmppjs'], {
    env,
    onStdout: (stdout) => {
      const m = /\{"online":"([^"]+)"\}/.exec(stdout);
      if (m) announce(m[1]!);
    },
  });
  const online = new Promise<string>((resolve, reject) => {
    announce = resolve;
    setTimeout(() => {
      const { stdout, stderr } = peer.output();
      reject(new Error(`xmpp.js echo peer not online: ${stdout} ${stderr}`));
    }, 30_000).unref();
  });
  return { online, exited: peer.exited };
}

function runPeer(args: string[]): Promise<PeerExit> {
  return startPeerProcess(PYTHON, [SCRIPT, ...args]).exited;
}

describe('slixmpp interop', () => {
  it('two slixmpp clients: STARTTLS + SCRAM-SHA-256 / SCRAM-SHA-1, bind, messages both ways, ping, disco, clean disconnect', async () => {
    const ca = join(running.dataDir, 'pinned-cert.pem');
    writeFileSync(ca, running.ca);
    const r = await runPeer([String(running.port), ca, 'alice@localhost', 'correct horse', 'SCRAM-SHA-256', 'bob@localhost', 'battery staple', 'SCRAM-SHA-1']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown> & {
      jids: string[];
      login_ms: number[];
      ping_ms: number;
    };
    console.log(`slixmpp: login ${out.login_ms.join(' / ')} ms, ping ${out.ping_ms} ms`);
    expect(out.failures).toEqual([]);
    expect(out.tls).toEqual([true, true]);
    const [a, b] = out.jids;
    expect(a).toMatch(/^alice@localhost\/[0-9a-f]{16}$/);
    expect(b).toMatch(/^bob@localhost\/[0-9a-f]{16}$/);
    // 'from' is stamped by the server with the sender's full JID (RFC 6120 §8.1.2.1).
    expect(out.b_received).toEqual({ from: a, to: b, body: 'hello from a' });
    expect(out.a_received).toEqual({ from: b, to: 'alice@localhost', body: 'hello from b' });
    expect(out.disco_identities).toEqual([['server', 'im']]);
    expect(out.disco_features).toEqual([...SERVER_FEATURES].sort()); // what the server really answers (server-iq.ts)
    expect(out.roster).toBe('result'); // RFC 6121 §2.2: the empty roster
    expect(out.disconnected).toBe(true);
    // The server saw SCRAM logins, bound sessions and clean §4.4 closes.
    await eventually(() => running.server.connectionCount === 0, 5000, 'both connections closed');
    const ended = running.logs.filter((l) => l.event === 'stream.ended');
    expect(ended.map((l) => l['kind'])).toEqual(['closed', 'closed']);
    expect(running.server.sessionCount).toBe(0);
  }, 90_000);

  it('slixmpp ↔ xmpp.js through the server: messages both ways between two implementations', async () => {
    const ca = join(running.dataDir, 'pinned-cert.pem');
    writeFileSync(ca, running.ca);
    const echo = startXmppjsEcho(ca);
    const peerJid = await echo.online;
    expect(peerJid).toBe('carol@localhost/xmppjs'); // client-submitted resourcepart (§7.7)
    const r = await runPeer(['cross', String(running.port), ca, 'alice@localhost', 'correct horse', 'SCRAM-SHA-256', peerJid]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { jid: string; echoes: unknown[]; failures: string[]; disconnected: boolean };
    expect(out.failures).toEqual([]);
    expect(out.echoes).toEqual([
      { from: peerJid, to: out.jid, body: 'echo: first <&> message' },
      { from: peerJid, to: out.jid, body: 'echo: second' },
    ]);
    expect(out.disconnected).toBe(true);
    const js = await echo.exited;
    expect(js.code, js.stderr).toBe(0);
    expect(js.stdout).toContain('{"stopped":"offline"}');
    await eventually(() => running.server.connectionCount === 0 && running.server.sessionCount === 0, 5000, 'all closed');
  }, 90_000);
});
