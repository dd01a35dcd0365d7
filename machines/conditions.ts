/**
 * The error vocabularies of RFC 6120 and the elements that carry them.
 * Lists are in RFC order so reports and tests can enumerate them.
 */
import { NS } from './ns.js';
import { el, type XmlElement } from './xml.js';

/** RFC 6120 §4.9.3: the 25 defined stream error conditions. */
export const STREAM_ERROR_CONDITIONS = [
  'bad-format', // §4.9.3.1
  'bad-namespace-prefix', // §4.9.3.2
  'conflict', // §4.9.3.3
  'connection-timeout', // §4.9.3.4
  'host-gone', // §4.9.3.5
  'host-unknown', // §4.9.3.6
  'improper-addressing', // §4.9.3.7
  'internal-server-error', // §4.9.3.8
  'invalid-from', // §4.9.3.9
  'invalid-namespace', // §4.9.3.10
  'invalid-xml', // §4.9.3.11
  'not-authorized', // §4.9.3.12
  'not-well-formed', // §4.9.3.13
  'policy-violation', // §4.9.3.14
  'remote-connection-failed', // §4.9.3.15
  'reset', // §4.9.3.16
  'resource-constraint', // §4.9.3.17
  'restricted-xml', // §4.9.3.18
  'see-other-host', // §4.9.3.19
  'system-shutdown', // §4.9.3.20
  'undefined-condition', // §4.9.3.21
  'unsupported-encoding', // §4.9.3.22
  'unsupported-feature', // §4.9.3.23
  'unsupported-stanza-type', // §4.9.3.24
  'unsupported-version', // §4.9.3.25
] as const;
export type StreamErrorCondition = (typeof STREAM_ERROR_CONDITIONS)[number];

/** RFC 6120 §4.9.3 section number of each stream error condition. */
export function streamErrorSection(c: StreamErrorCondition): string {
  return `4.9.3.${STREAM_ERROR_CONDITIONS.indexOf(c) + 1}`;
}

/** RFC 6120 §6.5: the 11 SASL failure conditions. */
export const SASL_FAILURE_CONDITIONS = [
  'aborted', // §6.5.1
  'account-disabled', // §6.5.2
  'credentials-expired', // §6.5.3
  'encryption-required', // §6.5.4
  'incorrect-encoding', // §6.5.5
  'invalid-authzid', // §6.5.6
  'invalid-mechanism', // §6.5.7
  'malformed-request', // §6.5.8
  'mechanism-too-weak', // §6.5.9
  'not-authorized', // §6.5.10
  'temporary-auth-failure', // §6.5.11
] as const;
export type SaslFailureCondition = (typeof SASL_FAILURE_CONDITIONS)[number];

export function saslFailureSection(c: SaslFailureCondition): string {
  return `6.5.${SASL_FAILURE_CONDITIONS.indexOf(c) + 1}`;
}

/** RFC 6120 §8.3.2: error types. */
export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** RFC 6120 §8.3.3: the 22 stanza error conditions with their default error type. */
export const STANZA_ERROR_CONDITIONS = {
  'bad-request': 'modify', // §8.3.3.1
  conflict: 'cancel', // §8.3.3.2
  'feature-not-implemented': 'cancel', // §8.3.3.3
  forbidden: 'auth', // §8.3.3.4
  gone: 'cancel', // §8.3.3.5
  'internal-server-error': 'cancel', // §8.3.3.6
  'item-not-found': 'cancel', // §8.3.3.7
  'jid-malformed': 'modify', // §8.3.3.8
  'not-acceptable': 'modify', // §8.3.3.9
  'not-allowed': 'cancel', // §8.3.3.10
  'not-authorized': 'auth', // §8.3.3.11
  'policy-violation': 'modify', // §8.3.3.12
  'recipient-unavailable': 'wait', // §8.3.3.13
  redirect: 'modify', // §8.3.3.14
  'registration-required': 'auth', // §8.3.3.15
  'remote-server-not-found': 'cancel', // §8.3.3.16
  'remote-server-timeout': 'wait', // §8.3.3.17
  'resource-constraint': 'wait', // §8.3.3.18
  'service-unavailable': 'cancel', // §8.3.3.19
  'subscription-required': 'auth', // §8.3.3.20
  'undefined-condition': 'cancel', // §8.3.3.21
  'unexpected-request': 'wait', // §8.3.3.22
} as const satisfies Record<string, StanzaErrorType>;
export type StanzaErrorCondition = keyof typeof STANZA_ERROR_CONDITIONS;

/** RFC 6120 §4.9.2: `<stream:error><condition/>[<text/>]</stream:error>`. */
export function streamErrorElement(condition: StreamErrorCondition, text?: string): XmlElement {
  return el(
    'error',
    NS.STREAMS,
    {},
    el(condition, NS.STREAM_ERRORS),
    text !== undefined && el('text', NS.STREAM_ERRORS, { 'xml:lang': 'en' }, text),
  );
}

/** RFC 6120 §6.4.5: `<failure xmlns=sasl><condition/>[<text/>]</failure>`. */
export function saslFailureElement(condition: SaslFailureCondition, text?: string): XmlElement {
  return el('failure', NS.SASL, {}, el(condition, NS.SASL), text !== undefined && el('text', NS.SASL, { 'xml:lang': 'en' }, text));
}

/**
 * RFC 6120 §8.3.1: the error reply to `stanza`: same kind and 'id', 'to'/'from' swapped,
 * type='error', one `<error/>` child with the condition (default type from §8.3.3).
 * §8.3.1 lets the error include the original payload; we leave it out (MAY), so that an
 * error never echoes data back to a party that may not have been its author.
 */
export function stanzaErrorReply(
  stanza: XmlElement,
  condition: StanzaErrorCondition,
  opts: { type?: StanzaErrorType; text?: string; by?: string; from?: string } = {},
): XmlElement {
  const type = opts.type ?? STANZA_ERROR_CONDITIONS[condition];
  return el(
    stanza.name,
    stanza.xmlns,
    { id: stanza.attrs.id, to: stanza.attrs.from, from: opts.from ?? stanza.attrs.to, type: 'error' },
    el(
      'error',
      stanza.xmlns,
      { type, by: opts.by },
      el(condition, NS.STANZAS),
      opts.text !== undefined && el('text', NS.STANZAS, { 'xml:lang': 'en' }, opts.text),
    ),
  );
}

/** The defined condition inside an `<error/>` / `<stream:error/>` / `<failure/>`, if any. */
export function conditionOf(container: XmlElement, conditionNs: string): string | undefined {
  for (const c of container.children) if (typeof c !== 'string' && c.xmlns === conditionNs && c.name !== 'text') return c.name;
  return undefined;
}
