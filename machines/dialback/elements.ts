/**
 * The Server Dialback elements (XEP-0220 §2.1, §2.2, §2.5, schema §6.1) and the stream
 * feature (§2.4.2, schema §6.2): builders and strict parsers.
 *
 *   <db:result from=Sender to=Target>KEY</db:result>              Step 1 request (§2.1.1)
 *   <db:result from=Target to=Sender type='valid|invalid'/>       Step 4 answer  (§2.2.1)
 *   <db:verify from=Target to=Sender id=StreamID>KEY</db:verify>  Step 2 request (§2.1.2)
 *   <db:verify from=Sender to=Target id=StreamID type='valid|invalid'/>  Step 3 answer (§2.2.2)
 *   either, type='error', with <error type=T><condition xmlns=stanzas/></error>  (§2.5)
 *
 * A parser never throws on peer input: it returns the typed element or the reason it is not
 * one. 'from' and 'to' must be domain names (RFC 7622 domainparts: no localpart, no
 * resource); the parsed value carries them prepared (lower case, NFC, no trailing dot), so
 * correlating an answer with its request (§3.1) compares like with like.
 *
 * Whether a 'type' belongs on the stream it arrived on (requests only inbound, answers only
 * outbound, §2.2) is for ./pairs.ts; these functions check one element in isolation.
 */
import type { StanzaErrorType } from '../conditions.js';
import { parseJid } from '../jid.js';
import { NS } from '../ns.js';
import { child, childElements, el, text, type XmlElement } from '../xml.js';
import { dialbackErrorType, isDialbackErrorCondition, type DialbackErrorCondition } from './errors.js';

/** The answer of Step 3 or 4 (§2.1.1, §2.2.2). */
export type DialbackVerdict = 'valid' | 'invalid';

/** §2.5: the `<error/>` of a type='error' element. */
export interface DialbackError {
  readonly condition: DialbackErrorCondition;
  readonly type: StanzaErrorType;
  readonly text?: string;
}

interface Pair {
  readonly from: string;
  readonly to: string;
}

/** A `<db:result/>`, by what it is. */
export type DbResult =
  | (Pair & { readonly kind: 'request'; readonly key: string })
  | (Pair & { readonly kind: DialbackVerdict })
  | (Pair & { readonly kind: 'error'; readonly error: DialbackError });

/** A `<db:verify/>`, by what it is; 'id' is the Stream ID the key was generated for (§2.1.2). */
export type DbVerify =
  | (Pair & { readonly id: string; readonly kind: 'request'; readonly key: string })
  | (Pair & { readonly id: string; readonly kind: DialbackVerdict })
  | (Pair & { readonly id: string; readonly kind: 'error'; readonly error: DialbackError });

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Longest key we accept: XEP-0185 keys are 64 hex digits; anything near this is not a key. */
export const MAX_KEY_LENGTH = 1023;
/** Longest 'id': RFC 7622's 1023-octet bound on address parts, reused as a sanity bound. */
export const MAX_ID_LENGTH = 1023;

// ---------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------

/** Step 1 (§2.1.1): the Initiating Server's key for Sender → Target. */
export function resultRequest(from: string, to: string, key: string): XmlElement {
  return el('result', NS.DIALBACK, { from, to }, key);
}

/** Step 4 (§2.2.1): the Receiving Server's verdict; 'from' is the Target, 'to' the Sender. */
export function resultAnswer(from: string, to: string, type: DialbackVerdict): XmlElement {
  return el('result', NS.DIALBACK, { from, to, type });
}

/** §2.5: a Step 4 dialback error. */
export function resultError(from: string, to: string, condition: DialbackErrorCondition, errorText?: string): XmlElement {
  return el('result', NS.DIALBACK, { from, to, type: 'error' }, errorChild(condition, errorText));
}

/** Step 2 (§2.1.2): from the Target, to the Sender, 'id' the Stream ID of the stream the key came on. */
export function verifyRequest(from: string, to: string, id: string, key: string): XmlElement {
  return el('verify', NS.DIALBACK, { from, id, to }, key);
}

/** Step 3 (§2.2.2): 'from' and 'to' swapped from the request, 'id' copied. */
export function verifyAnswer(from: string, to: string, id: string, type: DialbackVerdict): XmlElement {
  return el('verify', NS.DIALBACK, { from, id, to, type });
}

/** §2.5: a Step 3 dialback error. */
export function verifyError(from: string, to: string, id: string, condition: DialbackErrorCondition, errorText?: string): XmlElement {
  return el('verify', NS.DIALBACK, { from, id, to, type: 'error' }, errorChild(condition, errorText));
}

/** §2.5: `<error/>` is "implicitly qualified by the 'jabber:server' namespace". */
function errorChild(condition: DialbackErrorCondition, errorText: string | undefined): XmlElement {
  return el(
    'error',
    NS.SERVER,
    { type: dialbackErrorType(condition) },
    el(condition, NS.STANZAS),
    errorText !== undefined && el('text', NS.STANZAS, { 'xml:lang': 'en' }, errorText),
  );
}

/** §2.4.2: the stream feature a server that handles dialback errors MUST advertise. */
export function dialbackFeature(): XmlElement {
  return el('dialback', NS.DIALBACK_FEATURES, {}, el('errors', NS.DIALBACK_FEATURES));
}

// ---------------------------------------------------------------------------
// Parsers
// ---------------------------------------------------------------------------

