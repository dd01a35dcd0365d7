/**
 * Multiplexing (XEP-0220 §2.6): one stream carries several domain pairs, so one dialback
 * machine runs per pair, keyed by `pairKey` ("from to": Sender Domain, Target Domain). These
 * pure functions tell the s2s stream machine what a dialback element that arrived on a stream
 * is for, and whether a stanza's addresses belong to a verified pair.
 *
 * Supported: sender multiplexing (§2.6.1, "MAY be used without further negotiation") and
 * target multiplexing (§2.6.2) on incoming streams, the pair table has no limit of its own;
 * on outgoing streams target multiplexing only after the peer advertised `<errors/>`
 * (`mayMultiplexTarget`, §2.6.2 SHOULD NOT otherwise). Whether two target domains resolve to
 * the same host and port is the runtime's DNS question, not answered here.
 *
 * Direction (§2.2 note, §3.1 "unsolicited dialback"): on an incoming stream only requests are
 * expected (a `<db:result/>` key, Step 1, or a `<db:verify/>` for us as Authoritative Server,
 * Step 2); on an outgoing stream only answers (Step 4 for our keys, Step 3 for our verify
 * requests). Anything else is unsolicited and must not be acted on (XEP-0288 bidirectional
 * streams are not modelled).
 */
import { parseJid } from '../jid.js';
import { attr, type XmlElement } from '../xml.js';
import { parseResult, parseVerify, type DbResult, type DbVerify, type DialbackFeature } from './elements.js';
import type { DbResultRequest, DbVerifyAnswer, DbVerifyRequest, DomainPair } from './types.js';

/** The key of a pair's machine: Sender Domain, a space, Target Domain (domains hold no spaces). */
export function pairKey(pair: DomainPair): string {
  return `${pair.from} ${pair.to}`;
}

/**
 * §2.1.2: "The combination of 'from', 'to', and 'id' attributes makes it possible for the
 * Receiving Server to uniquely identify the TCP connection on which it received the original
 * request": Sender Domain, Target Domain and the Stream ID of that incoming stream.
 */
export function verifyCorrelation(sender: string, target: string, streamId: string): string {
  return `${sender} ${target} ${streamId}`;
}

/** What a dialback element on an incoming stream (we are the Receiving or Authoritative Server) is for. */
export type IncomingRoute =
  /** Step 1 for a pair not seen on this stream: start a receivingDialback for `pair`. */
  | { readonly kind: 'result-request'; readonly pair: string; readonly request: DbResultRequest }
  /** Step 1 for a pair already being verified or verified: the pair's machine (or nobody) takes it. */
  | { readonly kind: 'duplicate'; readonly pair: string; readonly request: DbResultRequest }
  /** Step 2 addressed to us as Authoritative Server: answer with authoritativeVerify. */
  | { readonly kind: 'verify-request'; readonly request: DbVerifyRequest }
  | { readonly kind: 'unsolicited'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly reason: string };

/** `known`: pairKeys of the pairs on this stream that are being verified or are verified. */
export function routeIncoming(e: XmlElement, known: ReadonlySet<string>): IncomingRoute {
  if (e.name === 'result') {
    const p = parseResult(e);
    if (!p.ok) return { kind: 'malformed', reason: p.reason };
    if (p.value.kind !== 'request') return unsolicited(p.value);
    const pair = pairKey(p.value);
    return { kind: known.has(pair) ? 'duplicate' : 'result-request', pair, request: p.value };
  }
  const p = parseVerify(e);
  if (!p.ok) return { kind: 'malformed', reason: p.reason };
  if (p.value.kind !== 'request') return unsolicited(p.value);
  return { kind: 'verify-request', request: p.value };
}

/** What a dialback element on an outgoing stream (we are the Initiating Server, or verifying) is for. */
export type OutgoingRoute =
  /** Step 4 for our key: goes to the originatingDialback of `pair` (our Sender, our Target). */
  | { readonly kind: 'result-answer'; readonly pair: string; readonly result: Exclude<DbResult, { kind: 'request' }> }
  /** Step 3 for our request: goes to the receivingDialback on the incoming stream `correlation` names. */
  | { readonly kind: 'verify-answer'; readonly correlation: string; readonly answer: DbVerifyAnswer }
  | { readonly kind: 'unsolicited'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly reason: string };

/**
 * `awaitingResult`: pairKeys we sent a key for on this stream and have no verdict for;
 * `awaitingVerify`: verifyCorrelations of the `<db:verify/>` requests we sent on it.
 * An answer matching neither is unsolicited (§3.1); §2.1.2 says to drop it silently.
 */
export function routeOutgoing(e: XmlElement, awaitingResult: ReadonlySet<string>, awaitingVerify: ReadonlySet<string>): OutgoingRoute {
  if (e.name === 'result') {
    const p = parseResult(e);
    if (!p.ok) return { kind: 'malformed', reason: p.reason };
    if (p.value.kind === 'request') return { kind: 'unsolicited', reason: 'a dialback request on our outgoing stream' };
    // The answer comes from our Target to our Sender.
    const pair = pairKey({ from: p.value.to, to: p.value.from });
    if (!awaitingResult.has(pair)) return { kind: 'unsolicited', reason: `no key of ours awaits a verdict for ${pair}` };
    return { kind: 'result-answer', pair, result: p.value };
  }
  const p = parseVerify(e);
  if (!p.ok) return { kind: 'malformed', reason: p.reason };
  if (p.value.kind === 'request') return { kind: 'unsolicited', reason: 'a verification request on our outgoing stream' };
  const correlation = verifyCorrelation(p.value.from, p.value.to, p.value.id);
  if (!awaitingVerify.has(correlation)) return { kind: 'unsolicited', reason: `no verification of ours awaits ${correlation}` };
  return { kind: 'verify-answer', correlation, answer: p.value };
}

function unsolicited(v: DbResult | DbVerify): IncomingRoute {
  return { kind: 'unsolicited', reason: `type='${v.kind}' on an incoming stream` };
}

/** §2.6.2: target multiplexing SHOULD wait for the peer's dialback-errors feature (§2.4.2). */
export function mayMultiplexTarget(feature: DialbackFeature): boolean {
  return feature.errors;
}

/**
 * Whether a stanza on an incoming s2s stream may be accepted: its 'from' and 'to' domains
 * must form a verified pair (§2.2.1 "MUST NOT accept stanzas ... for the Sender Domain"
 * otherwise). The stream error when not:
 * - 'improper-addressing' (RFC 6120 §4.9.3.7): 'from' or 'to' missing, empty or not an address;
 * - 'invalid-from' (RFC 6120 §4.9.3.9): the 'from' domain is not validated for that 'to'
 *   domain. Choice: the pair is what dialback validates (§1.2), so a domain verified towards
 *   one of our domains is not thereby validated towards another.
 */
export function stanzaAddressError(stanza: XmlElement, authorized: ReadonlySet<string>): 'improper-addressing' | 'invalid-from' | undefined {
  const from = domainOf(attr(stanza, 'from'));
  const to = domainOf(attr(stanza, 'to'));
  if (from === undefined || to === undefined) return 'improper-addressing';
  return authorized.has(pairKey({ from, to })) ? undefined : 'invalid-from';
}

function domainOf(address: string | undefined): string | undefined {
  if (address === undefined || address === '') return undefined;
  return parseJid(address)?.domain;
}
