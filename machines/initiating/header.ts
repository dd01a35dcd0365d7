/**
 * The initiating entity's stream headers: the initial header it writes (§4.2, §4.7) and the
 * checks on the receiving entity's response header (§4.7.3, §4.7.5, §4.8.2).
 */
import type { StreamErrorCondition } from '../conditions.js';
import { parseJid } from '../jid.js';
import { NS } from '../ns.js';
import type { InitiatingEntityInput, StreamHeader } from '../protocol.js';
import { OUR_VERSION, formatVersion, parseVersion } from '../receiving/header.js';
import type { ClientIdentity } from './types.js';

/** §4.7.4: the language we ask for when the input names none. */
export const DEFAULT_CLIENT_LANG = 'en';

/** RFC 7622 §3.1: the identity in input.jid; undefined when it has no localpart or is not a JID. */
export function identityOf(jid: string): ClientIdentity | undefined {
  const j = parseJid(jid);
  if (j === undefined || j.local === undefined) return undefined;
  return { username: j.local, domain: j.domain, ...(j.resource !== undefined ? { resource: j.resource } : {}) };
}

/**
 * §4.2 / §4.7 initial stream header:
 * - 'to': the domainpart of our JID (§4.7.2 MUST);
 * - 'from': our bare JID, only once the stream is protected by TLS (§4.7.1: the identity is
 *   private information before TLS, and SHOULD be sent after). Written again on every restart,
 *   so the header after STARTTLS carries it and the first one does not;
 * - no 'id' (§4.7.3: the initiating entity MUST NOT include it);
 * - 'version' '1.0', the highest we support (§4.7.5 rule 1);
 * - 'xml:lang' (§4.7.4 SHOULD).
 */
export function initialHeader(identity: ClientIdentity, input: Pick<InitiatingEntityInput, 'lang'>, secured: boolean): StreamHeader {
  return {
    to: identity.domain,
    ...(secured ? { from: `${identity.username}@${identity.domain}` } : {}),
    version: formatVersion(OUR_VERSION),
    lang: input.lang ?? DEFAULT_CLIENT_LANG,
    contentNamespace: NS.CLIENT,
  };
}

/**
 * Check the response stream header; undefined when it is acceptable, else the stream error we
 * close with (§4.9.1.1: our stream is already open, so the error simply follows).
 *
 * - Content namespace other than 'jabber:client' → `<invalid-namespace/>` (§4.9.3.10, §4.8.2).
 * - No 'version' → the server speaks "0.9" (§4.7.5 rule 4). This model implements XMPP 1.0
 *   only (no pre-RFC-3920 authentication), so per rule 3 we close with `<unsupported-version/>`
 *   (§4.9.3.25). The same for a major version below 1 or a value that is not "<major>.<minor>".
 * - A version above 1.0 violates rule 2 (the server must answer the lower one), but it still
 *   supports 1.0: accepted and treated as 1.0 (be liberal; nothing we do depends on it).
 * - A missing 'id' is accepted: §4.7.3 says the server MUST include one, but its
 *   interoperability note records that RFC 3920 servers left it off, and a client-to-server
 *   stream authenticated with SASL does not use the stream ID (only Dialback and the old
 *   "0.9" authentication do). Refusing would only break interop.
 * - 'from' is not checked against our 'to': §4.7.1 lets the server answer with another of its
 *   FQDNs, and the server's identity is established by the TLS certificate (§13.7.2), which
 *   the runtime checks, not by an unauthenticated attribute.
 */
export function responseHeaderProblem(header: StreamHeader): StreamErrorCondition | undefined {
  if (header.contentNamespace !== NS.CLIENT) return 'invalid-namespace';
  if (header.version === undefined) return 'unsupported-version';
  const v = parseVersion(header.version);
  if (v === undefined || v.major < OUR_VERSION.major) return 'unsupported-version';
  return undefined;
}
