/**
 * A private certificate authority for tests and peers: servers on a test network
 * (peers/netns.ts) get certificates that verify per RFC 6125 against one CA every peer
 * trusts, so TLS can be checked for real (RFC 6120 §13.7.2) instead of skipped or pinned.
 * The certificates are made by runtime/tls/certificate.ts, with the identifiers of
 * `xmppServerIdentifiers` (DNS-ID, SRV-IDs `_xmpp-client.` / `_xmpp-server.`, XmppAddr).
 */
import { createCertificate, xmppServerIdentifiers, type CertificateBundle } from '../runtime/tls/certificate.js';

export interface PrivateCa {
  /** The CA certificate (PEM): the trust anchor to give to clients and servers. */
  readonly certPem: string;
  /**
   * A server certificate for `domain`, signed by this CA; `xmppAddr: false` leaves out the
   * XmppAddr (RFC 6120 §13.7.1.4), keeping the DNS-ID and SRV-IDs, as public CAs issue them.
   */
  issueServer(domain: string, opts?: { days?: number; now?: Date; xmppAddr?: boolean }): CertificateBundle;
  /**
   * A certificate signed by this CA that names `presentedDomain` only, for a server that
   * claims another domain: it chains fine and must be refused by the identity check.
   */
  issueWrongName(presentedDomain: string, opts?: { xmppAddr?: boolean }): CertificateBundle;
}

/** A new CA (its key lives in memory only). */
export function createPrivateCa(name = 'xmpp-statekit test CA'): PrivateCa {
  const authority = createCertificate({ cn: name, authority: true, days: 30 });
  return {
    certPem: authority.certPem,
    issueServer: (domain, { xmppAddr = true, ...opts } = {}) =>
      createCertificate({ ...xmppServerIdentifiers(domain), ...(!xmppAddr && { xmppAddrs: [] }), ...opts, issuer: authority }),
    issueWrongName: (presentedDomain, { xmppAddr = true } = {}) =>
      createCertificate({ ...xmppServerIdentifiers(presentedDomain), ...(!xmppAddr && { xmppAddrs: [] }), issuer: authority }),
  };
}
