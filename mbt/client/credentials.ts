/**
 * The scripted server's certificates (RFC 6120 §13.7): a test CA whose certificate the
 * client is given ({ca}), the server's certificate for the domain signed by it (the client
 * must accept it, §13.7.2), and a self-signed one for the same name that the client must
 * refuse (§5.4.3.2: the handshake fails). Made once per run in a temporary directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificate, xmppServerIdentifiers } from '../../runtime/tls/index.js';
import type { ServerCredentials } from './run.js';

export function makeServerCredentials(domain: string): ServerCredentials & { dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'xmppkit-mbt-client-'));
  const ca = createCertificate({ authority: true, cn: 'xmppkit mbt test CA' });
  const trusted = createCertificate({ ...xmppServerIdentifiers(domain), issuer: ca });
  const untrusted = createCertificate({ ...xmppServerIdentifiers(domain) });
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  return {
    caFile,
    trusted: { key: trusted.keyPem, cert: trusted.certPem },
    untrusted: { key: untrusted.keyPem, cert: untrusted.certPem },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
