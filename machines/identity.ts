/**
 * Service identity (RFC 6125 §6) as RFC 6120 §13.7.2.1 profiles it for XMPP, on plain data:
 * the identifiers a certificate presents, matched against a reference domain. Pure, so that
 * the server-to-server machines can decide whether a peer's certificate authenticates the
 * domain it claims (§13.7.2.1, XEP-0178); `runtime/tls/identity.ts` extracts the identifiers
 * from the certificate bytes and uses the same matching for its TLS checks.
 */
import { domainToASCII } from 'node:url';

/** What a certificate presents (RFC 6125 §1.8): subjectAltName entries and the subject's CN. */
export interface PresentedIdentifiers {
  readonly dnsIds: readonly string[];
  readonly srvIds: readonly string[];
  readonly xmppAddrs: readonly string[];
  readonly uriIds: readonly string[];
  readonly cn: readonly string[];
}

/** The peer's certificate as the TLS layer saw it: whether its chain is trusted, and its identifiers. */
export interface PeerCertificate {
  /** The chain ends in a trust anchor and is valid now (RFC 5280); the name is checked separately. */
  readonly trusted: boolean;
  readonly identifiers: PresentedIdentifiers;
}

export type XmppService = 'xmpp-client' | 'xmpp-server';

export type IdentityResult =
  | { ok: true; matched: 'dns-id' | 'srv-id' | 'xmppaddr' | 'cn-id'; value: string }
  | { ok: false; reason: string };

/**
 * A domain in the form we compare: A-labels (RFC 6125 §6.4.2), lower case (§6.4.1), no
 * trailing root dot. A wildcard left-most label is kept as written. '' when not a domain.
 */
export function normalizeDomain(name: string): string {
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
 * RFC 6125 §6 / RFC 6120 §13.7.2.1: do these identifiers identify `domain` for `service`?
 * The search order (most specific first) is SRV-ID, DNS-ID, XmppAddr, then CN-ID only
 * when the certificate presents no DNS-ID, SRV-ID, URI-ID nor XmppAddr (§6.4.4: XmppAddr
 * is an "application-specific identifier type supported by the client").
 */
export function identifiesService(
  ids: PresentedIdentifiers,
  domain: string,
  service: XmppService = 'xmpp-client',
): IdentityResult {
  const reference = normalizeDomain(domain);
  if (reference === '' || reference.includes('*')) {
    return { ok: false, reason: `'${domain}' is not a domain name to verify against` };
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
 * RFC 6120 §13.7.2.1 with XEP-0178: does the peer's certificate authenticate `domain` as an
 * XMPP server? Both conditions: a trusted chain and a matching identifier.
 */
export function certificateAuthenticates(cert: PeerCertificate | undefined, domain: string): IdentityResult {
  if (!cert) return { ok: false, reason: 'the peer presented no certificate' };
  if (!cert.trusted) return { ok: false, reason: 'the peer certificate chain is not trusted' };
  return identifiesService(cert.identifiers, domain, 'xmpp-server');
}