export function isDialbackElement(e: XmlElement): boolean {
  return e.xmlns === NS.DIALBACK && (e.name === 'result' || e.name === 'verify');
}

export function parseResult(e: XmlElement): Parsed<DbResult> {
  if (e.xmlns !== NS.DIALBACK || e.name !== 'result') return fail('not a <db:result/>');
  const pair = parsePair(e);
  if (!pair.ok) return pair;
  const body = parseBody(e);
  if (!body.ok) return body;
  return { ok: true, value: { ...pair.value, ...body.value } as DbResult };
}

export function parseVerify(e: XmlElement): Parsed<DbVerify> {
  if (e.xmlns !== NS.DIALBACK || e.name !== 'verify') return fail('not a <db:verify/>');
  const pair = parsePair(e);
  if (!pair.ok) return pair;
  const id = e.attrs['id'];
  if (id === undefined) return fail("'id' is missing");
  if (id === '' || /\s/u.test(id) || id.length > MAX_ID_LENGTH) return fail("'id' is not a stream ID");
  const body = parseBody(e);
  if (!body.ok) return body;
  return { ok: true, value: { ...pair.value, id, ...body.value } as DbVerify };
}

/** What a server's `<stream:features/>` says about dialback (§2.4.2). */
export interface DialbackFeature {
  /** The `<dialback xmlns='urn:xmpp:features:dialback'/>` feature is there. */
  readonly advertised: boolean;
  /** ... with `<errors/>`: the peer handles dialback errors, so target multiplexing is allowed (§2.6.2). */
  readonly errors: boolean;
}

export function parseDialbackFeature(features: XmlElement): DialbackFeature {
  const f = child(features, 'dialback', NS.DIALBACK_FEATURES);
  if (f === undefined) return { advertised: false, errors: false };
  return { advertised: true, errors: child(f, 'errors', NS.DIALBACK_FEATURES) !== undefined };
}

function parsePair(e: XmlElement): Parsed<Pair> {
  const from = domainAttr(e, 'from');
  if (!from.ok) return from;
  const to = domainAttr(e, 'to');
  if (!to.ok) return to;
  return { ok: true, value: { from: from.value, to: to.value } };
}

/** RFC 7622 domainpart only: XEP-0220 §1.3 pairs are domains, not JIDs. */
function domainAttr(e: XmlElement, name: 'from' | 'to'): Parsed<string> {
  const raw = e.attrs[name];
  if (raw === undefined) return fail(`'${name}' is missing`);
  const jid = parseJid(raw);
  if (jid === undefined || jid.local !== undefined || jid.resource !== undefined) return fail(`'${name}' is not a domain name`);
  return { ok: true, value: jid.domain };
}

type Body =
  | { readonly kind: 'request'; readonly key: string }
  | { readonly kind: DialbackVerdict }
  | { readonly kind: 'error'; readonly error: DialbackError };

function parseBody(e: XmlElement): Parsed<Body> {
  const type = e.attrs['type'];
  const content = text(e).trim();
  const children = childElements(e);
  if (type === undefined) {
    // A request: the key is the character data, nothing else (§2.1.1, §2.1.2).
    if (children.length > 0) return fail('a request carries only the key');
    if (content === '') return fail('the key is missing');
    if (content.length > MAX_KEY_LENGTH || /\s/u.test(content)) return fail('the key is not a dialback key');
    return { ok: true, value: { kind: 'request', key: content } };
  }
  if (type === 'valid' || type === 'invalid') {
    // The examples are empty, but the schema (XEP-0220 §6.1) makes both elements mixed content,
    // and Prosody 0.12 echoes the key in its Step 4 verdict: character data is ignored here.
    if (children.length > 0) return fail(`type='${type}' must be empty`);
    return { ok: true, value: { kind: type } };
  }
  if (type === 'error') {
    if (content !== '') return fail("type='error' carries no key");
    if (children.length !== 1) return fail("type='error' needs exactly one <error/>");
    const error = parseError(children[0]!);
    if (!error.ok) return error;
    return { ok: true, value: { kind: 'error', error: error.value } };
  }
  return fail(`unknown type '${type}'`);
}

const ERROR_TYPES: readonly string[] = ['auth', 'cancel', 'continue', 'modify', 'wait'];

/** §2.5 / RFC 6120 §8.3.2: `<error type=T>` with one defined condition and an optional `<text/>`. */
function parseError(e: XmlElement): Parsed<DialbackError> {
  if (e.name !== 'error' || e.xmlns !== NS.SERVER) return fail("type='error' needs an <error/> qualified by 'jabber:server'");
  const type = e.attrs['type'];
  if (type === undefined || !ERROR_TYPES.includes(type)) return fail("<error/> has no valid 'type'");
  let condition: DialbackErrorCondition | undefined;
  let errorText: string | undefined;
  for (const c of childElements(e)) {
    if (c.xmlns !== NS.STANZAS) continue; // §8.3.2: application-specific conditions may follow; ignored
    if (c.name === 'text') errorText = text(c);
    else if (condition !== undefined) return fail('<error/> has more than one condition');
    else if (isDialbackErrorCondition(c.name)) condition = c.name;
    else return fail(`unknown stanza error condition '${c.name}'`);
  }
  if (condition === undefined) return fail('<error/> has no stanza error condition');
  return { ok: true, value: { condition, type: type as StanzaErrorType, ...(errorText !== undefined && { text: errorText }) } };
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
