/**
 * `xmppkit check-config FILE` and `xmppkit serve --config FILE` as real processes: exit codes,
 * every problem printed with its line, a bad file starts nothing, flags override the file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { login } from '../server/client.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'xmppkit-config-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `tsx cli/main.ts` as one node process, as test/server/cli.test.ts runs it. */
const TSX = [process.execPath, '--import', 'tsx', 'cli/main.ts'] as const;
function xmppkit(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(TSX[0], [...TSX.slice(1), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const bad = join(dir, 'bad.jsonc');
writeFileSync(bad, '{\n  "port": "5222", // a string\n  "policy": { "mechanisms": ["CRAM-MD5"] },\n  "colour": "blue",\n}\n');
const BAD_LINES = [
  `${bad}:2:11: port: must be an integer, not the string "5222"`,
  `${bad}:3:29: policy.mechanisms: [0] unknown SASL mechanism "CRAM-MD5": known are SCRAM-SHA-256, SCRAM-SHA-1, PLAIN`,
  `${bad}:4:3: colour: unknown option (known here: domain, host, port, dataDir, cert, key, policy, limits, s2s, logLevel)`,
];

describe('xmppkit check-config', () => {
  it('a good file → "FILE: ok", exit 0', () => {
    const good = join(dir, 'good.jsonc');
    writeFileSync(good, '// defaults but one\n{ "logLevel": "warn" }\n');
    expect(xmppkit('check-config', good)).toMatchObject({ code: 0, stdout: `${good}: ok\n`, stderr: '' });
  });

  it('a bad file → every problem as FILE:LINE:COLUMN, a count, exit 1', () => {
    const r = xmppkit('check-config', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${BAD_LINES.join('\n')}\n${bad}: 3 problems\n`);
  });

  it('a syntax error and a missing file → exit 1 with the position; no file or two files → usage, exit 2', () => {
    const broken = join(dir, 'broken.jsonc');
    writeFileSync(broken, '{\n  "port": 5222,\n  "host": \n}');
    expect(xmppkit('check-config', broken)).toMatchObject({ code: 1, stderr: `${broken}:4:1: expected a value, found character "}"\n${broken}: 1 problem\n` });
    expect(xmppkit('check-config', join(dir, 'absent.jsonc')).stderr).toContain('absent.jsonc:1:1: cannot read the configuration file: no such file');
    expect(xmppkit('check-config').code).toBe(2);
    expect(xmppkit('check-config', bad, bad).code).toBe(2);
  });
});

describe('xmppkit serve --config', () => {
  it('a bad file: the same problems, "not started", exit 1', () => {
    const r = xmppkit('serve', '--config', bad, '--data', join(dir, 'never'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${BAD_LINES.join('\n')}\nxmppkit serve: ${bad}: 3 problems, not started\n`);
    expect(r.stdout).not.toContain('listening');
  });

  it('a good file starts the server as it says; a flag overrides the file (--log-level), SIGTERM → exit 0', async () => {
    const file = join(dir, 'serve.jsonc');
    writeFileSync(file, `{\n  "port": 0, // a free one\n  "dataDir": "served",\n  "logLevel": "silent",\n  "policy": { "mechanisms": ["SCRAM-SHA-1"] }\n}\n`);
    const child = spawn(TSX[0], [...TSX.slice(1), 'serve', '--config', file, '--log-level', 'info'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
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
      expect(out).toContain(`data in ${join(dir, 'served')}`); // relative to the file, not the working directory
      expect(xmppkit('adduser', 'alice@localhost', 'secret', '--data', join(dir, 'served')).code).toBe(0);
      const ca = readFileSync(join(dir, 'served', 'tls', 'cert.pem'), 'utf8');
      await expect(login(port, { username: 'alice', password: 'secret', ca, mechanism: 'SCRAM-SHA-256' })).rejects.toThrow(); // not offered by the file's policy
      const { client } = await login(port, { username: 'alice', password: 'secret', ca, mechanism: 'SCRAM-SHA-1' });
      client.destroy();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    // --log-level info over the file's "silent": JSON records on stderr.
    expect(err.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { event: string }).event)).toContain('listening');
  });
});
