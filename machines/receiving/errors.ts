/**
 * The stream errors this machine sends (§4.9.3) and what triggers each one.
 */
import { streamErrorElement, type StreamErrorCondition } from '../conditions.js';
import { NS } from '../ns.js';
import { el, type XmlElement } from '../xml.js';

/**
 * `<stream:error/>` for `condition` (§4.9.2). For `<see-other-host/>` the alternate host is
 * the XML character data of the condition element itself (§4.9.3.19: "MUST specify the
 * alternate FQDN or IP address"), not a `<text/>`; every other condition carries `text`
 * in `<text/>`.
 */
export function streamErrorElementFor(condition: StreamErrorCondition, text?: string): XmlElement {
  if (condition === 'see-other-host') {
    return el('error', NS.STREAMS, {}, el('see-other-host', NS.STREAM_ERRORS, {}, text ?? ''));
  }
  return streamErrorElement(condition, text);
}

/**
 * How each of the 25 conditions (§4.9.3) is reached in this machine, and from which states.
 * "FAIL" is the operator/runtime-requested error event; "PARSE_ERROR" comes from the XML layer.
 * Every open state means: any state under `open` except `tlsNegotiation.handshake`, where no
 * XML may be written (§5.4.3.1) and the TCP connection is simply closed.
 */
export const STREAM_ERROR_TRIGGERS: Readonly<Record<StreamErrorCondition, string>> = {
  'bad-format': 'PARSE_ERROR (every open state); a stream header where no restart is due (every open state but awaitingStreamHeader)',
  'bad-namespace-prefix': 'PARSE_ERROR (every open state)',
  conflict: 'REPLACED in established (another session bound this full JID, §7.7.2.2 #3)',
  'connection-timeout': 'negotiationTimeout in negotiating (§4.6.2); pingTimeout in established.liveness.pinging',
  'host-gone': 'FAIL (a hosted domain was removed)',
  'host-unknown': "HEADER in awaitingStreamHeader with 'to' missing or not our domain",
  'improper-addressing': 'FAIL (a server-to-server condition; kept reachable for the runtime)',
  'internal-server-error': 'FAIL (runtime exception)',
  'invalid-from': "a stanza in established whose 'from' is not the client's full or bare JID",
  'invalid-namespace':
    "HEADER with a content namespace other than 'jabber:client'; a 'jabber:server' stanza in any open state; PARSE_ERROR (stream root or content namespace, runtime/xml)",
  'invalid-xml': 'PARSE_ERROR, if an XML layer raised it: runtime/xml validates no schema (§11.4), so in practice never sent',
  'not-authorized':
    'a stanza before authentication (awaitingStreamHeader, tlsNegotiation, saslNegotiation) or before binding (resourceBinding); a SASL element after authentication; a second bind request in established',
  'not-well-formed': 'PARSE_ERROR (every open state)',
  'policy-violation':
    'the maxAuthAttempts-th SASL failure (saslNegotiation.evaluating); the maxBindAttempts-th bind error (resourceBinding); PARSE_ERROR (size limits of runtime/xml, §13.12)',
  'remote-connection-failed': 'FAIL',
  reset: 'FAIL (the security context changed: certificate revoked, account deleted or password changed, §4.9.3.16)',
  'resource-constraint': 'FAIL (server out of resources or connection limit)',
  'restricted-xml': 'PARSE_ERROR (every open state)',
  'see-other-host': 'FAIL with text = the alternate host (§4.9.3.19)',
  'system-shutdown': 'SHUTDOWN (every open state)',
  'undefined-condition': 'FAIL',
  'unsupported-encoding': 'PARSE_ERROR (every open state)',
  'unsupported-feature': 'FAIL (defined for the initiating entity; kept reachable)',
  'unsupported-stanza-type': 'an unknown first-level element in any open state',
  'unsupported-version': "HEADER in awaitingStreamHeader without 'version' or with major version 0",
};
