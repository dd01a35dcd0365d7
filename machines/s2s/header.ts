/**
 * Stream headers of a server-to-server stream (content namespace 'jabber:server', §4.8.2):
 * what each server checks in the other's header and what it writes, RFC 6120 §4.7. Both
 * server roles' machines use these; the version rules are those of every stream (§4.7.5,
 * ../receiving/header.ts).
 *
 * On a server stream 'from' and 'to' are domains (§4.7.1 "a JID of the form <domainpart>"),
 * never JIDs with a localpart or resourcepart.
 */
import type { StreamErrorCondition } from '../conditions.js';
import { parseJid } from '../jid.js';
import { NS } from '../ns.js';
import type { StreamHeader } from '../protocol.js';
import { OUR_VERSION, parseVersion, responseLang, responseVersion } from '../receiving/header.js';

/** Namespace of Server Dialback (XEP-0220 §2.1): declared with the 'db' prefix on a stream header that offers it. */
export const DIALBACK_PREFIX_NS = 'jabber:server:dialback';

/** A domainpart, prepared (RFC 7622 §3.2), or undefined when `s` is not exactly a domain. */
export function domainOf(s: string | undefined): string | undefined {
  if (s === undefined || s === '') return undefined;
  const j = parseJid(s);
  return j !== undefined && j.local === undefined && j.resource === undefined ? j.domain : undefined;
}

/** What the receiving server knows when it reads an initial header. */
export interface ReceivingServerView {
  /** The domains this server services (virtual hosting: several), prepared. */
  readonly hostedDomains: readonly string[];
  /** Is the stream protected by TLS already (§4.7.1's "after ... TLS")? */
  readonly secured: boolean;
  /** Policy: may a peer authenticate with Server Dialback (XEP-0220) instead of a certificate? */
  readonly dialbackAllowed: boolean;
}

/** The verdict on an initial header: the stream error to send, or the domains it names. */
export type InitialHeaderVerdict =
  | { readonly ok: false; readonly condition: StreamErrorCondition }
  /** `to`: the hosted domain asked for; `from`: the peer's domain, when it said (see below). */
  | { readonly ok: true; readonly to: string; readonly from: string | undefined };

/**
 * The receiving server checks the initiating server's header (§4.7, §4.8.2, §4.9.1.2):
 *
 * - content namespace other than 'jabber:server' → `<invalid-namespace/>` (§4.9.3.10): a
 *   client talks 'jabber:client' on the client port;
 * - version as for every stream: none, unparsable or major below 1 → `<unsupported-version/>`
 *   (§4.9.3.25), higher versions are answered with 1.0 (§4.7.5);
 * - 'to' (§4.7.2 MUST): a domain this server services, else `<host-unknown/>` (§4.9.3.6).
 *   Choice for a missing 'to' (the §4.7.2 interoperability note asks to be liberal with
 *   RFC 3920 peers): accepted when this server services exactly one domain, which is then
 *   meant; with virtual hosting nobody can tell which, so `<host-unknown/>`;
 * - 'from' (§4.7.1: the initiating server "MUST include the 'from' attribute after ... TLS"):
 *   when present it must be a domain, else `<invalid-from/>` (§4.9.3.9). Choice for a missing
 *   'from' after TLS: refused with `<invalid-from/>` when only certificates may authenticate
 *   the peer (nothing would say which identity the certificate must prove); tolerated when
 *   Server Dialback is allowed, because the dialback request names the originating domain
 *   itself (XEP-0220 §2.1.1) and older servers omit 'from'. Before TLS it may be absent.
 */
export function checkInitialHeader(header: StreamHeader, view: ReceivingServerView): InitialHeaderVerdict {
  const fail = (condition: StreamErrorCondition) => ({ ok: false, condition }) as const;
  if (header.contentNamespace !== NS.SERVER) return fail('invalid-namespace');
  if (header.version === undefined) return fail('unsupported-version');
  const v = parseVersion(header.version);
  if (v === undefined || v.major < OUR_VERSION.major) return fail('unsupported-version');

  let to: string | undefined;
  if (header.to === undefined || header.to === '') {
    if (view.hostedDomains.length !== 1) return fail('host-unknown');
    to = view.hostedDomains[0]!;
  } else {
    to = domainOf(header.to);
    if (to === undefined || !view.hostedDomains.includes(to)) return fail('host-unknown');
  }

  if (header.from === undefined || header.from === '') {
    if (view.secured && !view.dialbackAllowed) return fail('invalid-from');
    return { ok: true, to, from: undefined };
  }
  const from = domainOf(header.from);
  if (from === undefined) return fail('invalid-from');
  return { ok: true, to, from };
}

/**
 * The receiving server's response header (§4.7): 'from' the hosted domain the peer asked for
 * (§4.7.1: "one of the configured FQDNs of the server"; also when 'to' was unknown, §4.9.1.3,
 * then `ourDomain` is the server's default), 'to' the peer's domain when it gave one (§4.7.2
 * "MUST set its value to the domainpart specified in the 'from' attribute"), a fresh 'id'
 * (§4.7.3), version and xml:lang (§4.7.5, §4.7.4).
 */
export function serverResponseHeader(peer: StreamHeader | undefined, ourDomain: string, peerDomain: string | undefined, streamId: string): StreamHeader {
  return {
    from: ourDomain,
    ...(peerDomain !== undefined ? { to: peerDomain } : {}),
    id: streamId,
    lang: responseLang(peer?.lang),
    version: peer === undefined ? '1.0' : (responseVersion(peer.version) ?? '1.0'),
    contentNamespace: NS.SERVER,
  };
}

/**
 * The initiating server's initial header (§4.7): 'from' our domain for this stream (§4.7.1:
 * MUST after TLS; we always send it, since our domain is not secret), 'to' the remote domain
 * (§4.7.2 MUST), version 1.0 (§4.7.5 rule 1), no 'id' (§4.7.3: only the receiving entity sets it).
 */
export function serverInitialHeader(ourDomain: string, remoteDomain: string, lang = 'en'): StreamHeader {
  return { from: ourDomain, to: remoteDomain, version: '1.0', lang, contentNamespace: NS.SERVER };
}

/**
 * The initiating server checks the response header: 'jabber:server' (§4.8.2,
 * `<invalid-namespace/>`), version (§4.7.5), an 'id' (§4.7.3: the receiving entity MUST set
 * it; Server Dialback keys are computed over it, XEP-0220 §2.4, so without one the stream is
 * useless: `<bad-format/>`, §4.9.3.1). 'from' must be the domain we asked for, if given:
 * §4.7.1 lets a server answer with another of its FQDNs, but on a server stream that would be
 * another peer than the one we are authenticating, so `<invalid-from/>` (§4.9.3.9).
 */
export function responseHeaderProblem(header: StreamHeader, remoteDomain: string): StreamErrorCondition | undefined {
  if (header.contentNamespace !== NS.SERVER) return 'invalid-namespace';
  if (header.version === undefined) return 'unsupported-version';
  const v = parseVersion(header.version);
  if (v === undefined || v.major < OUR_VERSION.major) return 'unsupported-version';
  if (header.id === undefined || header.id === '') return 'bad-format';
  if (header.from !== undefined && domainOf(header.from) !== domainOf(remoteDomain)) return 'invalid-from';
  return undefined;
}
