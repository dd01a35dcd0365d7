/**
 * A real server on an ephemeral loopback port with a temporary data directory, for tests.
 * One certificate per test file (RSA key generation is the slow part of a first run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type LogRecord, type ServerOptions, type XmppServer } from '../../runtime/server/index.js';
import { createSelfSignedCertificate, type CertificateBundle } from '../../runtime/tls/index.js';

let bundle: CertificateBundle | undefined;
export function certificate(): CertificateBundle {
  bundle ??= createSelfSignedCertificate('localhost');
  return bundle;
}

export interface Running {
  readonly server: XmppServer;
  readonly port: number;
  readonly dataDir: string;
  readonly ca: string;
  readonly logs: LogRecord[];
  stop(): Promise<void>;
}

/** Short timeouts so that waiting for a close does not slow the suite. */
export async function startServer(opts: ServerOptions = {}): Promise<Running> {
  const dataDir = mkdtempSync(join(tmpdir(), 'xmppkit-server-'));
  const cert = certificate();
  const logs: LogRecord[] = [];
  const server = createServer({
    port: 0,
    dataDir,
    cert: cert.certPem,
    key: cert.keyPem,
    logLevel: 'debug',
    logger: (r) => logs.push(r),
    ...opts,
    policy: { ...opts.policy, timeouts: { closeWait: 400, ...opts.policy?.timeouts } },
    limits: { shutdownGraceMs: 1500, ...opts.limits },
  });
  const { port } = await server.listen();
  return {
    server,
    port,
    dataDir,
    ca: cert.certPem,
    logs,
    async stop() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
