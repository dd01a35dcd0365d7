/**
 * The account CLI and `serve`, run as real processes (`npx tsx cli/main.ts ...`)
 * on a temporary data directory.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { el } from '../../machines/xml.js';
import { createServer } from '../../runtime/server/index.js';
import { presentedIdentifiers } from '../../runtime/tls/index.js';
import { certificate } from './fixture.js';
import { login, RawClient, streamErrorCondition } from './client.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'xmppkit-cli-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * `tsx cli/main.ts ARGS` as one node process (node --import tsx): what `npx tsx` runs,
 * without npm's wrapper process, so signals reach the server and no grandchild is left over.
 */
const TSX = [process.execPath, '--import', 'tsx', 'cli/main.ts'] as const;
function xmppkit(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(TSX[0], [...TSX.slice(1), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('xmppkit adduser / passwd / deluser', () => {
  it('the documented command line works: npx tsx cli/main.ts adduser', () => {
    const data = tempDir();
    const r = spawnSync('npx', ['tsx', 'cli/main.ts', 'adduser', 'juliet@localhost', 'pw', '--data', data], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('added juliet@localhost');
  });

  it('adds, refuses duplicates, bad JIDs and other domains, changes passwords, deletes', () => {
    const data = tempDir();
    const add = xmppkit('adduser', 'Alice@localhost', 'secret', '--data', data);
    expect(add).toMatchObject({ code: 0 });
    expect(add.stdout).toContain('added alice@localhost'); // RFC 7622 §3.3: the localpart is case-folded
    expect(JSON.parse(readFileSync(join(data, 'server.json'), 'utf8'))).toEqual({ domain: 'localhost' });
    // Only SCRAM keys are stored, never the password.
    expect(readFileSync(join(data, 'accounts.sqlite')).includes(Buffer.from('secret'))).toBe(false);

    const again = xmppkit('adduser', 'alice@localhost', 'other', '--data', data);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('account exists: alice@localhost');

    const otherDomain = xmppkit('adduser', 'bob@example.org', 'pw', '--data', data);
    expect(otherDomain.code).toBe(2);
    expect(otherDomain.stderr).toContain("this server's domain is 'localhost', not 'example.org'");

    for (const bad of ['bob', 'bob@@localhost', 'bob@localhost/phone']) {
      const r = xmppkit('adduser', bad, 'pw', '--data', data);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/bare JID/);
    }
    expect(xmppkit('adduser', 'bob@localhost', '--data', data).code).toBe(2); // missing password

    expect(xmppkit('passwd', 'alice@localhost', 'newsecret', '--data', data)).toMatchObject({ code: 0 });
    const noUser = xmppkit('passwd', 'carol@localhost', 'x', '--data', data);
    expect(noUser.code).toBe(1);
    expect(noUser.stderr).toContain('no such account: carol@localhost');

    expect(xmppkit('deluser', 'alice@localhost', '--data', data)).toMatchObject({ code: 0 });
    expect(xmppkit('deluser', 'alice@localhost', '--data', data).code).toBe(1);
    const fresh = tempDir();
    const nothing = xmppkit('deluser', 'alice@localhost', '--data', join(fresh, 'none'));
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('no server data');
  });
});

describe('createServer certificate options', () => {
  it('--cert/--key files are used as given; no certificate is generated then', async () => {
    const dir = tempDir();
    const bundle = certificate();
    writeFileSync(join(dir, 'c.pem'), bundle.certPem);
    writeFileSync(join(dir, 'k.pem'), bundle.keyPem);
    const server = createServer({ port: 0, dataDir: join(dir, 'data'), cert: join(dir, 'c.pem'), key: join(dir, 'k.pem'), logLevel: 'silent' });
    try {
      expect(server.certificatePem).toBe(bundle.certPem);
      expect(existsSync(join(dir, 'data', 'tls'))).toBe(false);
      const { port } = await server.listen();
      const c = await RawClient.connect(port);
      c.open();
      await c.element('features', NS.STREAMS);
      c.send(el('starttls', NS.TLS));
      await c.element('proceed', NS.TLS);
      const secure = await c.startTls(bundle.certPem);
      expect(secure.authorized).toBe(true);
      c.destroy();
    } finally {
      await server.close();
    }
    expect(() => createServer({ port: 0, dataDir: join(dir, 'data'), cert: join(dir, 'missing.pem'), key: join(dir, 'k.pem'), logLevel: 'silent' })).toThrow(/no such file/);
  });
});

describe('xmppkit serve', () => {
  it('first run creates the certificate and store; users added while it runs can log in; SIGTERM → <system-shutdown/>, exit 0', async () => {
    const data = join(tempDir(), 'data');
    const child = spawn(TSX[0], [...TSX.slice(1), 'serve', '--port', '0', '--data', data, '--log-level', 'info'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`serve did not start: ${out} ${err}`)), 20_000);
        const check = (): void => {
          const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) {
            clearTimeout(t);
            resolve(Number(m[1]));
          } else setTimeout(check, 50);
        };
        check();
      });
      expect(out).toContain('npx xmppkit adduser alice@localhost PASSWORD');
      // RFC 6120 §13.7.1.2: DNS-ID, SRV-ID and XmppAddr for the domain.
      const certPem = readFileSync(join(data, 'tls', 'cert.pem'), 'utf8');
      const ids = presentedIdentifiers(certPem);
      expect(JSON.stringify(ids)).toContain('_xmpp-client.localhost');
      expect(existsSync(join(data, 'accounts.sqlite'))).toBe(true);

      expect(xmppkit('adduser', 'alice@localhost', 'secret', '--data', data).code).toBe(0);
      const { client } = await login(port, { username: 'alice', password: 'secret', ca: certPem });
      expect(xmppkit('passwd', 'alice@localhost', 'changed', '--data', data).code).toBe(0);
      await login(port, { username: 'alice', password: 'changed', ca: certPem }).then(({ client: c }) => c.destroy());
      await expect(login(port, { username: 'alice', password: 'secret', ca: certPem })).rejects.toThrow(/not-authorized/);

      const closeTag = client.next((e) => e.type === 'STREAM_CLOSE', 10_000).then(() => client.write('</stream:stream>'));
      child.kill('SIGTERM');
      await closeTag;
      const error = client.elements().find((e) => e.name === 'error' && e.xmlns === NS.STREAMS);
      expect(error && streamErrorCondition(error)).toBe('system-shutdown');
      expect(await exited).toBe(0);
      // Structured logs: one JSON object per line on stderr, never a password.
      const records = err.trim().split('\n').map((line) => JSON.parse(line) as { level: string; event: string });
      expect(records.map((r) => r.event)).toEqual(expect.arrayContaining(['listening', 'stream.authenticated', 'stream.bound', 'shutdown', 'stopped']));
      expect(records.every((r) => ['info', 'warn', 'error'].includes(r.level))).toBe(true);
      expect(err).not.toContain('secret');
      expect(err).not.toContain('changed');
      await expect(RawClient.connect(port)).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);

  it('refuses a data directory that serves another domain', () => {
    const data = tempDir();
    expect(xmppkit('adduser', 'a@example.org', 'pw', '--data', data).code).toBe(0);
    const r = xmppkit('serve', '--port', '0', '--domain', 'localhost', '--data', data);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("serves the domain 'example.org'");
  });
});
