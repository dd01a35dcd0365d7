/**
 * Elements from the receiving entity, as the client sees them: what each one is (§4.3.2,
 * §4.9, §5.4, §6.4, §8), stream errors received (§4.9.2), and XEP-0199 pings both ways.
 */
import type { StreamErrorCondition } from '../conditions.js';
import { NS } from '../ns.js';
import { attr, child, childElements, el, stanzaKind, text, type XmlElement } from '../xml.js';

export type ServerElementKind =
  /** `<stream:error/>`: the server ended the stream (§4.9.1.1). */
  | 'stream-error'
  /** `<stream:features/>` (§4.3.2). */
  | 'features'
  /** `<proceed/>` / `<failure/>` in the TLS namespace (§5.4.2.2-§5.4.2.3). */
  | 'tls-proceed'
  | 'tls-failure'
  /** `<challenge/>`, `<success/>`, `<failure/>` in the SASL namespace (§6.4.3-§6.4.6). */
  | 'sasl-challenge'
  | 'sasl-success'
  | 'sasl-failure'
  /** `<message/>`, `<presence/>`, `<iq/>` in 'jabber:client' (§8). */
  | 'stanza'
  /** A stanza qualified by 'jabber:server' on this client-to-server stream (§4.8.2). */
  | 'foreign-stanza'
  | 'other';

export function classifyServerElement(e: XmlElement): ServerElementKind {
  if (e.xmlns === NS.STREAMS) return e.name === 'error' ? 'stream-error' : e.name === 'features' ? 'features' : 'other';
  if (e.xmlns === NS.TLS) return e.name === 'proceed' ? 'tls-proceed' : e.name === 'failure' ? 'tls-failure' : 'other';
  if (e.xmlns === NS.SASL) {
    if (e.name === 'challenge') return 'sasl-challenge';
    if (e.name === 'success') return 'sasl-success';
    if (e.name === 'failure') return 'sasl-failure';
    return 'other';
  }
  if (stanzaKind(e, NS.CLIENT) !== undefined) return 'stanza';
  if (stanzaKind(e, NS.SERVER) !== undefined) return 'foreign-stanza';
  return 'other';
}

/**
 * The stream error for an element the current state does not accept. Choice: the server sent
 * a first-level element we cannot process at this point of the stream (a negotiation element
 * out of turn, a stanza before the stream is bound, an unknown element): that is
 * `<unsupported-stanza-type/>` (§4.9.3.24, "a first-level child of the stream that is not
 * supported"), except a 'jabber:server' stanza, whose namespace is wrong for this stream:
 * `<invalid-namespace/>` (§4.9.3.10). The conditions that name the initiating entity's own
 * faults (not-authorized, policy-violation) do not fit a misbehaving server.
 */
export function unexpectedElementCondition(kind: ServerElementKind): StreamErrorCondition {
  return kind === 'foreign-stanza' ? 'invalid-namespace' : 'unsupported-stanza-type';
}

/**
 * §4.9.2: the defined condition of a received `<stream:error/>` and its text. For
 * `<see-other-host/>` the alternate host is the condition element's character data
 * (§4.9.3.19), reported as the text so the runtime can reconnect there.
 */
export function readStreamError(e: XmlElement): { condition: string; text?: string } {
  const cond = childElements(e).find((c) => c.xmlns === NS.STREAM_ERRORS && c.name !== 'text');
  const condition = cond?.name ?? 'undefined-condition';
  const t = cond?.name === 'see-other-host' ? text(cond).trim() : (() => {
    const te = child(e, 'text', NS.STREAM_ERRORS);
    return te === undefined ? undefined : text(te);
  })();
  return { condition, ...(t !== undefined && t !== '' ? { text: t } : {}) };
}

/**
 * Elements the application may not write through SEND: the stream, TLS and SASL namespaces
 * belong to the machine (a `<stream:error/>` or `<auth/>` written by the application would
 * corrupt the negotiation state). Everything else is written as given (stanzas, and
 * first-level extension elements such as XEP-0198's).
 */
export function applicationMayWrite(e: XmlElement): boolean {
  return e.xmlns !== NS.STREAMS && e.xmlns !== NS.TLS && e.xmlns !== NS.SASL;
}

/**
 * XEP-0199 §4.2: a server-to-client ping: an IQ get with `<ping xmlns='urn:xmpp:ping'/>` from
 * our server (its domain, or no 'from', which §8.1.2.1 makes the server itself).
 * Pings from other entities (§4.3 client-to-client) go to the application like any IQ.
 */
export function isServerPing(e: XmlElement, domain: string): boolean {
  const from = attr(e, 'from');
  return (
    e.name === 'iq' &&
    e.xmlns === NS.CLIENT &&
    attr(e, 'type') === 'get' &&
    attr(e, 'id') !== undefined &&
    (from === undefined || from.toLowerCase() === domain.toLowerCase()) &&
    childElements(e).length === 1 &&
    child(e, 'ping', NS.PING) !== undefined
  );
}

/** XEP-0199 §4.2: the empty IQ result answering a ping ('from' is stamped by the server, §8.1.2.1). */
export function pingResult(ping: XmlElement): XmlElement {
  return el('iq', NS.CLIENT, { to: attr(ping, 'from'), id: attr(ping, 'id'), type: 'result' });
}

/** XEP-0199 §4.3 client-to-server ping. */
export function clientPing(id: string, domain: string): XmlElement {
  return el('iq', NS.CLIENT, { to: domain, id, type: 'get' }, el('ping', NS.PING));
}

/** XEP-0199 §4.3: the server's answer to our ping: a result, or an error if it does not support ping (still alive). */
export function isPingReply(e: XmlElement, pingId: string | undefined): boolean {
  const type = attr(e, 'type');
  return pingId !== undefined && e.name === 'iq' && e.xmlns === NS.CLIENT && attr(e, 'id') === pingId && (type === 'result' || type === 'error');
}
