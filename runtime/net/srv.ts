/**
 * The ordered list of places to try for an XMPP service, from its DNS SRV answers
 * (RFC 6120 §3.2.1, RFC 2782, XEP-0368). Pure: the answers and the random source come in,
 * the candidates go out; the lookups themselves are resolve.ts's job.
 *
 * Choices where the documents leave one:
 *  - XEP-0368 §3 rule 1 (SHOULD): `_xmpps-*` (direct TLS) and `_xmpp-*` (STARTTLS) answers
 *    are one record set for RFC 2782 ordering, priorities and weights mixed, so the
 *    operator decides which is tried first. We do not prefer either kind (its MAY).
 *  - A single '.' target (RFC 2782 "decidedly not available") removes that one service:
 *    '.' for `_xmpps-*` means "no direct TLS" and the `_xmpp-*` records are used
 *    (XEP-0368 §4); '.' for `_xmpp-*` with usable `_xmpps-*` records leaves the direct TLS
 *    ones. Whenever a '.' was seen, there is no A/AAAA fallback (RFC 6120 §3.2.1 step 3,
 *    XEP-0368 §4 MUST NOT): with nothing else left the service is unavailable.
 *  - A '.' target among other records is not the RFC 2782 "no service" form; it names no
 *    host to connect to, so it is dropped and the other records are used.
 *  - No answer at all (no record, NXDOMAIN, or no response) → the §3.2.2 fallback: the
 *    domain itself on the service's registered port, with STARTTLS (XEP-0368 has no
 *    direct TLS fallback port).
 */
export type XmppServiceName = 'xmpp-client' | 'xmpp-server';

/** One SRV resource record as node:dns returns it (RFC 2782 field names). */
export interface SrvAnswer {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

/** What one SRV query gave: records, or nothing (with why, for the error report). */
export type SrvResult =
  | { readonly kind: 'records'; readonly records: readonly SrvAnswer[] }
  | { readonly kind: 'none'; readonly reason: string };

/** A place to connect to, in the order to try. */
export interface Candidate {
  /** The SRV target or fallback domain (an FQDN), or an override's host (may be an IP address). */
  readonly host: string;
  readonly port: number;
  /** XEP-0368: TLS from the first byte (an `_xmpps-*` record); otherwise STARTTLS (§5). */
  readonly directTls: boolean;
  /** Where it came from: an SRV record (§3.2.1), the fallback (§3.2.2) or a static override (§3.2.3). */
  readonly source: 'srv' | 'fallback' | 'override';
}

export type CandidateList =
  | { readonly kind: 'candidates'; readonly candidates: readonly Candidate[] }
  /** RFC 2782 "decidedly not available": do not connect, do not fall back. */
  | { readonly kind: 'unavailable'; readonly reason: string };

/** RFC 6120 §3.2.2 / §14.7: the IANA-registered ports used when there is no SRV record. */
export const FALLBACK_PORT: Readonly<Record<XmppServiceName, number>> = { 'xmpp-client': 5222, 'xmpp-server': 5269 };

/** The SRV owner name queried: `_xmpp-client._tcp.example.net` (§3.2.1 steps 1-2), `_xmpps-…` for direct TLS. */
export function srvName(service: XmppServiceName, domain: string, directTls: boolean): string {
  return `_${directTls ? service.replace('xmpp-', 'xmpps-') : service}._tcp.${domain}`;
}

/** A Target of '.', the root domain (node:dns reports it as '' or '.'). */
function isRoot(name: string): boolean {
  return name === '' || name === '.';
}

/** RFC 2782: a single record whose target is '.' says the service is not offered at this domain. */
export function isDecidedlyUnavailable(records: readonly SrvAnswer[]): boolean {
  return records.length === 1 && isRoot(records[0]!.name);
}

/**
 * RFC 2782 ordering: priorities ascending; within one priority, a weighted random pick
 * (weight-0 records first in the running sum, a uniform integer in [0, sum]), repeated
 * until none is left. `random` is uniform in [0, 1) (Math.random, or a fixed one in tests).
 */
export function orderSrv<T extends SrvAnswer>(records: readonly T[], random: () => number): T[] {
  const priorities = [...new Set(records.map((r) => r.priority))].sort((a, b) => a - b);
  const out: T[] = [];
  for (const priority of priorities) {
    // "arrange all SRV RRs (that have not been ordered yet) in any order, except that all
    // those with weight 0 are placed at the beginning of the list"
    const left = records.filter((r) => r.priority === priority);
    left.sort((a, b) => (a.weight === 0 ? 0 : 1) - (b.weight === 0 ? 0 : 1));
    while (left.length > 0) {
      const sum = left.reduce((s, r) => s + r.weight, 0);
      const pick = Math.min(sum, Math.floor(random() * (sum + 1)));
      let running = 0;
      const index = left.findIndex((r) => (running += r.weight) >= pick);
      out.push(...left.splice(index, 1));
    }
  }
  return out;
}

/**
 * The candidates for `service` at `domain` from the two SRV queries (§3.2.1; XEP-0368 §3).
 * `directTls` undefined: the `_xmpps-*` query was not made (direct TLS not wanted).
 */
export function candidateList(opts: {
  readonly domain: string;
  readonly service: XmppServiceName;
  readonly starttls: SrvResult;
  readonly directTls?: SrvResult;
  readonly random: () => number;
}): CandidateList {
  const { domain, service } = opts;
  const sets = [
    { result: opts.starttls, directTls: false },
    ...(opts.directTls ? [{ result: opts.directTls, directTls: true }] : []),
  ];
  const usable: (SrvAnswer & { directTls: boolean })[] = [];
  const refused: string[] = [];
  for (const { result, directTls } of sets) {
    if (result.kind !== 'records') continue;
    if (isDecidedlyUnavailable(result.records)) {
      refused.push(srvName(service, domain, directTls));
      continue;
    }
    for (const r of result.records) if (!isRoot(r.name)) usable.push({ ...r, directTls });
  }
  if (usable.length > 0) {
    const ordered = orderSrv(usable, opts.random);
    return {
      kind: 'candidates',
      candidates: ordered.map((r) => ({ host: stripRootDot(r.name), port: r.port, directTls: r.directTls, source: 'srv' })),
    };
  }
  if (refused.length > 0) {
    return {
      kind: 'unavailable',
      reason: `${refused.join(' and ')}: target '.', the service is decidedly not available at ${domain} (RFC 2782; RFC 6120 §3.2.1 step 3: no fallback)`,
    };
  }
  // §3.2.1 step 9 → §3.2.2: no SRV answer at all.
  return { kind: 'candidates', candidates: [{ host: domain, port: FALLBACK_PORT[service], directTls: false, source: 'fallback' }] };
}

function stripRootDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * A static override's value, `host:port`, `[v6]:port` or a bare `host` (then the service's
 * registered port), as one STARTTLS candidate (§3.2.3: a configured FQDN instead of SRV).
 * Throws a clear error on anything else.
 */
export function parseOverride(value: string, service: XmppServiceName): Candidate {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+))(?::(\d{1,5}))?$/.exec(value.trim());
  const port = m?.[3] !== undefined ? Number(m[3]) : FALLBACK_PORT[service];
  if (!m || port < 1 || port > 65535) {
    throw new Error(`override '${value}': expected 'host:port', '[IPv6]:port' or 'host' (RFC 6120 §3.2.3)`);
  }
  return { host: m[1] ?? m[2]!, port, directTls: false, source: 'override' };
}
