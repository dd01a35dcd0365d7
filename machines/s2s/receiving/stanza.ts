/**
 * First-level elements on an incoming server-to-server stream: what each one is, which
 * stream error answers one where it is not allowed (§4.3.5, §4.9.3), and the addressing rules
 * for stanzas between servers (§8.1.1.2, §8.1.2.2).
 */
import type { StreamErrorCondition } from '../../conditions.js';
import { isDialbackElement } from '../../dialback/elements.js';
import { pairKey, stanzaAddressError } from '../../dialback/pairs.js';
import { parseJid } from '../../jid.js';
import { NS } from '../../ns.js';
import type { RandomBytes } from '../../protocol.js';
import { attr, stanzaKind, type XmlElement } from '../../xml.js';

export type ServerElementKind =
  | 'stream-error'
  | 'starttls'
  | 'auth'
  | 'response'
  | 'abort'
  /** Another SASL element (`<challenge/>`, `<success/>`, ... sent by the initiating server). */
  | 'sasl-other'
  /** `<db:result/>` or `<db:verify/>` (XEP-0220 §2.2). */
  | 'dialback'
  /** `<message/>`, `<presence/>`, `<iq/>` qualified by 'jabber:server' (§4.8.2). */
  | 'stanza'
  /** A 'jabber:client' stanza on this server stream. */
  | 'foreign-stanza'
  | 'other';

export function classifyServerElement(e: XmlElement): ServerElementKind {
  if (e.xmlns === NS.STREAMS) return e.name === 'error' ? 'stream-error' : 'other';
  if (e.xmlns === NS.TLS) return e.name === 'starttls' ? 'starttls' : 'other';
  if (e.xmlns === NS.SASL) return e.name === 'auth' || e.name === 'response' || e.name === 'abort' ? e.name : 'sasl-other';
  if (isDialbackElement(e)) return 'dialback';
  if (stanzaKind(e, NS.SERVER) !== undefined) return 'stanza';
  if (stanzaKind(e, NS.CLIENT) !== undefined) return 'foreign-stanza';
  return 'other';
}

/**
 * The stream error for an element no state accepted, each the closest §4.9.3 definition
 * (the same choices as the client-to-server machine, ../../receiving/elements.ts):
 * - a stanza before any domain pair is authenticated → `<not-authorized/>` (§4.9.3.12,
 *   §4.3.5), and a SASL element after SASL succeeded (a finished negotiation step);
 * - a 'jabber:client' stanza → `<invalid-namespace/>` (§4.9.3.10);
 * - anything else → `<unsupported-stanza-type/>` (§4.9.3.24).
 */
export function unexpectedServerElementCondition(kind: ServerElementKind): StreamErrorCondition {
  switch (kind) {
    case 'stanza':
    case 'auth':
    case 'response':
    case 'abort':
    case 'sasl-other':
      return 'not-authorized';
    case 'foreign-stanza':
      return 'invalid-namespace';
    default:
      return 'unsupported-stanza-type';
  }
}

/**
 * The addressing rules for a stanza on an authenticated server stream, checked in this order:
 * 1. 'to' and 'from' present, non-empty, XMPP addresses → else `<improper-addressing/>`
 *    (§8.1.1.2 rule 1, §8.1.2.2 rule 1, §4.9.3.7);
 * 2. the 'to' domain is one validated on this stream (the 'to' of an authenticated pair)
 *    → else `<host-unknown/>` (§8.1.1.2 rule 2, §4.9.3.6). Choice: host-unknown rather than
 *    host-gone (§4.9.3.5), which is for a domain we stopped serving;
 * 3. the 'from' domain is validated for that 'to' → else `<invalid-from/>` (§8.1.2.2 rule 2,
 *    §4.9.3.9). The pair is what was authenticated (XEP-0220 §1.2; for SASL the header's 'from'
 *    and 'to'), so a domain authenticated towards one of our domains is not thereby
 *    validated towards another (`stanzaAddressError`).
 */
export function stanzaError(stanza: XmlElement, authorized: readonly string[]): 'improper-addressing' | 'host-unknown' | 'invalid-from' | undefined {
  const pairs = new Set(authorized);
  const problem = stanzaAddressError(stanza, pairs);
  if (problem === 'improper-addressing') return problem;
  const to = parseJid(attr(stanza, 'to')!)!.domain;
  if (!authorized.some((key) => key.endsWith(` ${to}`))) return 'host-unknown';
  return problem;
}

/** The pair key ("from to") of an authenticated domain pair. */
export { pairKey };

/** XEP-0199 ping id: random, so that only the peer that got the ping can answer it. */
export function newPingId(random: RandomBytes): string {
  return `ping-${Buffer.from(random(8)).toString('hex')}`;
}
