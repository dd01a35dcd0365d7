/**
 * The outgoing route to a remote domain (RFC 6120 §10.4): the XState machine per (local,
 * remote) domain pair, its defaults, and the bounce it asks for (§8.3, §10.4.3).
 */
export { s2sRouteMachine, type S2sRouteMachine } from './machine.js';
export { DEFAULT_ROUTE_MAX_QUEUED, DEFAULT_ROUTE_RETRY, DEFAULT_ROUTE_TIMEOUTS, resolveRoutePolicy, type RoutePolicy, type RoutePolicyOptions } from './policy.js';
export { bounceStanza } from './bounce.js';
export type { BounceCondition, RouteCommand, RouteContext, RouteEvent, RouteFailure, RouteFailureCondition, RouteInput, RouteTimeouts } from './types.js';
