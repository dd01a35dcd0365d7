/**
 * runtime/config/server-config.ts: the configuration file becomes ServerOptions, or every
 * problem in it is reported with its line and column; CONFIG.md documents every option; a
 * server started from a file serves what the file says.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { child, childElements, el, text } from '../../machines/xml.js';
import { NS } from '../../machines/ns.js';
import { configKeys, formatProblem, loadServerConfig, readServerConfig, withOverrides, type ConfigProblem } from '../../runtime/config/server-config.js';
import { createClient } from '../../runtime/client/index.js';
import { DEFAULT_SERVER_POLICY } from '../../machines/policy.js';
import { DEFAULT_MAX_BIND_ATTEMPTS } from '../../machines/receiving/bind.js';
import { createServer } from '../../runtime/server/index.js';
import { DEFAULT_OFFLINE_MESSAGES_PER_ACCOUNT } from '../../runtime/server/server.js';
import { createSelfSignedCertificate } from '../../runtime/tls/index.js';
import { secured, streamErrorCondition } from '../server/client.js';
import { certificate } from '../server/fixture.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'xmppkit-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');
writeFileSync(certFile, certificate().certPem);
writeFileSync(keyFile, certificate().keyPem);
const configFile = join(dir, 'xmppkit.jsonc');

function problemsOf(text: string): ConfigProblem[] {
  const r = readServerConfig(text, configFile);
  if (r.ok) throw new Error('expected problems');
  return [...r.problems];
}
/** "line:column key: message" per problem, for compact expectations. */
const brief = (ps: readonly ConfigProblem[]) => ps.map((p) => `${p.at.line}:${p.at.column} ${p.key}`);

describe('a good file', () => {
  it('every option, with comments and trailing commas → the ServerOptions, paths relative to the file', () => {
    const text = `// the test server
{
  "domain": "im.example.com",
  "host": "::1",
  "port": 5223,
  "dataDir": "data", /* next to this file */
  "cert": "cert.pem",
  "key": "${keyFile}",
  "policy": {
    "tls": "optional",
    "mechanisms": ["SCRAM-SHA-1", "PLAIN"],
    "allowPlainWithoutTls": true,
    "maxAuthAttempts": 2,
    "maxBindAttempts": 10,
    "resourceConflict": "generate",
    "maxResourcesPerAccount": 3,
    "keepalive": "whitespace",
    "timeouts": { "negotiation": 1000, "idle": 2000, "pingResponse": 3000, "closeWait": 4000 },
  },
  "limits": { "maxStanzaBytes": 10000, "maxConnections": 7, "bytesPerSecond": 100, "burstBytes": 200, "shutdownGraceMs": 0, "offlineMessagesPerAccount": 0 },
  "logLevel": "silent",
}`;
    expect(readServerConfig(text, configFile)).toEqual({
      ok: true,
      options: {
        domain: 'im.example.com',
        host: '::1',
        port: 5223,
        dataDir: join(dir, 'data'),
        cert: certFile,
        key: keyFile,
        policy: {
          tls: 'optional',
          mechanisms: ['SCRAM-SHA-1', 'PLAIN'],
          allowPlainWithoutTls: true,
          maxAuthAttempts: 2,
          maxBindAttempts: 10,
          resourceConflict: 'generate',
          maxResourcesPerAccount: 3,
          keepalive: 'whitespace',
          timeouts: { negotiation: 1000, idle: 2000, pingResponse: 3000, closeWait: 4000 },
        },
        limits: { maxStanzaBytes: 10000, maxConnections: 7, bytesPerSecond: 100, burstBytes: 200, shutdownGraceMs: 0, offlineMessagesPerAccount: 0 },
        logLevel: 'silent',
      },
    });
  });

  it('an empty object is a good file: every default', () => {
    expect(readServerConfig('{}', configFile)).toEqual({ ok: true, options: {} });
  });

  it('command-line flags override the file; absent flags leave it', () => {
    const file = { domain: 'a.example', port: 5222, host: '127.0.0.1', policy: { tls: 'none' as const } };
    expect(withOverrides(file, { port: 0, host: undefined, dataDir: '/d' })).toEqual({ domain: 'a.example', port: 0, host: '127.0.0.1', dataDir: '/d', policy: { tls: 'none' } });
  });
});

