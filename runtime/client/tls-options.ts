/**
 * How the client checks the server's certificate (RFC 6120 §13.7.2, RFC 6125 §6):
 *
 *  - default: the chain must verify against the system's trusted roots AND the certificate
 *    must identify the JID's domain as an xmpp-client service (SRV-ID `_xmpp-client.DOMAIN`,
 *    DNS-ID, XmppAddr, CN-ID as a last resort: runtime/tls/identity.ts);
 *  - `ca`: the same, but the chain verifies against these PEM certificates only (e.g. a
 *    self-signed server certificate pinned by the user);
 *  - `insecure`: neither check (a teaching/test convenience; the stream is still encrypted,
 *    but an active attacker can read it).
 *
 * The reference identity is the domainpart of our JID (the 'to' of our stream header),
 * never the host name or address we connected to (RFC 6125 §6.2.1): `host` may well be
 * 127.0.0.1 while the service is `localhost`.
 */
import { readFileSync } from 'node:fs';
import type { TlsRole } from '../net/socket-transport.js';
import { xmppCheckServerIdentity } from '../tls/index.js';

export interface ClientTlsOptions {
  /** PEM text (or a Buffer of it) of the certificate(s) to trust instead of the system roots. */
  readonly ca?: string | Buffer;
  /** Skip chain and identity verification. */
  readonly insecure?: boolean;
}

export type ClientTlsRole = Extract<TlsRole, { readonly role: 'client' }>;

export function clientTlsRole(domain: string, opts: ClientTlsOptions = {}): ClientTlsRole {
  if (opts.insecure === true) {
    return { role: 'client', servername: domain, rejectUnauthorized: false, checkServerIdentity: () => undefined };
  }
  return {
    role: 'client',
    servername: domain,
    ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    rejectUnauthorized: true,
    checkServerIdentity: xmppCheckServerIdentity(domain, 'xmpp-client'),
  };
}

/** Read a `--ca FILE` argument; a readable error when it holds no PEM certificate. */
export function readCaFile(file: string): string {
  const text = readFileSync(file, 'utf8');
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`${file}: no PEM certificate in it`);
  return text;
}
