/**
 * First-level elements on an outgoing server-to-server stream, as the initiating server sees
 * them (§4.3.2, §4.9, §5.4, §6.4, XEP-0220 answers), and the rules for the stanzas it writes
 * (§4.9.3.7, §8.1.1.2, §8.1.2.2 as the receiving server will apply them).
 */
import type { StreamErrorCondition } from '../../conditions.js';
import { isDialbackElement } from '../../dialback/elements.js';
import { NS } from '../../ns.js';
import type { RandomBytes } from '../../protocol.js';
import { attr, child, childElements, el, stanzaKind, type XmlElement } from '../../xml.js';
import { domainOf } from '../header.js';
import { parseJid } from '../../jid.js';
import type { RefusalReason } from './types.js';

export type PeerElementKind =
  | 'stream-error'
  | 'features'
  | 'tls-proceed'
  | 'tls-failure'
  | 'sasl-challenge'
  | 'sasl-success'
  | 'sasl-failure'
  /** `<db:result/>` or `<db:verify/>` (XEP-0220 §2.1). */
  | 'dialback'
  /** A 'jabber:server' stanza: on our outgoing stream stanzas only go the other way. */
  | 'stanza'
  /** A 'jabber:client' stanza on this server stream (§4.8.2). */
  | 'foreign-stanza'
  | 'other';

export function classifyPeerElement(e: XmlElement): PeerElementKind {
  if (e.xmlns === NS.STREAMS) return e.name === 'error' ? 'stream-error' : e.name === 'features' ? 'features' : 'other';
  if (e.xmlns === NS.TLS) return e.name === 'proceed' ? 'tls-proceed' : e.name === 'failure' ? 'tls-failure' : 'other';
  if (e.xmlns === NS.SASL) {
    if (e.name === 'challenge') return 'sasl-challenge';
    if (e.name === 'success') return 'sasl-success';
    if (e.name === 'failure') return 'sasl-failure';
    return 'other';
  }
  if (isDialbackElement(e)) return 'dialback';
  if (stanzaKind(e, NS.SERVER) !== undefined) return 'stanza';
  if (stanzaKind(e, NS.CLIENT) !== undefined) return 'foreign-stanza';
  return 'other';
}

/**
 * The stream error for an element the current state does not accept. Choice, as on the
 * client-to-server side (../../initiating/stanza.ts): `<unsupported-stanza-type/>`
 * (§4.9.3.24, a first-level child we do not support here): a stanza (server streams are
 * one-way without XEP-0288, XEP-0220 §2.3), a negotiation element out of turn, an unknown
 * element; a 'jabber:client' stanza is in the wrong namespace: `<invalid-namespace/>` (§4.9.3.10).
 */
export function unexpectedPeerElementCondition(kind: PeerElementKind): StreamErrorCondition {
  return kind === 'foreign-stanza' ? 'invalid-namespace' : 'unsupported-stanza-type';
}

/** An empty `<stream:features/>`, which §4.3.5 lets the receiving entity send after negotiation. */
export function isEmptyFeatures(e: XmlElement): boolean {
  return classifyPeerElement(e) === 'features' && childElements(e).length === 0;
}

/**
 * Whether a stanza may be written for the authenticated pair (`from` our domain, `to` the
 * remote domain), checked in this order; undefined when it may:
 * 1. a 'jabber:server' message, presence or iq (§4.8.2), else 'not-a-stanza';
 * 2. 'to' and 'from' present, non-empty and XMPP addresses (§4.9.3.7: the receiving server
 *    would close the stream with `<improper-addressing/>`), else 'improper-addressing';
 * 3. their domains are the authenticated pair (the receiving server checks §8.1.1.2 rule 2
 *    and §8.1.2.2 rule 2: host-unknown, invalid-from), else 'unauthorized-pair'.
 * Refusing here keeps a local mistake from costing the stream and every stanza on it.
 */
export function stanzaRefusal(stanza: XmlElement, pair: { from: string; to: string }): Exclude<RefusalReason, 'not-authenticated' | 'closing'> | undefined {
  if (stanzaKind(stanza, NS.SERVER) === undefined) return 'not-a-stanza';
  const from = address(attr(stanza, 'from'));
  const to = address(attr(stanza, 'to'));
  if (from === undefined || to === undefined) return 'improper-addressing';
  if (from !== domainOf(pair.from) || to !== domainOf(pair.to)) return 'unauthorized-pair';
  return undefined;
}

/** The domainpart of an XMPP address, undefined when it is missing, empty or not one (RFC 7622). */
function address(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  return parseJid(value)?.domain;
}

/** XEP-0199 ping id: random, so that only the peer that got the ping can answer it. */
export function newPingId(random: RandomBytes): string {
  return `ping-${Buffer.from(random(8)).toString('hex')}`;
}

/** XEP-0199 §4.3: a server-to-server ping from our domain to the peer's. */
export function serverPing(id: string, from: string, to: string): XmlElement {
  return el('iq', NS.SERVER, { from, to, id, type: 'get' }, el('ping', NS.PING));
}

/** XEP-0199 §4.3 ping payload check, for tests and the runtime. */
export function isServerPing(e: XmlElement): boolean {
  return e.name === 'iq' && e.xmlns === NS.SERVER && attr(e, 'type') === 'get' && child(e, 'ping', NS.PING) !== undefined;
}