describe('every problem, with its line', () => {
  it('unknown keys, duplicates, wrong types, out-of-range numbers, unknown names, missing files: all reported, in file order', () => {
    const text = `{
  "domian": "x",
  "domain": "not a domain!",
  "port": 70000,
  "host": 5,
  "cert": "missing.pem",
  "key": "${keyFile}",
  "policy": {
    "tls": "sometimes",
    "mechanisms": ["SCRAM-SHA-256", "DIGEST-MD5"],
    "maxAuthAttempts": 7,
    "maxBindAttempts": 4,
    "maxResourcesPerAccount": 1.5,
    "allowPlainWithoutTls": "no",
    "timeouts": { "idle": 0, "closeWait": 2147483648, "later": 1 },
  },
  "limits": { "maxStanzaBytes": 9999, "maxConnections": "many", "offlineMessagesPerAccount": -1 },
  "limits": {},
  "logLevel": "verbose",
  "policies": {},
}`;
    const ps = problemsOf(text);
    expect(brief(ps)).toEqual([
      '2:3 domian',
      '3:13 domain',
      '4:11 port',
      '5:11 host',
      '6:11 cert',
      '9:12 policy.tls',
      '10:19 policy.mechanisms',
      '11:24 policy.maxAuthAttempts',
      '12:24 policy.maxBindAttempts',
      '13:31 policy.maxResourcesPerAccount',
      '14:29 policy.allowPlainWithoutTls',
      '15:27 policy.timeouts.idle',
      '15:43 policy.timeouts.closeWait',
      '15:55 policy.timeouts.later',
      '17:33 limits.maxStanzaBytes',
      '17:57 limits.maxConnections',
      '17:94 limits.offlineMessagesPerAccount',
      '18:3 limits',
      '19:15 logLevel',
      '20:3 policies',
    ]);
    const message = (key: string) => ps.find((p) => p.key === key)!.message;
    expect(message('domian')).toBe('unknown option (known here: domain, host, port, dataDir, cert, key, policy, limits, s2s, logLevel)');
    expect(message('domain')).toContain('not a valid domain (RFC 7622 §3.2)');
    expect(message('port')).toBe('must be from 0 to 65535 (a TCP port; 0 picks a free one), not 70000');
    expect(message('host')).toBe('must be a string, not 5');
    expect(message('cert')).toBe(`no such file: ${join(dir, 'missing.pem')}`);
    expect(message('policy.tls')).toContain('unknown value "sometimes"');
    expect(message('policy.mechanisms')).toBe('[1] unknown SASL mechanism "DIGEST-MD5": known are SCRAM-SHA-256, SCRAM-SHA-1, PLAIN');
    expect(message('policy.maxAuthAttempts')).toBe('must be from 2 to 5 (RFC 6120 §6.4.5: "at least 2 and no more than 5"), not 7');
    expect(message('policy.maxBindAttempts')).toContain('RFC 6120 §7.7.3');
    expect(message('policy.maxResourcesPerAccount')).toBe('must be an integer, not 1.5');
    expect(message('policy.allowPlainWithoutTls')).toBe('must be true or false, not the string "no"');
    expect(message('policy.timeouts.closeWait')).toContain('from 1 to 2147483647');
    expect(message('policy.timeouts.later')).toContain('known here: negotiation, idle, pingResponse, closeWait');
    expect(message('limits.maxStanzaBytes')).toContain('RFC 6120 §13.12');
    expect(message('limits')).toBe('duplicate key (first at 17:3)');
    expect(formatProblem('f.jsonc', ps[0]!)).toBe('f.jsonc:2:3: domian: unknown option (known here: domain, host, port, dataDir, cert, key, policy, limits, s2s, logLevel)');
  });

  it('a syntax error is one problem at its position', () => {
    expect(problemsOf('{\n  "port": 5222\n  "host": "x"\n}')).toEqual([
      { at: { line: 3, column: 3 }, key: '', message: `expected ',' or '}' after the value of "port", found character "\\""` },
    ]);
  });

  it('sections must be objects, mechanisms a non-empty list without repeats, the document an object', () => {
    expect(problemsOf('{"policy": [], "limits": 3}').map((p) => `${p.key}: ${p.message}`)).toEqual(['policy: must be an object {…}, not an array', 'limits: must be an object {…}, not 3']);
    expect(problemsOf('{"policy": {"mechanisms": []}}')[0]!.message).toContain('at least one');
    expect(problemsOf('{"policy": {"mechanisms": ["PLAIN", "PLAIN"]}}')[0]!.message).toBe('[1] "PLAIN" is listed twice');
    expect(problemsOf('[1]')[0]).toMatchObject({ at: { line: 1, column: 1 }, message: 'must be an object {…}, not an array' });
  });

  it('TLS files: cert needs key, a file that is not PEM, a key that is not the certificate\'s', () => {
    expect(problemsOf(`{"cert": "${certFile}"}`)).toEqual([{ at: { line: 1, column: 2 }, key: 'cert', message: '"cert" needs "key" too (a certificate and its private key)' }]);
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    expect(problemsOf(`{"cert": "not.pem", "key": "not.pem"}`).map((p) => p.message)).toEqual([`not a PEM file (no "-----BEGIN"): ${notPem}`, `not a PEM file (no "-----BEGIN"): ${notPem}`]);
    const otherKey = join(dir, 'other-key.pem');
    writeFileSync(otherKey, createSelfSignedCertificate('localhost').keyPem);
    const mismatch = problemsOf(`{"cert": "cert.pem",\n "key": "other-key.pem"}`);
    expect(mismatch).toHaveLength(1);
    expect(mismatch[0]).toMatchObject({ at: { line: 2, column: 2 }, key: 'key' });
    expect(mismatch[0]!.message).toContain('cert and key are not a usable pair');
  });

  it('dataDir must be a directory if it exists; a missing configuration file is one problem', () => {
    expect(problemsOf(`{"dataDir": "cert.pem"}`)[0]!.message).toBe(`not a directory: ${certFile}`);
    expect(loadServerConfig(join(dir, 'nope.jsonc'))).toEqual({ ok: false, problems: [{ at: { line: 1, column: 1 }, key: '', message: 'cannot read the configuration file: no such file' }] });
  });
});

