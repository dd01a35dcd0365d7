/**
 * Interop with xmpp.js (@xmpp/client, devDependency), no mocks: two xmpp.js clients in a
 * child Node process against a real server on a loopback port. The server's self-signed
 * certificate is trusted through NODE_EXTRA_CA_CERTS (xmpp.js's STARTTLS takes no CA
 * option), so certificate verification stays on. Fails loudly when @xmpp/client is missing.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_FEATURES } from '../../runtime/server/server-iq.js';
import { eventually } from '../server/client.js';
import { startServer, type Running } from '../server/fixture.js';
import { startPeerProcess } from './peer-process.js';

const SCRIPT = join(import.meta.dirname, 'xmppjs_peer.mjs');

let running: Running;
let caFile: string;
beforeAll(async () => {
  try {
    createRequire(import.meta.url).resolve('@xmpp/client');
  } catch {
    throw new Error('@xmpp/client is not installed (it is a devDependency: run npm install)');
  }
  running = await startServer({ logLevel: 'info' });
  running.server.accounts.add('alice', 'correct horse');
  running.server.accounts.add('bob', 'battery staple');
  caFile = join(running.dataDir, 'pinned-cert.pem');
  writeFileSync(caFile, running.ca);
});
afterAll(async () => {
  await running?.stop();
});

interface PeerOutput {
  failures: string[];
  login_ms: number[];
  jids: string[];
  tls: boolean[];
  mechanisms: (string | null)[];
  b_received: unknown;
  a_received: unknown;
  ping_ms: number;
  ping_type: string;
  disco_identities: string[][];
  disco_features: string[];
  roster: string;
  stopped: string[];
}

async function runPeer(env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: PeerOutput; stderr: string }> {
  const args = [SCRIPT, String(running.port), 'localhost', 'alice', 'correct horse', 'bob', 'battery staple'];
  const { code, stdout, stderr } = await startPeerProcess(process.execPath, args, { env }).exited;
  try {
    return { code, out: JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as PeerOutput, stderr };
  } catch {
    throw new Error(`xmpp.js peer printed no JSON (exit ${code}): ${stdout} ${stderr}`);
  }
}

const baseEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env['NODE_TLS_REJECT_UNAUTHORIZED'];
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
};

describe('xmpp.js interop', () => {
  it('two xmpp.js clients: STARTTLS (verified) + SCRAM-SHA-1, bind, messages both ways, ping, disco, clean stop', async () => {
    const { code, out, stderr } = await runPeer({ ...baseEnv(), NODE_EXTRA_CA_CERTS: caFile });
    expect(code, `${JSON.stringify(out)} ${stderr}`).toBe(0);
    console.log(`xmpp.js: login ${out.login_ms.join(' / ')} ms, ping ${out.ping_ms} ms`);
    expect(out.failures).toEqual([]);
    expect(out.tls).toEqual([true, true]);
    // xmpp.js implements SCRAM-SHA-1 and PLAIN; it takes the first of ours (§6.3.3 order) it knows.
    expect(out.mechanisms).toEqual(['SCRAM-SHA-1', 'SCRAM-SHA-1']);
    const [a, b] = out.jids as [string, string];
    expect(a).toMatch(/^alice@localhost\/[0-9a-f]{16}$/);
    expect(b).toMatch(/^bob@localhost\/[0-9a-f]{16}$/);
    expect(out.b_received).toEqual({ from: a, to: b, body: 'hello from a' });
    expect(out.a_received).toEqual({ from: b, to: 'alice@localhost', body: 'hello from b' });
    expect(out.ping_type).toBe('result');
    expect(out.disco_identities).toEqual([['server', 'im']]);
    expect(out.disco_features).toEqual([...SERVER_FEATURES].sort()); // what the server really answers (server-iq.ts)
    expect(out.roster).toBe('result'); // RFC 6121 §2.2: the empty roster
    expect(out.stopped).toEqual(['offline', 'offline']);
    await eventually(() => running.server.connectionCount === 0, 5000, 'both connections closed');
    expect(running.logs.filter((l) => l.event === 'stream.ended').map((l) => l['kind'])).toEqual(['closed', 'closed']);
    expect(running.server.sessionCount).toBe(0);
  }, 90_000);

  it('without the pinned certificate xmpp.js refuses the server: verification really is on', async () => {
    const { code, out } = await runPeer(baseEnv());
    expect(code).toBe(1);
    expect(out.failures.join(' ')).toMatch(/self[- ]signed|unable to verify|certificate/i);
    await eventually(() => running.server.connectionCount === 0, 5000, 'connections closed after the TLS failure');
  }, 90_000);
});
