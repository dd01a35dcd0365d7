/**
 * Which stream outcomes a reconnection (RFC 6120 §3.3) can cure: the connection lifecycle
 * (./machine.ts) waits and retries after these, and stays offline after the others.
 */
import type { StreamOutcome } from '../protocol.js';

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
  'see-other-host', // §4.9.3.19: followed at once (machine.ts); once MAX_REDIRECTS are used up, the configured host is retried
  'system-shutdown', // §4.9.3.20
  'undefined-condition', // §4.9.3.21
]);
