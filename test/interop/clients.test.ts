/**
 * Everyday clients against our server on a loopback port, no mocks: aioxmpp (Debian's
 * python3-aioxmpp) with its standard roster service, go-sendxmpp, and profanity driven in
 * tmux (it has no batch mode: keys in with `tmux send-keys`, the screen read back with
 * `tmux capture-pane`). Two accounts; the other end of every message is our own client.
 * A missing peer fails the test loudly (run `npm run setup`), it never skips.
 *
 * Each client's requests that the server refuses (the `stanza.refused` log records) are
 * printed, and must be requests for something the server does not advertise: a client may
 * ask for what we lack, but what we claim (XEP-0030 features, RFC 6121 §2 roster) must work.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { attr, child, el, text, type XmlElement } from '../../machines/xml.js';
import { createClient, type XmppClient } from '../../runtime/client/index.js';
import type { LogRecord } from '../../runtime/server/index.js';
import { SERVER_FEATURES } from '../../runtime/server/server-iq.js';
import { nextStanza } from '../client/fixture.js';
import { eventually } from '../server/client.js';
import { startServer, type Running } from '../server/fixture.js';
import { startPeerProcess } from './peer-process.js';

const PYTHON = '/usr/bin/python3';
const ALICE = { jid: 'alice@localhost', password: 'correct horse' };
const BOB = { jid: 'bob@localhost', password: 'battery staple' };

/** Fail loudly, naming the Debian package, when a peer program is missing. */
function requirePeer(what: string, pkg: string, command: string, args: string[]): void {
  const probe = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(`${what} is not available (install Debian's ${pkg}: npm run setup): ${probe.error?.message ?? probe.stderr}`);
  }
}

let running: Running;
let caFile: string;
let home: string;
let bob: XmppClient;
beforeAll(async () => {
  requirePeer('aioxmpp', 'python3-aioxmpp', PYTHON, ['-c', 'import aioxmpp']);
  requirePeer('go-sendxmpp', 'go-sendxmpp', 'go-sendxmpp', ['--version']);
  requirePeer('profanity', 'profanity', 'profanity', ['--version']);
  requirePeer('tmux', 'tmux', 'tmux', ['-V']);
  running = await startServer({ logLevel: 'info' });
  running.server.accounts.add('alice', ALICE.password);
  running.server.accounts.add('bob', BOB.password);
  home = mkdtempSync(join(tmpdir(), 'xmppkit-clients-'));
  caFile = join(home, 'cert.pem');
  writeFileSync(caFile, running.ca);
  bob = createClient({ jid: `${BOB.jid}/ours`, password: BOB.password, host: '127.0.0.1', port: running.port, tls: { ca: running.ca } });
  await bob.start();
}, 30_000);
afterAll(async () => {
  await bob?.stop();
  await running?.stop();
  if (home !== undefined) rmSync(home, { recursive: true, force: true });
});

const isChatFromAlice = (s: XmlElement) => s.name === 'message' && (attr(s, 'from') ?? '').startsWith(`${ALICE.jid}/`) && child(s, 'body', NS.CLIENT) !== undefined;
const bodyOf = (s: XmlElement) => text(child(s, 'body', NS.CLIENT)!);

/** The server's refusals since `from` (an index into the log), as "type {ns}payload → condition". */
function refusalsSince(from: number): string[] {
  return running.logs
    .slice(from)
    .filter((r: LogRecord) => r.event === 'stanza.refused')
    .map((r) => `${r['kind']} ${r['type'] ?? ''} ${r['payload'] ?? `to ${r['to']}`} → ${r['condition']}`);
}
/** What the server claims (XEP-0030 on the domain, RFC 6121 §2) is never among the refusals. */
function expectNothingClaimedRefused(refusals: readonly string[]): void {
  for (const ns of SERVER_FEATURES) expect(refusals.filter((r) => r.includes(`{${ns}}`)), ns).toEqual([]);
}

