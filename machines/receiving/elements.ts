/**
 * What a first-level element from the client is, and which stream error answers one that
 * arrives where it is not allowed (§4.3.5, §4.9.3.10, §4.9.3.12, §4.9.3.24).
 */
import type { StreamErrorCondition } from '../conditions.js';
import { NS } from '../ns.js';
import { stanzaKind, type XmlElement } from '../xml.js';

export type ElementKind =
  /** `<stream:error/>`: the peer ended the stream (§4.9.1.1). */
  | 'stream-error'
  /** `<starttls xmlns=tls/>` (§5.4.2.1). */
  | 'starttls'
  /** `<auth/>`, `<response/>`, `<abort/>` (§6.4.2-§6.4.4). */
  | 'auth'
  | 'response'
  | 'abort'
  /** Any other element in the SASL namespace (`<challenge/>`, `<success/>`, ... from a client). */
  | 'sasl-other'
  /** An IQ whose payload is in the bind namespace (§7.6.1, §7.7.1). */
  | 'bind-request'
  /** `<message/>`, `<presence/>`, `<iq/>` in 'jabber:client' (§8). */
  | 'stanza'
  /** A stanza qualified by 'jabber:server' on this client-to-server stream (§4.8.2). */
  | 'foreign-stanza'
  /** Anything else: unknown element or namespace. */
  | 'other';

export function classifyElement(e: XmlElement): ElementKind {
  if (e.xmlns === NS.STREAMS) return e.name === 'error' ? 'stream-error' : 'other';
  if (e.xmlns === NS.TLS) return e.name === 'starttls' ? 'starttls' : 'other';
  if (e.xmlns === NS.SASL) {
    if (e.name === 'auth' || e.name === 'response' || e.name === 'abort') return e.name;
    return 'sasl-other';
  }
  const kind = stanzaKind(e, NS.CLIENT);
  // §8.2.3 rule 4, §8.3.1: only a request can be a bind request; an IQ result or
  // error that happens to carry <bind/> is a plain stanza and is never answered with an error.
  if (kind === 'iq' && isRequest(e) && e.children.some((c) => typeof c !== 'string' && c.xmlns === NS.BIND)) return 'bind-request';
  if (kind !== undefined) return 'stanza';
  if (stanzaKind(e, NS.SERVER) !== undefined) return 'foreign-stanza';
  return 'other';
}

/** Not a response: get, set, or a malformed IQ (no or unknown type) that earns <bad-request/>. */
function isRequest(iq: XmlElement): boolean {
  const type = iq.attrs['type'];
  return type !== 'result' && type !== 'error';
}

/**
 * The stream error for an element that no state accepted. Choices, each the closest
 * definition in §4.9.3:
 *
 * - a stanza (bind request included) before authentication or before binding →
 *   `<not-authorized/>` (§4.3.5, §7.1, §4.9.3.12). We do not take up §7.1's informational
 *   note that an unbound client could talk to its own server: nothing is routed before a
 *   full JID exists.
 * - a SASL element after SASL succeeded, or a second bind request after binding →
 *   `<not-authorized/>`: §4.9.3.12 covers an entity that "is not authorized to perform an
 *   action related to stream negotiation", which a finished negotiation step is.
 *   (`<unsupported-stanza-type/>` would be wrong: we do understand these elements;
 *   `<policy-violation/>` is kept for local limits.)
 * - a 'jabber:server' stanza → `<invalid-namespace/>` (§4.9.3.10: the content namespace is
 *   not the one this stream supports).
 * - anything else → `<unsupported-stanza-type/>` (§4.9.3.24: a first-level child we do not
 *   support, by name or by namespace).
 *
 * `<starttls/>` never gets here: when not offered it gets the TLS `<failure/>` of §5.4.2.2.
 */
export function unexpectedElementCondition(kind: ElementKind): StreamErrorCondition {
  switch (kind) {
    case 'stanza':
    case 'bind-request':
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
