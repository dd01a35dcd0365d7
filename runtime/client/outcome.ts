/**
 * What a stream's end means to a client application: a readable sentence naming the
 * condition and its RFC 6120 section, and whether reconnecting (§3.3) can help.
 */
import {
  SASL_FAILURE_CONDITIONS,
  saslFailureSection,
  STREAM_ERROR_CONDITIONS,
  streamErrorSection,
  type SaslFailureCondition,
  type StreamErrorCondition,
} from '../../machines/conditions.js';
import type { StreamOutcome } from '../../machines/protocol.js';

const isStreamCondition = (c: string | undefined): c is StreamErrorCondition =>
  c !== undefined && (STREAM_ERROR_CONDITIONS as readonly string[]).includes(c);
const isSaslCondition = (c: string | undefined): c is SaslFailureCondition =>
  c !== undefined && (SASL_FAILURE_CONDITIONS as readonly string[]).includes(c);

/** The section that defines the outcome's condition when there is one, else the outcome's own. */
export function outcomeSection(o: StreamOutcome): string {
  if (o.kind === 'auth-failed' && isSaslCondition(o.condition)) return `6120 §${saslFailureSection(o.condition)}`;
  if ((o.kind === 'error-received' || o.kind === 'error-sent' || o.kind === 'timeout') && isStreamCondition(o.condition)) {
    return `6120 §${streamErrorSection(o.condition)}`;
  }
  return o.rfc;
}

/**
 * e.g. `authentication failed: <not-authorized/> (RFC 6120 §6.5.10)`: what failed, the
 * condition by name, its section, then the peer's or the socket's own words, if any.
 */
export function describeOutcome(o: StreamOutcome): string {
  const cond = o.condition !== undefined ? ` <${o.condition}/>` : '';
  const where = ` (RFC ${outcomeSection(o)})`;
  const text = o.text !== undefined && o.text !== '' ? `: ${o.text}` : '';
  const line = (what: string, fallback = ''): string => `${what}${cond !== '' ? `:${cond}` : fallback}${where}${text}`;
  switch (o.kind) {
    case 'closed':
      return line('stream closed');
    case 'auth-failed':
      return line('authentication failed');
    case 'error-received':
      return line('stream error from the server', ': <undefined-condition/>');
    case 'error-sent':
      return line('stream error sent to the server', ': <undefined-condition/>');
    case 'timeout':
      return line('timed out');
    case 'tls-failed':
      return `${line('TLS failed')}${tlsHint(o.text)}`;
    case 'transport':
      return line('connection lost');
    case 'bind-failed':
      return line('resource binding failed');
    default:
      return line(o.kind);
  }
}

/** A certificate that does not verify is the usual TLS failure; say how to proceed. */
function tlsHint(reason: string | undefined): string {
  if (reason === undefined) return '';
  if (/self[- ]signed|unable to get local issuer|unable to verify|certificate/i.test(reason) && !/identity/i.test(reason)) {
    return '; the server certificate is not trusted: pass it as ca (--ca FILE), or use insecure (--insecure); RFC 6120 §13.7.2';
  }
  return '';
}

export { isTransient } from '../../machines/connection/transient.js';

/** An error carrying the stream outcome, for promise rejections and the 'error' event. */
export class ClientError extends Error {
  readonly outcome: StreamOutcome;
  constructor(outcome: StreamOutcome) {
    super(describeOutcome(outcome));
    this.name = 'ClientError';
    this.outcome = outcome;
  }
  get condition(): string | undefined {
    return this.outcome.condition;
  }
}
