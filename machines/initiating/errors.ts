/**
 * The stream errors the initiating entity sends (§4.9.3) and what triggers each one.
 * Every condition the server sends is received by one transition (`ELEMENT [isStreamError]`,
 * §4.9.1.1) in every open state except the TLS handshake, and ends the stream with
 * outcome 'error-received' and the condition (and its text; for `<see-other-host/>` the
 * alternate host, §4.9.3.19).
 */
import type { StreamErrorCondition } from '../conditions.js';

export const CLIENT_STREAM_ERROR_TRIGGERS: Readonly<Partial<Record<StreamErrorCondition, string>>> = {
  'bad-format': 'PARSE_ERROR (every open state); a response header where no restart is due',
  'bad-namespace-prefix': 'PARSE_ERROR',
  'connection-timeout': 'negotiationTimeout in negotiating (§4.6.2); pingTimeout in established.liveness.pinging',
  'invalid-namespace': "a response header whose content namespace is not 'jabber:client'; a 'jabber:server' stanza; PARSE_ERROR (stream root or content namespace)",
  'invalid-xml': 'PARSE_ERROR, if an XML layer raised it (runtime/xml validates no schema, §11.4: in practice never sent)',
  'not-authorized': 'a SASL <success/> whose SCRAM server signature does not verify (RFC 5802 §3; then TCP closes at once)',
  'not-well-formed': 'PARSE_ERROR',
  'policy-violation': "features without STARTTLS on an unprotected stream while input.tls is 'required' (§5.3.1, §13.9.4); PARSE_ERROR (size limits of runtime/xml)",
  'restricted-xml': 'PARSE_ERROR',
  'undefined-condition': 'features without <bind/> after authentication (§7.3.1); a bind result without a full JID of our account (§7.6.1)',
  'unsupported-encoding': 'PARSE_ERROR',
  'unsupported-feature': "STARTTLS mandatory-to-negotiate while input.tls is 'never' (§5.3.1); no acceptable SASL mechanism offered (§6.3.1)",
  'unsupported-stanza-type': 'a first-level element the current state does not accept (negotiation element out of turn, stanza before binding, unknown element)',
  'unsupported-version': "a response header without 'version' or with a major version below 1 (§4.7.5 rules 3-4)",
};
