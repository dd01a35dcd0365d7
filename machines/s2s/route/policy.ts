/**
 * Defaults of an outgoing route (./machine.ts): each a choice RFC 6120 leaves open, with the
 * passage it answers. The machine takes them as input, never as constants.
 */
import { resolveBackoff, type BackoffOptions, type ResolvedBackoff } from '../../connection/backoff.js';
import type { RouteTimeouts } from './types.js';

export const DEFAULT_ROUTE_TIMEOUTS: RouteTimeouts = {
  // §8.3.3.17 "within a reasonable amount of time": DNS, TCP, TLS and SASL or dialback (which
  // itself waits for a connection back to us, XEP-0220 §2.1.2) together; 60 s, as long as a
  // client's negotiation may take (machines/policy.ts).
  connect: 60_000,
  // §4.6.3: "it is preferable to be liberal in accepting idle peers ... it is typically more
  // efficient to maintain a stream between two servers than to aggressively time out such a
  // stream". 15 minutes without a stanza: conversations keep their stream, a domain written to
  // once does not hold a socket and its TLS state forever.
  idleClose: 900_000,
};

/** Stanzas one route holds while its stream negotiates (the same figure as a client's pre-online queue). */
export const DEFAULT_ROUTE_MAX_QUEUED = 100;

/**
 * §3.3's back-off, reused for s2s (the RFC gives no s2s figure). Unlike a client, a route
 * retries on demand (a stanza starts the next attempt), so the window has a floor of 5 s:
 * a burst of stanzas to a dead domain cannot turn into a burst of connection attempts.
 */
export const DEFAULT_ROUTE_RETRY: BackoffOptions = { min: 5_000, initial: 60_000, max: 960_000 };

export interface RoutePolicyOptions {
  readonly maxQueued?: number;
  readonly timeouts?: Partial<RouteTimeouts>;
  readonly retry?: BackoffOptions;
}

export interface RoutePolicy {
  readonly maxQueued: number;
  readonly timeouts: RouteTimeouts;
  readonly retry: ResolvedBackoff;
}

/** The defaults with `opts` over them; a RangeError names the value that cannot work. */
export function resolveRoutePolicy(opts: RoutePolicyOptions = {}): RoutePolicy {
  const maxQueued = opts.maxQueued ?? DEFAULT_ROUTE_MAX_QUEUED;
  if (!Number.isInteger(maxQueued) || maxQueued < 1) throw new RangeError(`route maxQueued must be an integer >= 1 (got ${maxQueued})`);
  const timeouts = { ...DEFAULT_ROUTE_TIMEOUTS, ...stripUndefined(opts.timeouts ?? {}) };
  for (const [name, ms] of Object.entries(timeouts)) {
    if (!(Number.isFinite(ms) && ms > 0)) throw new RangeError(`route timeout '${name}' must be a positive number of ms (got ${ms})`);
  }
  return { maxQueued, timeouts, retry: resolveBackoff({ ...DEFAULT_ROUTE_RETRY, ...stripUndefined(opts.retry ?? {}) }) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