describe('aioxmpp', () => {
  it('RFC 6121 §2.2 with aioxmpp.RosterClient: logs in (STARTTLS, pinned certificate), gets the roster (versioned, §2.6), exchanges a message with our client', async () => {
    // An item on alice's roster, so the roster aioxmpp receives is not just empty.
    running.server.rosters.set('alice', BOB.jid, { name: 'Bob', groups: ['Friends'] });
    const logStart = running.logs.length;
    const peer = startPeerProcess(PYTHON, [join(import.meta.dirname, 'aioxmpp_peer.py'), String(running.port), caFile, ALICE.jid, ALICE.password, BOB.jid]);
    // Our client answers the first message it gets from alice.
    const got = await nextStanza(bob, isChatFromAlice, 20_000).catch((e: unknown) => {
      const { stdout, stderr } = peer.output();
      throw new Error(`no message from aioxmpp (${String(e)}): ${stdout} ${stderr}`);
    });
    expect(bodyOf(got)).toBe('hello from aioxmpp');
    bob.send(el('message', NS.CLIENT, { to: attr(got, 'from'), type: 'chat' }, el('body', NS.CLIENT, {}, 'hello from ours')));
    const r = await peer.exited;
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const online = lines[0]!['online'] as string;
    expect(online).toMatch(/^alice@localhost\//);
    const out = lines.at(-1) as { roster_version: string; roster: unknown[]; received: unknown; failures: string[]; stopped: boolean };
    expect(out.failures).toEqual([]);
    expect(out.roster).toEqual([[BOB.jid, 'Bob', 'none', ['Friends']]]);
    expect(out.roster_version).toBe(running.server.rosters.version('alice'));
    expect(out.received).toEqual({ from: `${BOB.jid}/ours`, to: online, body: 'hello from ours' });
    expect(out.stopped).toBe(true);
    await eventually(() => running.server.sessionCount === 1, 5000, 'aioxmpp session closed');
    const refusals = refusalsSince(logStart);
    console.log(`aioxmpp: refused ${JSON.stringify(refusals)}`);
    expectNothingClaimedRefused(refusals);
  }, 40_000);
});

describe('go-sendxmpp', () => {
  it('sends a message (STARTTLS, the certificate verified against ours via SSL_CERT_FILE) that our client receives', async () => {
    const logStart = running.logs.length;
    const received = nextStanza(bob, isChatFromAlice, 20_000);
    const env: NodeJS.ProcessEnv = { ...process.env, SSL_CERT_FILE: caFile, HOME: home };
    delete env['SSL_CERT_DIR'];
    // The message from a file (-m): stdin is not connected, and the server shares this process, so no spawnSync.
    const messageFile = join(home, 'message.txt');
    writeFileSync(messageFile, 'hello from go-sendxmpp\n');
    const peer = startPeerProcess('go-sendxmpp', ['-u', ALICE.jid, '-p', ALICE.password, '-j', `127.0.0.1:${running.port}`, '-m', messageFile, BOB.jid], { env });
    const r = await peer.exited;
    expect(r.code, `${r.stdout} ${r.stderr}`).toBe(0);
    const got = await received;
    expect(bodyOf(got).trim()).toBe('hello from go-sendxmpp');
    expect(attr(got, 'to')).toBe(BOB.jid);
    await eventually(() => running.server.sessionCount === 1, 5000, 'go-sendxmpp session closed');
    const refusals = refusalsSince(logStart);
    console.log(`go-sendxmpp: refused ${JSON.stringify(refusals)}`);
    expectNothingClaimedRefused(refusals);
  }, 30_000);
});

describe('profanity (in tmux)', () => {
  it('logs in with /connect … tls trust (our self-signed certificate), sends a message our client receives, /quit closes the stream', async () => {
    const logStart = running.logs.length;
    const profHome = join(home, 'profanity');
    // A private tmux server (its own socket): only what this test starts is ended.
    const socket = `xmppkit-test-${process.pid}`;
    const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', timeout: 10_000 });
    const screen = () => tmux('capture-pane', '-p', '-J').stdout;
    const waitFor = async (pattern: RegExp, what: string) => {
      const deadline = Date.now() + 15_000;
      while (!pattern.test(screen())) {
        if (Date.now() > deadline) throw new Error(`profanity: no ${what} on screen:\n${screen()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const type = (line: string) => {
      tmux('send-keys', '-l', line);
      tmux('send-keys', 'Enter');
    };
    const env = [`HOME=${profHome}`, `XDG_CONFIG_HOME=${join(profHome, 'config')}`, `XDG_DATA_HOME=${join(profHome, 'data')}`];
    const started = tmux('new-session', '-d', '-x', '200', '-y', '50', ...env.flatMap((e) => ['-e', e]), 'profanity');
    expect(started.status, started.stderr).toBe(0);
    try {
      await waitFor(/Type '\/help'/, 'welcome screen');
      // `tls trust`: "Force TLS connection and trust server's certificate" (profanity's /connect help),
      // what a self-signed certificate needs; TLS is still required.
      type(`/connect ${ALICE.jid} server 127.0.0.1 port ${running.port} tls trust`);
      await waitFor(/Enter password:/, 'password prompt');
      type(ALICE.password);
      await waitFor(/logged in successfully/, 'login');
      const received = nextStanza(bob, isChatFromAlice, 15_000);
      type(`/msg ${BOB.jid} hello from profanity`);
      const got = await received;
      expect(bodyOf(got)).toBe('hello from profanity');
      expect(screen()).not.toMatch(/Error from bob@localhost/);
      type('/quit');
      await eventually(() => running.logs.slice(logStart).some((l) => l.event === 'stream.ended' && l['kind'] === 'closed'), 10_000, 'profanity closed its stream (RFC 6120 §4.4)');
    } finally {
      tmux('kill-server');
    }
    const refusals = refusalsSince(logStart);
    console.log(`profanity: refused ${JSON.stringify(refusals)}`);
    expectNothingClaimedRefused(refusals);
  }, 40_000);
});
