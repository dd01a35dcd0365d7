/**
 * The initial stream header as the receiving entity sees it: validation (§4.7, §4.8.2,
 * §4.9.1.2-§4.9.1.3) and the response header (§4.2, §4.7.1-§4.7.5).
 */
import type { StreamErrorCondition } from '../conditions.js';
import { bareJid, parseJid } from '../jid.js';
import { NS } from '../ns.js';
import type { RandomBytes, StreamHeader } from '../protocol.js';

/** The XMPP version this model implements (§4.7.5). */
export const OUR_VERSION = { major: 1, minor: 0 } as const;

/** The one language our human-readable text (stream/stanza error `<text/>`) is written in (§4.7.4). */
export const DEFAULT_LANG = 'en';

export interface Version {
  readonly major: number;
  readonly minor: number;
}

/**
 * §4.7.5: "<major>.<minor>", each a separate integer, leading zeros ignored.
 * Undefined when the value does not follow that syntax.
 */
export function parseVersion(v: string): Version | undefined {
  const m = /^(\d{1,9})\.(\d{1,9})$/.exec(v.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function formatVersion(v: Version): string {
  return `${v.major}.${v.minor}`;
}

/** §4.7.5 rule 2: numeric comparison of major, then minor. */
export function compareVersions(a: Version, b: Version): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/**
 * §4.7.5 rule 2: the response carries the lower of the peer's version and ours.
 * Rule 4: with no 'version' on the initial header, none on the response either.
 */
export function responseVersion(peerVersion: string | undefined): string | undefined {
  if (peerVersion === undefined) return undefined;
  const v = parseVersion(peerVersion);
  if (v === undefined) return formatVersion(OUR_VERSION);
  return formatVersion(compareVersions(v, OUR_VERSION) < 0 ? v : OUR_VERSION);
}

/**
 * Check an initial stream header (§4.7, §4.8.2); undefined when it is acceptable, else the
 * stream error to send after our response header (§4.9.1.2).
 *
 * - Content namespace other than 'jabber:client' → `<invalid-namespace/>` (§4.9.3.10): this
 *   is a client-to-server stream ('jabber:server' belongs on the server-to-server port).
 * - No 'version', or a major version below 1 → `<unsupported-version/>` (§4.9.3.25). §4.7.5
 *   rule 4 says such a peer speaks "0.9"; this model implements only XMPP 1.0 streams (no
 *   pre-RFC-3920 authentication), so it refuses them instead of downgrading. An unparsable
 *   version is refused the same way.
 * - A higher version (1.x, 2.0, 11.0, ...) is accepted and answered with '1.0' (§4.7.5 rule 2):
 *   per rule 3 it is the initiating entity that closes with `<unsupported-version/>` if it
 *   cannot speak down. (The §4.9.3.25 example shows a server refusing '11.0'; we read §4.7.5,
 *   the normative rules, as letting the peer decide.)
 * - 'to' missing, not a bare domain, or not our domain → `<host-unknown/>` (§4.7.2 MUST include
 *   'to'; §4.9.3.6). The response 'from' is still our domain (§4.9.1.3).
 */
export function headerError(header: StreamHeader, domain: string): StreamErrorCondition | undefined {
  if (header.contentNamespace !== NS.CLIENT) return 'invalid-namespace';
  if (header.version === undefined) return 'unsupported-version';
  const v = parseVersion(header.version);
  if (v === undefined || v.major < OUR_VERSION.major) return 'unsupported-version';
  if (!servesDomain(header.to, domain)) return 'host-unknown';
  return undefined;
}

/** §4.7.2: 'to' must be a domainpart this entity services (compared after RFC 7622 preparation). */
export function servesDomain(to: string | undefined, domain: string): boolean {
  if (to === undefined) return false;
  const j = parseJid(to);
  const ours = parseJid(domain);
  return j !== undefined && ours !== undefined && j.local === undefined && j.resource === undefined && j.domain === ours.domain;
}

/**
 * §4.7.3: a fresh stream ID for every response header, including after each restart
 * (§4.3.3, §5.4.3.3 rule 4, §6.4.6). 16 random bytes (128 bits) from the input's random
 * source, base64url: unpredictable and, with that many bits, non-repeating.
 */
export function newStreamId(random: RandomBytes): string {
  return Buffer.from(random(16)).toString('base64url');
}

/**
 * §4.7.4: the response 'xml:lang'. We write human-readable text only in English. A peer
 * asking for 'en' gets 'en' (rule 1); 'en-GB' matches 'en' by the RFC 4647 lookup scheme
 * (rule 2); anything else, or no preference, gets our default 'en' (rule 3). All three rules
 * therefore answer 'en'.
 */
export function responseLang(_peerLang: string | undefined): string {
  return DEFAULT_LANG;
}

/**
 * The response stream header (§4.2, §4.7.6).
 * - 'from': our domain, always (§4.7.1, also when 'to' was unknown: §4.9.1.3).
 * - 'to': the bare JID from the peer's 'from' when it gave one (§4.7.2); a 'from' that is not
 *   a JID is left unanswered rather than echoed (the §4.7.1 interoperability note asks us to
 *   be liberal, so it is not an error).
 * - 'id': `streamId` (§4.7.3). 'version': §4.7.5. 'xml:lang': §4.7.4.
 * `peer` is undefined when we must open a stream before any initial header arrived (a stream
 * error or shutdown before the peer spoke, §4.9.1.2): then only 'from', 'id', 'version' and 'xml:lang'.
 */
export function responseHeader(peer: StreamHeader | undefined, domain: string, streamId: string): StreamHeader {
  const to = peer?.from !== undefined ? bareJid(peer.from) : undefined;
  const version = peer === undefined ? formatVersion(OUR_VERSION) : responseVersion(peer.version);
  return {
    from: domain,
    id: streamId,
    lang: responseLang(peer?.lang),
    contentNamespace: NS.CLIENT,
    ...(to !== undefined ? { to } : {}),
    ...(version !== undefined ? { version } : {}),
  };
}
