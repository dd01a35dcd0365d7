/**
 * Verifying service identity (RFC 6125 §6) as RFC 6120 §13.7.2.1 profiles it for XMPP:
 * the reference identifiers are built from the source domain (the 'to' of our initial
 * stream header), never from a host name found by DNS (RFC 6125 §6.2.1), and XmppAddr is
 * accepted as a reference identifier besides DNS-ID, SRV-ID and, as a last resort, CN-ID.
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import forge from 'node-forge';
import {
  identifiesService,
  type PeerCertificate as PresentedCertificate,
  type IdentityResult,
  type PresentedIdentifiers,
  type XmppService,
} from '../../machines/identity.js';
import { asn1String, decodeSubjectAltNames, OID_COMMON_NAME, OID_SUBJECT_ALT_NAME, parseDer } from './general-names.js';

const { asn1 } = forge;

export type { IdentityResult, PresentedIdentifiers, XmppService } from '../../machines/identity.js';

function toDer(cert: Buffer | string): Buffer {
  // Node's parser finds the CERTIFICATE block in PEM (and checks it is one); DER passes through.
  return typeof cert === 'string' ? new X509Certificate(cert).raw : cert;
}

function children(node: forge.asn1.Asn1 | undefined): forge.asn1.Asn1[] {
  return node && Array.isArray(node.value) ? (node.value as forge.asn1.Asn1[]) : [];
}

/**
 * Parse a DER (Buffer) or PEM certificate and extract its identifiers (RFC 6125 §6.3, §6.4).
 * The walk over TBSCertificate (RFC 5280 §4.1) is done here rather than by forge's
 * certificate reader, which refuses non-RSA keys: a peer may well present ECDSA.
 */
export function presentedIdentifiers(cert: Buffer | string): PresentedIdentifiers {
  const der = toDer(cert).toString('binary');
  const certificate = parseDer(der);
  const tbs = children(certificate)[0];
  const fields = children(tbs);
  // version [0] EXPLICIT is optional; the subject is the 5th field after it.
  const offset = fields[0]?.tagClass === asn1.Class.CONTEXT_SPECIFIC && fields[0].type === 0 ? 1 : 0;
  const subject = fields[offset + 4];

  const out = { dnsIds: [] as string[], srvIds: [] as string[], xmppAddrs: [] as string[], uriIds: [] as string[], cn: [] as string[] };
  // RFC 6125 §6.2.1 security warning: of the subject's RDNs, only Common Name is looked at.
  for (const rdn of children(subject)) {
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      if (type && value && asn1.derToOid(type.value as string) === OID_COMMON_NAME) out.cn.push(asn1String(value));
    }
  }

  // extensions [3] EXPLICIT SEQUENCE OF Extension, after the optional [1]/[2] unique IDs.
  const extsTagged = fields.find((f) => f.tagClass === asn1.Class.CONTEXT_SPECIFIC && f.type === 3);
  for (const ext of children(children(extsTagged)[0])) {
    const parts = children(ext);
    const id = parts[0];
    const extnValue = parts[parts.length - 1]; // critical BOOLEAN may sit between
    if (!id || !extnValue || asn1.derToOid(id.value as string) !== OID_SUBJECT_ALT_NAME) continue;
    const san = decodeSubjectAltNames(extnValue.value as string);
    out.dnsIds.push(...san.dnsNames);
    out.srvIds.push(...san.srvNames);
    out.xmppAddrs.push(...san.xmppAddrs);
    out.uriIds.push(...san.uris);
  }
  return out;
}

/**
 * RFC 6125 §6 / RFC 6120 §13.7.2.1: does the certificate identify `domain` for `service`?
 * The matching itself is pure and lives in `machines/identity.ts`.
 */
export function verifyServiceIdentity(
  cert: Buffer | string,
  domain: string,
  service: XmppService = 'xmpp-client',
): IdentityResult {
  let ids: PresentedIdentifiers;
  try {
    ids = presentedIdentifiers(cert);
  } catch (err) {
    return { ok: false, reason: `certificate could not be parsed: ${(err as Error).message}` };
  }
  return identifiesService(ids, domain, service);
}

/**
 * A `checkServerIdentity` for node:tls connect options. It checks against `domain`, the
 * source domain of our stream (RFC 6120 §13.7.2.1), not the `host` Node passes in, which
 * may be a host name derived from DNS SRV (RFC 6125 §6.2.1).
 */
export function xmppCheckServerIdentity(
  domain: string,
  service: XmppService = 'xmpp-client',
): (host: string, cert: PeerCertificate) => Error | undefined {
  return (host, cert) => {
    if (!cert?.raw) return new Error(`TLS peer ${host} presented no certificate`);
    const result = verifyServiceIdentity(cert.raw, domain, service);
    if (result.ok) return undefined;
    // Same code as Node's own mismatch error, so callers can treat both alike.
    return Object.assign(new Error(`Service identity check failed (RFC 6125 §6): ${result.reason}`), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      reason: result.reason,
      host,
      cert,
    });
  };
}

/**
 * The peer's certificate as the stream machines read it (§13.7.2.1): whether its chain ends
 * in one of our trust anchors (`authorized`; the name is the machine's to check), and the
 * identifiers it presents. Undefined when the peer sent none. A certificate that cannot be
 * parsed presents nothing, so it authenticates nobody.
 */
export function peerCertificateOf(socket: TLSSocket): PresentedCertificate | undefined {
  const cert = socket.getPeerCertificate();
  if (!cert?.raw) return undefined;
  let identifiers: PresentedIdentifiers;
  try {
    identifiers = presentedIdentifiers(cert.raw);
  } catch {
    identifiers = { dnsIds: [], srvIds: [], xmppAddrs: [], uriIds: [], cn: [] };
  }
  return { trusted: chainTrusted(socket), identifiers };
}

/**
 * Whether OpenSSL verified the peer's chain against the socket's CAs. A client socket says so
 * in `authorized`. A server-side TLSSocket made for STARTTLS (`new TLSSocket(raw, { isServer })`,
 * §5.4.3) never sets `authorized`: Node computes it only for sockets a tls.Server accepted, from
 * the handle's verifyError(), which is what we read here (the same check, without a tls.Server).
 */
function chainTrusted(socket: TLSSocket): boolean {
  if (socket.authorized) return true;
  const handle = (socket as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  return typeof handle?.verifyError === 'function' && handle.verifyError() === null;
}
