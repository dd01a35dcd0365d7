/**
 * Stanzas from the connected client (§8.1.2.1, §4.7.4) and the server's XEP-0199 ping.
 */
import { NS } from '../ns.js';
import { bare, formatJid, parseJid, type Jid } from '../jid.js';
import type { RandomBytes } from '../protocol.js';
import { attr, el, withAttrs, type XmlElement } from '../xml.js';

/**
 * The bound JID of a stream is parsed for every stanza it sends; parsing is a pure function
 * of the string, so the last result is kept (one entry: one stream at a time is the common case).
 */
let lastBound: string | undefined;
let lastBoundParsed: Jid | undefined;
function parseBound(boundJid: string): Jid | undefined {
  if (boundJid !== lastBound) {
    lastBoundParsed = parseJid(boundJid);
    lastBound = boundJid;
  }
  return lastBoundParsed;
}

/**
 * §4.9.3.9: a 'from' the client put on its stanza must be its own address. We accept the
 * full JID bound to the stream and also the account's bare JID (§8.1.2.1 rule 1 stamps the
 * bare JID on subscription presence, so a client may well write it; both name the identity
 * authenticated by SASL). Any other value is `<invalid-from/>`. Compared after RFC 7622
 * preparation, so case differences in localpart/domainpart do not matter.
 */
export function fromIsValid(stanza: XmlElement, boundJid: string): boolean {
  const from = attr(stanza, 'from');
  if (from === undefined) return true;
  const claimed = parseJid(from);
  const full = parseBound(boundJid);
  if (claimed === undefined || full === undefined) return false;
  const asText = formatJid(claimed);
  return asText === formatJid(full) || asText === formatJid(bare(full));
}

/** RFC 6121 §3: presence types of subscription management, stamped with the bare JID (§8.1.2.1 rule 1). */
const SUBSCRIPTION_TYPES = new Set(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed']);

/**
 * §8.1.2.1 rule 1: the server MUST add or override 'from' with the connected resource's
 * full JID, or the bare JID for subscription-related presence.
 * §4.7.4: a stanza without 'xml:lang' gets the language of the initial stream header
 * (SHOULD), so that recipients know the sender's language; a stanza's own 'xml:lang' is
 * never changed.
 */
export function stampStanza(stanza: XmlElement, boundJid: string, streamLang: string | undefined): XmlElement {
  const full = parseBound(boundJid);
  const subscription = stanza.name === 'presence' && SUBSCRIPTION_TYPES.has(attr(stanza, 'type') ?? '');
  const from = full && subscription ? formatJid(bare(full)) : boundJid;
  const lang = attr(stanza, 'xml:lang') === undefined ? streamLang : undefined;
  return withAttrs(stanza, { from, ...(lang !== undefined ? { 'xml:lang': lang } : {}) });
}

/** XEP-0199 §4.2 ping id: random, so a client cannot answer a ping it never received. */
export function newPingId(random: RandomBytes): string {
  return `ping-${Buffer.from(random(8)).toString('hex')}`;
}

/**
 * XEP-0199 §4.2 server-to-client ping: `<iq from=domain to=fullJid type='get'><ping/></iq>`
 * ('from' is the server itself, §8.1.2.1 rule 2).
 */
export function pingElement(id: string, domain: string, to: string): XmlElement {
  return el('iq', NS.CLIENT, { from: domain, to, id, type: 'get' }, el('ping', NS.PING));
}

/**
 * XEP-0199 §4.2: the client answers with an IQ result; a client that does not support
 * ping answers with an IQ error (`<service-unavailable/>`), which proves liveness equally.
 */
export function isPingReply(stanza: XmlElement, pingId: string | undefined): boolean {
  const type = attr(stanza, 'type');
  return pingId !== undefined && stanza.name === 'iq' && attr(stanza, 'id') === pingId && (type === 'result' || type === 'error');
}
