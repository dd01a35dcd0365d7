/**
 * Dialback errors, XEP-0220 §2.5: a `<db:result/>` or `<db:verify/>` of type 'error' carrying
 * `<error/>` (qualified by 'jabber:server') with one stanza error condition. They are not
 * stream errors: the stream and every other domain pair on it live on (§2.2.1, §2.2.2).
 *
 * The table lists the conditions of the XEP's table in its order, with the step they occur
 * in. §2.5 says the table is guidance, not a closed list ("any stanza error condition can be
 * used", revision 1.1), so a parser accepts every RFC 6120 §8.3.3 condition too.
 */
import { STANZA_ERROR_CONDITIONS, type StanzaErrorCondition, type StanzaErrorType } from '../conditions.js';

export interface DialbackErrorInfo {
  /** Step of the negotiation (XEP-0220 §1.4): 3 = Authoritative → Receiving, 4 = Receiving → Initiating. */
  readonly steps: readonly (3 | 4)[];
  readonly description: string;
}

/** XEP-0220 §2.5, table "Dialback error conditions", in the XEP's order. */
export const DIALBACK_ERROR_CONDITIONS = {
  'item-not-found': { steps: [3, 4], description: "The 'to' domain of the request is not hosted here." },
  'remote-connection-failed': { steps: [4], description: 'No connection to the Authoritative Server could be established.' },
  'remote-server-not-found': { steps: [4], description: 'The Authoritative Server answered item-not-found or host-unknown (or any Step 3 error).' },
  'remote-server-timeout': { steps: [4], description: 'The connection to the Authoritative Server failed, e.g. it closed the stream before verifying.' },
  'policy-violation': { steps: [3, 4], description: 'TLS is required before dialback and the request came without it.' },
  'not-authorized': { steps: [3], description: 'A certificate (or other proof, e.g. POSH) is required and none was given.' },
  forbidden: { steps: [4], description: "The Authoritative Server said 'invalid'; sent instead of type='invalid' to keep the stream." },
  'not-acceptable': { steps: [4], description: 'The asserted identity of the Initiating Server could not be established.' },
  'resource-constraint': { steps: [4], description: 'No room for another domain pair on this connection; try a new one.' },
} as const satisfies Record<string, DialbackErrorInfo>;

/**
 * A condition a dialback error may carry: any RFC 6120 §8.3.3 stanza condition, plus
 * 'remote-connection-failed', which the XEP's table lists although RFC 6120 defines it only as
 * a stream error (§4.9.3.15).
 */
export type DialbackErrorCondition = StanzaErrorCondition | 'remote-connection-failed';

export function isDialbackErrorCondition(name: string): name is DialbackErrorCondition {
  return name === 'remote-connection-failed' || Object.hasOwn(STANZA_ERROR_CONDITIONS, name);
}

/**
 * The `<error type/>` for a condition: RFC 6120 §8.3.3's default. 'remote-connection-failed'
 * has none there; 'cancel' as for remote-server-not-found, the XEP's own examples use 'cancel'
 * and a retry belongs on a new connection (§2.5, resource-constraint row) rather than on this one.
 */
export function dialbackErrorType(condition: DialbackErrorCondition): StanzaErrorType {
  return condition === 'remote-connection-failed' ? 'cancel' : STANZA_ERROR_CONDITIONS[condition];
}
