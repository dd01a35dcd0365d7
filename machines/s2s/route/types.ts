/**
 * The outgoing route's boundary (./machine.ts): what the router and the s2s runtime tell it,
 * and what it asks them to do. One route serves one (local domain, remote domain) pair and
 * outlives many streams: each is an initiating-server stream (§5, §6 or XEP-0220) that the
 * runtime starts on `connect` and whose progress it reports as CONNECTED, AUTHENTICATED,
 * FAILED and ENDED. The route knows nothing of DNS, TCP or the stream machines: only these
 * events and commands.
 */
import type { StanzaErrorCondition } from '../../conditions.js';
import type { XmlElement } from '../../xml.js';
import type { ResolvedBackoff } from '../../connection/backoff.js';

/**
 * What a failed attempt to reach the remote domain ends in: §10.4.3's two conditions, and
 * XEP-0220 §2.1.1's internal-server-error for stanzas queued while the Receiving Server found
 * our dialback key invalid (the initiating machine's `bounce`, machines/s2s/initiating/types.ts).
 */
export type RouteFailureCondition = 'remote-server-not-found' | 'remote-server-timeout' | 'internal-server-error';

/** The conditions a route bounces with: the failures', and §8.3.3.18 for a full queue. */
export type BounceCondition = RouteFailureCondition | Extract<StanzaErrorCondition, 'resource-constraint'>;

/** The route's own timers, in ms (defaults and their reasons: ./policy.ts). */
export interface RouteTimeouts {
  /** From `connect` to AUTHENTICATED (resolution, TCP and negotiation together), §8.3.3.17 "within a reasonable amount of time". */
  readonly connect: number;
  /** An authenticated stream that carried no stanza for this long is closed (§4.6.3). */
  readonly idleClose: number;
}

export interface RouteInput {
  /** The local domain the stanzas come from (the stream's 'from', §4.7.1). */
  readonly local: string;
  /** The remote domain they go to (§10.4). */
  readonly remote: string;
  /** Stanzas held while the stream negotiates; one more is bounced `<resource-constraint/>`. At least 1. */
  readonly maxQueued: number;
  readonly timeouts: RouteTimeouts;
  /** The back-off after a failed attempt (../../connection/backoff.ts; maxAttempts is not used, see ./machine.ts). */
  readonly retry: ResolvedBackoff;
  /** Uniform in [0, 1): the back-off's randomness (tests and the simulator seed it). */
  readonly random: () => number;
}

export type RouteEvent =
  /** The router hands over a stanza addressed to the remote domain (§10.4). */
  | { readonly type: 'SEND'; readonly stanza: XmlElement }
  /** The remote domain resolved (§13.9.2) and a TCP connection is up: a stream negotiates on it (§4.2). */
  | { readonly type: 'CONNECTED' }
  /** The stream is negotiated and this pair authenticated (§5, §6 or XEP-0220): stanzas may flow (§4.3.5). */
  | { readonly type: 'AUTHENTICATED' }
  /**
   * The attempt failed before AUTHENTICATED, and the runtime knows why: resolution or no answer
   * at the resolved addresses (§8.3.3.16), or a stream that could not be negotiated (§8.3.3.17).
   * `reason`: a short text for logs and the bounces' `<text/>`.
   */
  | { readonly type: 'FAILED'; readonly condition: RouteFailureCondition; readonly reason: string }
  /** The stream (or its TCP connection) ended, whatever the cause. */
  | { readonly type: 'ENDED'; readonly reason?: string }
  /** The server shuts down (or the route is removed): close, bounce what waits, never reconnect. */
  | { readonly type: 'STOP' };

export type RouteCommand =
  /** Resolve the remote domain, connect and negotiate a stream from `local` to `remote` (§10.4.2). */
  | { readonly type: 'connect'; readonly local: string; readonly remote: string }
  /**
   * Abandon the attempt in progress, whatever stage it is at (resolution, TCP, negotiation):
   * nothing was written on it, so nothing is lost. The runtime reports nothing more about it.
   */
  | { readonly type: 'abort' }
  /** Hand a stanza to the authenticated stream (its SEND event). */
  | { readonly type: 'write'; readonly stanza: XmlElement }
  /** Close the stream gracefully (§4.4); ENDED follows. */
  | { readonly type: 'closeStream' }
  /** Return an error for this stanza to its sender (§10.4.3; built by ./bounce.ts, which may drop it, §8.3.1). */
  | { readonly type: 'bounce'; readonly stanza: XmlElement; readonly condition: BounceCondition; readonly text?: string }
  /** An attempt failed: the next one waits `delayMs` (attempt: failures since the last authenticated stream). */
  | { readonly type: 'backingOff'; readonly attempt: number; readonly delayMs: number; readonly condition: RouteFailureCondition; readonly reason: string }
  /** Final: no stream, nothing queued, none to come. */
  | { readonly type: 'stopped' };

/** Why the last attempt failed: what stanzas sent during the back-off are bounced with. */
export interface RouteFailure {
  readonly condition: RouteFailureCondition;
  readonly reason: string;
}

export interface RouteContext {
  readonly input: RouteInput;
  /** Stanzas waiting for AUTHENTICATED, oldest first; at most input.maxQueued (bounded, so it may sit in context). */
  readonly queue: readonly XmlElement[];
  /** Failed attempts since the last authenticated stream. */
  readonly attempts: number;
  /** The delay of the back-off in progress, in ms. */
  readonly retryDelayMs: number;
  /** The failure that started the back-off in progress. */
  readonly lastFailure: RouteFailure | undefined;
}
