/**
 * Our own server on an ephemeral loopback port with a temporary data directory (its
 * self-signed certificate generated on first run in DATA/tls/cert.pem), and helpers
 * to wait for client events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { XmlElement } from '../../machines/xml.js';
import type { XmppClient } from '../../runtime/client/index.js';
import { createServer, type LogRecord, type ServerOptions, type XmppServer } from '../../runtime/server/index.js';

export interface Running {
  readonly server: XmppServer;
  readonly port: number;
  readonly dataDir: string;
  /** The server's generated certificate (PEM) and its file. */
  readonly certPem: string;
  readonly certFile: string;
  readonly logs: LogRecord[];
  stop(): Promise<void>;
}

export const USERS = { alice: 'wonderland', bob: 'builder' } as const;

export async function startServer(opts: ServerOptions = {}, dataDir = mkdtempSync(join(tmpdir(), 'xmppkit-client-'))): Promise<Running> {
  const logs: LogRecord[] = [];
  const server = createServer({
    port: 0,
    dataDir,
    logLevel: 'debug',
    logger: (r) => logs.push(r),
    ...opts,
    policy: { ...opts.policy, timeouts: { closeWait: 1000, ...opts.policy?.timeouts } },
    limits: { shutdownGraceMs: 1500, ...opts.limits },
  });
  for (const [u, p] of Object.entries(USERS)) if (server.accounts.lookup(u) === null) server.accounts.add(u, p);
  const { port } = await server.listen();
  return {
    server,
    port,
    dataDir,
    certPem: server.certificatePem ?? '',
    certFile: join(dataDir, 'tls', 'cert.pem'),
    logs,
    async stop() {
      await server.close();
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The next stanza the client receives that satisfies `pred`. */
export function nextStanza(client: XmppClient, pred: (e: XmlElement) => boolean, timeoutMs = 5000): Promise<XmlElement> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('stanza', on);
      reject(new Error(`no matching stanza within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (e: XmlElement): void => {
      if (!pred(e)) return;
      clearTimeout(timer);
      client.off('stanza', on);
      resolve(e);
    };
    client.on('stanza', on);
  });
}

export function nextEvent<K extends 'online' | 'offline' | 'reconnecting' | 'error'>(
  client: XmppClient,
  event: K,
  timeoutMs = 10_000,
): Promise<Parameters<Parameters<XmppClient['once']>[1]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${timeoutMs} ms`)), timeoutMs);
    client.once(event, ((v: never) => {
      clearTimeout(timer);
      resolve(v);
    }) as never);
  });
}
