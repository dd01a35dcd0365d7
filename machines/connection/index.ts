/**
 * A client's connection lifecycle (RFC 6120 §3.3 reconnection, §4.9.3.19 redirects, §4.3.5
 * the pre-online queue): the XState machine around the streams, and its pure helpers.
 */
export { clientConnectionMachine, MAX_REDIRECTS, type ClientConnectionMachine } from './machine.js';
export { Backoff, backoffDelay, backoffWindow, DEFAULT_BACKOFF, resolveBackoff, type BackoffOptions, type ResolvedBackoff } from './backoff.js';
export { isTransient } from './transient.js';
export type { ConnectionCommand, ConnectionContext, ConnectionEvent, ConnectionInput, Endpoint, StopReason } from './types.js';
