/** The §3.3 back-off is part of the connection lifecycle model: machines/connection/backoff.ts. */
export { Backoff, backoffDelay, backoffWindow, DEFAULT_BACKOFF, resolveBackoff, type BackoffOptions, type ResolvedBackoff } from '../../machines/connection/backoff.js';
