/**
 * Verifying service identity (RFC 6125 §6) as RFC 6120 §13.7.2.1 profiles it for XMPP:
 * the reference identifiers are built from the source domain (the 'to' of our initial
 * stream header), never from a host name found by DNS (RFC 6125 §6.2.1), and XmppAddr is
 * accepted as a reference identifier besides DNS-ID, SRV-ID and, as a last resort, CN-ID.
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { domainToASCII } from 'node:url';
import forge from 'node-forge';
import { asn1String, decodeSubjectAltNames, OID_COMMON_NAME, OID_SUBJECT_ALT_NAME, parseDer } from './general-names.js';

const { asn1 } = forge;

export interface PresentedIdentifiers {
  dnsIds: string[];
  srvIds: string[];
  xmppAddrs: string[];
  uriIds: string[];
  cn: string[];
}

export type XmppService = 'xmpp-client' | 'xmpp-server';

export type IdentityResult =
  | { ok: true; matched: 'dns-id' | 'srv-id' | 'xmppaddr' | 'cn-id'; value: string }
  | { ok: false; reason: string };

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

  const out: PresentedIdentifiers = { dnsIds: [], srvIds: [], xmppAddrs: [], uriIds: [], cn: [] };
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
 * A domain in the form we compare: A-labels (RFC 6125 §6.4.2), lower case (§6.4.1), no
 * trailing root dot. A wildcard left-most label is kept as written. '' when not a domain.
 */
function normalizeDomain(name: string): string {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  const dot = trimmed.indexOf('.');
  const first = dot < 0 ? trimmed : trimmed.slice(0, dot);
  if (first.includes('*')) {
    const rest = dot < 0 ? '' : domainToASCII(trimmed.slice(dot + 1));
    return rest === '' ? '' : `${first.toLowerCase()}.${rest}`;
  }
  return domainToASCII(trimmed);
}

/**
 * RFC 6125 §6.4.1–§6.4.3: does a presented DNS domain name match the reference domain
 * (both already normalized)? Choices where §6.4.3 leaves room:
 *  - the wildcard must be the whole left-most label: partial wildcards ('f*.example.com',
 *    rule 3, a MAY) are refused, as RFC 9525 §6.3 now requires;
 *  - a wildcard matches exactly one label (rule 2) and needs at least two labels after it,
 *    so '*.com' never matches (the §7.2 concern about overly broad wildcards).
 */
function matchesDomain(presented: string, reference: string): boolean {
  if (presented === '' || reference === '') return false;
  if (!presented.includes('*')) return presented === reference;
  const p = presented.split('.');
  const r = reference.split('.');
  if (p[0] !== '*' || p.slice(1).some((label) => label.includes('*'))) return false;
  if (p.length < 3 || p.length !== r.length || r[0] === '') return false;
  return p.slice(1).join('.') === r.slice(1).join('.');
}

/**
 * RFC 6125 §6 / RFC 6120 §13.7.2.1: does the certificate identify `domain` for `service`?
 * The search order (most specific first) is SRV-ID, DNS-ID, XmppAddr, then CN-ID only
 * when the certificate presents no DNS-ID, SRV-ID, URI-ID nor XmppAddr (§6.4.4: XmppAddr
 * is an "application-specific identifier type supported by the client").
 */
export function verifyServiceIdentity(
  cert: Buffer | string,
  domain: string,
  service: XmppService = 'xmpp-client',
): IdentityResult {
  const reference = normalizeDomain(domain);
  if (reference === '' || reference.includes('*')) {
    return { ok: false, reason: `'${domain}' is not a domain name to verify against` };
  }
  let ids: PresentedIdentifiers;
  try {
    ids = presentedIdentifiers(cert);
  } catch (err) {
    return { ok: false, reason: `certificate could not be parsed: ${(err as Error).message}` };
  }

  // §6.5.1: the service label is compared case-insensitively; the '_' is part of the syntax.
  const servicePrefix = `_${service}.`;
  for (const srv of ids.srvIds) {
    if (!srv.toLowerCase().startsWith(servicePrefix)) continue;
    if (matchesDomain(normalizeDomain(srv.slice(servicePrefix.length)), reference)) {
      return { ok: true, matched: 'srv-id', value: srv };
    }
  }
  for (const dns of ids.dnsIds) {
    if (matchesDomain(normalizeDomain(dns), reference)) return { ok: true, matched: 'dns-id', value: dns };
  }
  // RFC 6120 §13.7.2.1: an XmppAddr naming the bare domain identifies the service. A JID
  // with a localpart or resource names a user, not the server, and no wildcard applies.
  for (const addr of ids.xmppAddrs) {
    if (addr.includes('@') || addr.includes('/') || addr.includes('*')) continue;
    if (normalizeDomain(addr) === reference) return { ok: true, matched: 'xmppaddr', value: addr };
  }

  const hasSpecificIds = ids.dnsIds.length + ids.srvIds.length + ids.uriIds.length + ids.xmppAddrs.length > 0;
  if (!hasSpecificIds) {
    // §6.4.4: last resort; the CN must look like a domain name and is matched like a DNS-ID.
    for (const cn of ids.cn) {
      if (matchesDomain(normalizeDomain(cn), reference)) return { ok: true, matched: 'cn-id', value: cn };
    }
  }

  const listed = [
    ids.srvIds.length ? `SRV-IDs [${ids.srvIds.join(', ')}]` : '',
    ids.dnsIds.length ? `DNS-IDs [${ids.dnsIds.join(', ')}]` : '',
    ids.xmppAddrs.length ? `XmppAddrs [${ids.xmppAddrs.join(', ')}]` : '',
    ids.uriIds.length ? `URI-IDs [${ids.uriIds.join(', ')}]` : '',
    ids.cn.length ? `CN [${ids.cn.join(', ')}]${hasSpecificIds ? ' (not consulted: RFC 6125 §6.4.4)' : ''}` : '',
  ].filter(Boolean);
  return {
    ok: false,
    reason: `certificate does not identify ${service} service '${reference}'; it presents ${
      listed.length ? listed.join(', ') : 'no identifiers'
    }`,
  };
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