describe('CONFIG.md', () => {
  it('its table lists every option of the schema, in order, and no other', () => {
    const md = readFileSync(join(ROOT, 'CONFIG.md'), 'utf8');
    const rows = [...md.matchAll(/^\| `([A-Za-z0-9.]+)` \|/gm)].map((m) => m[1]);
    expect(rows).toEqual(configKeys());
    // The example at its top is a good file (its TLS files aside, which do not exist here).
    const example = /```jsonc\n([\s\S]*?)```/.exec(md)![1]!.replace(/\s*"(cert|key)": "[^"]*",[^\n]*/g, '');
    expect(readServerConfig(example, configFile)).toMatchObject({ ok: true });
  });

  it('its policy defaults are the machines\' (machines/policy.ts) and the offline bound the server\'s', () => {
    const md = readFileSync(join(ROOT, 'CONFIG.md'), 'utf8');
    const json = (cell: string): unknown => {
      try {
        return JSON.parse(cell) as unknown;
      } catch {
        return cell; // e.g. `./data`: a path, not JSON
      }
    };
    const defaults = new Map([...md.matchAll(/^\| `([A-Za-z.]+)` \| (?:[^|]|\\\|)+ \| `([^`|]+)` \|/gm)].map((m) => [m[1]!, json(m[2]!)]));
    const policy: Record<string, unknown> = { ...DEFAULT_SERVER_POLICY, maxBindAttempts: DEFAULT_MAX_BIND_ATTEMPTS };
    const checked = configKeys().filter((k) => k.startsWith('policy.') && defaults.has(k));
    expect(checked).toHaveLength(11); // all but mechanisms, whose default is said in words
    for (const k of checked) {
      const path = k.split('.').slice(1);
      const actual = path.reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], policy);
      expect(defaults.get(k), k).toEqual(actual);
    }
    expect(DEFAULT_SERVER_POLICY.mechanisms).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']); // "all three, in that order"
    expect(defaults.get('limits.offlineMessagesPerAccount')).toBe(DEFAULT_OFFLINE_MESSAGES_PER_ACCOUNT);
  });

  it('README links it', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('(CONFIG.md)');
  });
});

describe('a server started from a file', () => {
  it('serves the domain, policy and limits the file gives (loopback, free port)', async () => {
    const data = join(dir, 'served');
    mkdirSync(data);
    const file = join(data, 'xmppkit.jsonc');
    writeFileSync(
      file,
      `{
  "domain": "localhost", "host": "127.0.0.1", "port": 0, "dataDir": ".",
  "cert": "${certFile}", "key": "${keyFile}",
  "policy": { "mechanisms": ["SCRAM-SHA-1"], "timeouts": { "closeWait": 500 } },
  "limits": { "maxStanzaBytes": 20000, "shutdownGraceMs": 1000 },
  "logLevel": "silent"
}`,
    );
    const config = loadServerConfig(file);
    if (!config.ok) throw new Error(config.problems.map((p) => formatProblem(file, p)).join('\n'));
    const server = createServer(config.options);
    try {
      server.accounts.add('alice', 'secret');
      const { port } = await server.listen();
      expect(server.dataDir).toBe(data);
      const client = createClient({ jid: 'alice@localhost', password: 'secret', host: '127.0.0.1', port, tls: { ca: certificate().certPem } });
      try {
        expect(await client.start()).toMatch(/^alice@localhost\//);
      } finally {
        await client.stop();
      }
      // The file's policy: only SCRAM-SHA-1 offered (RFC 6120 §6.4.1); its limit: a 25000-byte element is over 20000 (§13.12).
      const { client: raw, features } = await secured(port, certificate().certPem);
      try {
        const mechanisms = childElements(child(features, 'mechanisms', NS.SASL)!).map((m) => text(m));
        expect(mechanisms).toEqual(['SCRAM-SHA-1']);
        raw.send(el('iq', NS.CLIENT, { type: 'get', id: 'big', pad: 'x'.repeat(25_000) }, el('ping', NS.PING)));
        const error = await raw.element('error', NS.STREAMS, 5000);
        expect(streamErrorCondition(error)).toBe('policy-violation');
      } finally {
        raw.socket.destroy();
      }
    } finally {
      await server.close();
    }
  });
});
