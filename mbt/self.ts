/**
 * `--target self`: our own server (runtime/server createServer) on 127.0.0.1, port 0, with
 * a temporary data directory, one test account and short timers so the timeout paths run in
 * seconds. Two policy profiles, because some transitions exist only under one policy
 * (voluntary STARTTLS needs TLS 'optional', the whitespace keepalive needs keepalive
 * 'whitespace'); together they reach every client-drivable transition.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SERVER_POLICY } from '../machines/policy.js';
import type { Timeouts } from '../machines/protocol.js';
import { DEFAULT_PARSER_OPTIONS } from '../runtime/xml/index.js';
import type { ModelPolicy } from './model.js';
import type { RunProfile, Target } from './run.js';

/** Short enough to keep a run in seconds, long enough that a path's steps finish before a timer (§4.6). */
export const SELF_TIMEOUTS: Timeouts = { negotiation: 5000, idle: 2000, pingResponse: 1000, closeWait: 1000 };

export const SELF_ACCOUNT = { user: 'mbt', password: 'mbt-secret-1' };
export const SELF_DOMAIN = 'localhost';

export const SELF_PROFILES: readonly { name: string; policy: ModelPolicy }[] = [
  { name: 'default', policy: { ...DEFAULT_SERVER_POLICY, timeouts: SELF_TIMEOUTS } },
  { name: 'tls-optional+whitespace', policy: { ...DEFAULT_SERVER_POLICY, tls: 'optional', keepalive: 'whitespace', timeouts: SELF_TIMEOUTS } },
];

export interface SelfServer {
  readonly profile: RunProfile;
  stop(): Promise<void>;
}

export async function startSelf(name: string, policy: ModelPolicy): Promise<SelfServer> {
  const { createServer } = await import('../runtime/server/index.js');
  const dataDir = mkdtempSync(join(tmpdir(), 'xmppkit-mbt-'));
  const { timeouts, ...rest } = policy;
  const server = createServer({
    domain: SELF_DOMAIN,
    port: 0,
    host: '127.0.0.1',
    dataDir,
    policy: { ...rest, timeouts },
    logLevel: 'silent',
  });
  server.accounts.add(SELF_ACCOUNT.user, SELF_ACCOUNT.password);
  const address = await server.listen();
  const target: Target = {
    host: address.host,
    port: address.port,
    account: { domain: server.domain, ...SELF_ACCOUNT },
    insecure: true,
    timeouts,
    // Our server runs with the XML layer's defaults (runtime/xml/options.ts).
    limits: { maxStanzaBytes: DEFAULT_PARSER_OPTIONS.maxStanzaBytes, maxDepth: DEFAULT_PARSER_OPTIONS.maxDepth, maxAttributes: DEFAULT_PARSER_OPTIONS.maxAttributes },
  };
  return {
    profile: { name, policy, target },
    async stop() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
