/**
 * XMPP addresses, RFC 7622 (which RFC 6120 §1.3 calls [XMPP-ADDR]).
 *
 * This is the subset of RFC 7622 the model needs: splitting (§3.1), length limits
 * (§3.2-§3.4: each part 1..1023 octets), the characters a localpart may never contain
 * (§3.3.1: " & ' / : < > @), no whitespace or control characters in any part, and
 * preparation by Unicode NFC plus case folding of localpart and domainpart. Full PRECIS
 * (RFC 8264 IdentifierClass / OpaqueString) tables are not applied; a JID that PRECIS
 * would reject for a rarer code point is accepted here. That is the one deliberate gap.
 */

export interface Jid {
  readonly local?: string;
  readonly domain: string;
  readonly resource?: string;
}

const MAX_PART_OCTETS = 1023;
const LOCAL_FORBIDDEN = /["&'/:<>@]/u;
// Controls, whitespace and separators are never valid in an address part.
const NEVER = /[\p{Cc}\p{Cs}\p{Co}\p{Cn}]/u;
const SPACE = /\s/u;

function octets(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function validPart(s: string, spacesAllowed: boolean): boolean {
  return s.length > 0 && octets(s) <= MAX_PART_OCTETS && !NEVER.test(s) && (spacesAllowed || !SPACE.test(s));
}

/** RFC 7622 §3.1 parse and prepare; undefined when the string is not a valid JID. */
export function parseJid(input: string): Jid | undefined {
  const s = input.normalize('NFC');
  // §3.1: the resource is everything after the first '/', the local part everything before the first '@' preceding it.
  const slash = s.indexOf('/');
  const head = slash === -1 ? s : s.slice(0, slash);
  const resource = slash === -1 ? undefined : s.slice(slash + 1);
  const at = head.indexOf('@');
  const local = at === -1 ? undefined : head.slice(0, at);
  let domain = at === -1 ? head : head.slice(at + 1);
  if (domain.endsWith('.')) domain = domain.slice(0, -1); // §3.2: a trailing dot is stripped
  domain = domain.toLowerCase();
  if (!validPart(domain, false) || domain.includes('@')) return undefined;
  if (local !== undefined && (!validPart(local, false) || LOCAL_FORBIDDEN.test(local))) return undefined;
  // §3.4: the resourcepart may contain spaces (not leading/trailing-only) and any of the localpart's forbidden characters.
  if (resource !== undefined && (!validPart(resource, true) || resource.trim() === '')) return undefined;
  return { local: local?.toLowerCase(), domain, resource };
}

export function formatJid(j: Jid): string {
  return (j.local !== undefined ? `${j.local}@` : '') + j.domain + (j.resource !== undefined ? `/${j.resource}` : '');
}

export function bare(j: Jid): Jid {
  return { local: j.local, domain: j.domain };
}

export function bareJid(s: string): string | undefined {
  const j = parseJid(s);
  return j && formatJid(bare(j));
}

/** RFC 7622 §3.4 resourcepart preparation for a client-submitted resource (§7.7); undefined if invalid. */
export function prepareResource(r: string): string | undefined {
  const n = r.normalize('NFC');
  return validPart(n, true) && n.trim() !== '' ? n : undefined;
}

/** RFC 7622 §3.3 localpart preparation for a SASL simple user name (§6.3.7). */
export function prepareLocalpart(l: string): string | undefined {
  const n = l.normalize('NFC');
  return validPart(n, false) && !LOCAL_FORBIDDEN.test(n) ? n.toLowerCase() : undefined;
}
