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

/**
 * Whether reconnecting (§3.3) can succeed where this stream failed. Choices:
 *  - lost connections, timeouts and server-side trouble (system-shutdown, reset,
 *    connection-timeout, internal-server-error, resource-constraint, ...) are transient;
 *  - `<conflict/>` (§4.9.3.3) means another session took our resource over: reconnecting
 *    would throw that one out in turn, so we stay offline;
 *  - authentication, certificate and addressing failures repeat identically on every try
 *    (except §6.5.11 temporary-auth-failure), so retrying only hammers the server;
 *  - a stream the server closed gracefully (§4.4) after we were online is retried (a
 *    restarting server), one we closed is not (the caller never asks then).
 */
export function isTransient(o: StreamOutcome): boolean {
  switch (o.kind) {
    case 'transport':
    case 'timeout':
      return true;
    case 'closed':
      return o.condition === undefined;
    case 'error-received':
      return o.condition === undefined || TRANSIENT_STREAM_ERRORS.has(o.condition);
    case 'error-sent':
      return o.condition === 'connection-timeout';
    case 'auth-failed':
      return o.condition === 'temporary-auth-failure';
    case 'bind-failed':
      return o.condition === 'resource-constraint';
    default:
      return false;
  }
}

const TRANSIENT_STREAM_ERRORS = new Set<string>([
  'connection-timeout', // §4.9.3.4
  'host-gone', // §4.9.3.5
  'internal-server-error', // §4.9.3.8
  'remote-connection-failed', // §4.9.3.15
  'reset', // §4.9.3.16
  'resource-constraint', // §4.9.3.17
  'see-other-host', // §4.9.3.19 (we retry the configured host; following the redirect is not implemented)
  'system-shutdown', // §4.9.3.20
  'undefined-condition', // §4.9.3.21
]);

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
