/**
 * The error a route returns for a stanza it could not deliver, RFC 6120 §10.4.3 with the
 * rules of §8.3.1: the kind and 'id' kept, 'from' and 'to' swapped, type='error', the original
 * payload, and `<error type=…>` holding the condition in urn:ietf:params:xml:ns:xmpp-stanzas
 * (the type is §8.3.3's default: 'cancel' for remote-server-not-found, 'wait' for
 * remote-server-timeout and resource-constraint).
 *
 * Choices where the RFCs leave one:
 *  - the original payload is included (§8.3.1 rule 6, a MAY). The machines' other errors leave
 *    it out (../../conditions.ts stanzaErrorReply) so as never to echo data to someone who may
 *    not have written it; a bounce goes back to the stanza's own sender, who wrote it, and lets
 *    it see which stanza failed. It passed our parser's §11.1 restrictions and size limits;
 *  - 'by' names our local domain (§8.3.1 rule 5): the error is ours, not the remote server's;
 *  - presence that RFC 6121 lets the recipient's server ignore silently is dropped, not
 *    bounced: available (no 'type') and 'unavailable' presence (RFC 6121 §8.5.1 "MUST silently
 *    ignore"), which are broadcasts an unreachable contact's server would not answer either, and
 *    'probe' (RFC 6121 §4.3.1: sent by the user's server, not the user, so no one waits for an
 *    answer; §8.5.1 allows ignoring it). Subscription presence ('subscribe', 'subscribed',
 *    'unsubscribe', 'unsubscribed') is bounced: RFC 6121 §3.1.2 "MUST return an appropriate
 *    error stanza to the user";
 *  - a stanza without 'from' has nobody to return to (the router stamps 'from' on what clients
 *    send, §8.1.2.1): dropped.
 */
import { STANZA_ERROR_CONDITIONS, stanzaErrorReply } from '../../conditions.js';
import { attr, childElements, withAttrs, type XmlElement } from '../../xml.js';
import type { BounceCondition } from './types.js';

/** RFC 6121 §8.5.1, §4.3.1: presence types never answered with an error (see above). */
const SILENT_PRESENCE: ReadonlySet<string | undefined> = new Set([undefined, 'unavailable', 'probe']);

/**
 * The error stanza to deliver to the sender of `stanza`, or undefined when none may be sent:
 * an error is never answered with an error (§8.3.1 rule 8), nor an IQ result (§8.2.3: nobody
 * waits for an answer to a result), nor the presence listed above.
 */
export function bounceStanza(stanza: XmlElement, condition: BounceCondition, opts: { text?: string; by?: string } = {}): XmlElement | undefined {
  const type = attr(stanza, 'type');
  if (type === 'error' || attr(stanza, 'from') === undefined) return undefined;
  if (stanza.name === 'iq' && type === 'result') return undefined;
  if (stanza.name === 'presence' && SILENT_PRESENCE.has(type)) return undefined;
  let reply = stanzaErrorReply(stanza, condition, { type: STANZA_ERROR_CONDITIONS[condition], ...opts });
  // §8.3.2: "[OPTIONAL to include sender XML here]" comes before <error/>.
  reply = { ...reply, children: [...childElements(stanza), ...reply.children] };
  // §8.3.1 rule 3: an IQ error always has an 'id' (empty when the request had none).
  return stanza.name === 'iq' && attr(stanza, 'id') === undefined ? withAttrs(reply, { id: '' }) : reply;
}
