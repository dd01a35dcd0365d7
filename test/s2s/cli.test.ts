/**
 * Federation from the command line and the configuration file: `xmppkit serve` opens the
 * server-to-server listener for a real domain (CONFIG.md s2s.enabled), not for 'localhost'
 * (RFC 6761 §6.3), and the file's s2s section is checked like the rest.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { child } from '../../machines/xml.js';
import { readServerConfig } from '../../runtime/config/server-config.js';
import { RawClient } from '../server/client.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'xmppkit-s2s-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `xmppkit serve ARGS` until its banner is out; then SIGTERM, and the exit code. */
async function serve(...args: string[]): Promise<{ out: string; stop: () => Promise<number | null> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'serve', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve did not start: ${out} ${err}`)), 20_000);
    const check = (): void => {
      if (/account/.test(out)) {
        clearTimeout(t);
        resolve();
      } else setTimeout(check, 50);
    };
    check();
  });
  return {
    out,
    stop: async () => {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

describe('xmppkit serve and federation', () => {
  it('a real domain: the s2s listener answers a jabber:server header with <starttls><required/></starttls> (RFC 6120 §5.3.1)', async () => {
    const s = await serve('--domain', 'b.test', '--data', join(dir, 'b'), '--s2s-port', '0');
    try {
      const m = /server-to-server on 127\.0\.0\.1:(\d+) \(TLS required, dialback allowed\)/.exec(s.out);
      expect(m, s.out).not.toBeNull();
      const c = await RawClient.connect(Number(m![1]));
      c.write(`<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='${NS.STREAMS}' xmlns:db='${NS.DIALBACK}' from='a.test' to='b.test' version='1.0'>`);
      const features = await c.element('features', NS.STREAMS);
      expect(child(child(features, 'starttls', NS.TLS)!, 'required', NS.TLS)).toBeDefined();
      c.destroy();
    } finally {
      expect(await s.stop()).toBe(0);
    }
  }, 40_000);

  it("'localhost' (the default domain) opens no s2s listener, and says why", async () => {
    const s = await serve('--data', join(dir, 'local'));
    try {
      expect(s.out).toContain("no server-to-server listener (the domain 'localhost' cannot federate; stanzas for other domains get <remote-server-not-found/>)");
    } finally {
      expect(await s.stop()).toBe(0);
    }
  }, 40_000);
});

describe('the s2s section of the configuration file (CONFIG.md)', () => {
  it('a good section becomes ServerOptions.s2s', () => {
    const r = readServerConfig('{ "s2s": { "port": 5270, "dialback": false, "tls": "required", "hosts": { "b.test": "10.0.0.2:5269" }, "attemptTimeoutMs": 3000 } }', join(dir, 'x.jsonc'));
    expect(r).toEqual({ ok: true, options: { s2s: { port: 5270, dialback: false, tls: 'required', hosts: { 'b.test': '10.0.0.2:5269' }, attemptTimeoutMs: 3000 } } });
  });

  it('bad values are reported with their line', () => {
    const r = readServerConfig('{\n "s2s": {\n  "tls": "none",\n  "hosts": { "b.test": "nowhere:99999" },\n  "host": "example.com"\n }\n}', join(dir, 'x.jsonc'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => `${p.at.line} ${p.key}`)).toEqual(['3 s2s.tls', '4 s2s.hosts', '5 s2s.host']);
  });
});
