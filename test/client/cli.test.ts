/**
 * The client commands as a user runs them: `xmppkit send` as a child process, and
 * `xmppkit connect` in a real terminal (a private tmux server), against our server.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { child, el, text } from '../../machines/xml.js';
import { createClient, type XmppClient } from '../../runtime/client/index.js';
import { nextStanza, removeDir, startServer, USERS, type Running } from './fixture.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
const MAIN = resolve(ROOT, 'cli/main.ts');

let running: Running;
let bob: XmppClient;
beforeAll(async () => {
  running = await startServer();
  bob = createClient({ jid: 'bob@localhost', password: USERS.bob, host: '127.0.0.1', port: running.port, tls: { ca: running.certPem } });
  await bob.start();
});
afterAll(async () => {
  await bob.stop();
  await running.stop();
  removeDir(running.dataDir);
});

const body = (e: Parameters<typeof child>[0]): string | undefined => {
  const b = child(e, 'body', NS.CLIENT);
  return b ? text(b) : undefined;
};

/** Run `xmppkit ARGS` to completion (asynchronously: the server runs in this process). */
async function xmppkit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TSX, [MAIN, ...args], { cwd: ROOT, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const target = () => ['--host', '127.0.0.1', '--port', String(running.port)];

// Each test spawns tsx processes: seconds each on a loaded machine.
describe('xmppkit send', { timeout: 90_000 }, () => {
  it('logs in, sends one message, closes the stream, exits 0; the recipient gets it', async () => {
    const text = `hello from send ${randomUUID()}`;
    const got = nextStanza(bob, (e) => body(e) === text, 20_000);
    const r = await xmppkit(['send', '--jid', 'alice@localhost', '--password', USERS.alice, ...target(), '--ca', running.certFile, '--to', 'bob@localhost', text]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = await got;
    expect(m.attrs['from']).toMatch(/^alice@localhost\//);
    expect(m.attrs['type']).toBe('chat');
  });

  it('a wrong password exits non-zero naming <not-authorized/> and its section', async () => {
    const r = await xmppkit(['send', '--jid', 'alice@localhost', '--password', 'wrong', ...target(), '--ca', running.certFile, '--to', 'bob@localhost', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^xmppkit: authentication failed: <not-authorized\/> \(RFC 6120 §6\.5\.10\)/);
  });

  it('a self-signed server certificate without --ca or --insecure exits non-zero with the TLS reason', async () => {
    const r = await xmppkit(['send', '--jid', 'alice@localhost', '--password', USERS.alice, ...target(), '--to', 'bob@localhost', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^xmppkit: TLS failed \(RFC 6120 §5\.4\.3\.2\): self[- ]signed certificate.*--ca FILE/);
  });

  it('usage errors exit 2 and print the usage', async () => {
    const r = await xmppkit(['send', '--jid', 'alice@localhost', '--password', 'p', '--insecure', '--ca', running.certFile, '--to', 'bob@localhost', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--insecure or --ca FILE, not both/);
    const noText = await xmppkit(['send', '--jid', 'alice@localhost', '--password', 'p', '--to', 'bob@localhost']);
    expect(noText.code).toBe(2);
    expect(noText.stderr).toMatch(/TEXT is missing/);
  });
});

describe('xmppkit connect (in a terminal)', { timeout: 90_000 }, () => {
  it('prints each transition with its RFC section, round-trips a message, refuses a bad line, quits gracefully', async () => {
    const socket = `xmppkit-test-${process.pid}-${randomUUID().slice(0, 8)}`;
    const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args], { timeout: 10_000 });
    const screen = async (): Promise<string> => (await tmux('capture-pane', '-p', '-J', '-S', '-2000', '-t', 'cli')).stdout;
    const waitFor = async (re: RegExp, timeoutMs = 20_000): Promise<string> => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const s = await screen();
        if (re.test(s)) return s;
        if (Date.now() > until) throw new Error(`${re} did not appear; screen:\n${s}`);
        await new Promise((r) => setTimeout(r, 150));
      }
    };
    const type = async (line: string): Promise<void> => {
      await tmux('send-keys', '-t', 'cli', '-l', line);
      await tmux('send-keys', '-t', 'cli', 'Enter');
    };
    const args = ['connect', '--jid', 'alice@localhost/term', '--password', USERS.alice, ...target(), '--ca', running.certFile];
    // The shell keeps the pane open after the command so its last lines and exit code stay readable.
    const command = `${TSX} ${MAIN} ${args.join(' ')}; echo "EXIT=$?"; sleep 60`;
    await tmux('new-session', '-d', '-s', 'cli', '-x', '200', '-y', '50', '-c', ROOT, command);
    try {
      let s = await waitFor(/\*\*\* online as alice@localhost\/term \(SASL SCRAM-SHA-256\)/);
      for (const line of [
        '[6120 §4.3.2] awaitingStreamHeader --HEADER--> awaitingFeatures',
        '[6120 §5.4.2.1] awaitingFeatures --ELEMENT--> tlsNegotiation',
        '[6120 §5.4.2.3] tlsNegotiation.requested --ELEMENT--> handshake',
        '[6120 §5.4.3.3] tlsNegotiation.handshake --TLS_ESTABLISHED--> awaitingStreamHeader',
        '[6120 §6.4.1] awaitingFeatures --ELEMENT--> saslNegotiation',
        '[6120 §6.4.6] saslNegotiation.evaluating --always--> awaitingStreamHeader',
        '[6120 §7.4] awaitingFeatures --ELEMENT--> resourceBinding',
        '[6120 §7.6.1] resourceBinding.requested --ELEMENT--> established',
      ]) {
        expect(s).toContain(line);
      }
      // The transitions come in protocol order: TLS before SASL before binding.
      expect(s.indexOf('--TLS_ESTABLISHED-->')).toBeLessThan(s.indexOf('--> saslNegotiation'));
      expect(s.indexOf('--> saslNegotiation')).toBeLessThan(s.indexOf('--> resourceBinding'));

      // A line that is not one well-formed element is refused locally.
      await type(`<message to='bob@localhost'><body>unclosed</message>`);
      s = await waitFor(/!!! not sent: not a well-formed XML element/);

      // Typed stanza → bob; bob's reply → printed in the terminal.
      const atBob = nextStanza(bob, (e) => body(e) === 'typed in a terminal', 15_000);
      await type(`<message to='bob@localhost' type='chat'><body>typed in a terminal</body></message>`);
      const m = await atBob;
      expect(m.attrs['from']).toBe('alice@localhost/term');
      expect(await screen()).toContain('[6120 §8] stanzas.exchanging --SEND--> (stays)');
      bob.send(el('message', NS.CLIENT, { to: 'alice@localhost/term', type: 'chat' }, el('body', NS.CLIENT, {}, 'reply from bob')));
      s = await waitFor(/<<< <message [^\n]*from='bob@localhost\/[^']+'[^\n]*><body>reply from bob<\/body><\/message>/);
      expect(s).toContain('[6120 §8] stanzas.exchanging --ELEMENT--> (stays)');

      await type('/quit');
      s = await waitFor(/EXIT=\d+/);
      expect(s).toContain('[6120 §4.4] open --CLOSE--> closing');
      expect(s).toContain('[6120 §4.4] closing --STREAM_CLOSE--> closed');
      expect(s).toContain('*** stream closed (RFC 6120 §4.4)');
      expect(s).toMatch(/EXIT=0/);
    } finally {
      await tmux('kill-server').catch(() => undefined);
    }
  });
});
