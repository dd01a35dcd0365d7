/**
 * The sans-IO contract of the dialback machines (XEP-0220): what the s2s stream machine (or a
 * test) sends them, what they emit. One machine runs per domain pair (§1.3: Sender Domain,
 * Target Domain) on one stream; ./pairs.ts routes elements to them.
 */
import type { SendCommand } from '../protocol.js';
import type { XmlElement } from '../xml.js';
import type { DialbackErrorCondition } from './errors.js';
import type { DbResult, DbVerify } from './elements.js';
import type { DialbackSecret } from './key.js';

/** A domain pair, XEP-0220 §1.3: 'from' the Sender Domain, 'to' the Target Domain. */
export interface DomainPair {
  readonly from: string;
  readonly to: string;
}

/** Choices XEP-0220 leaves to the operator (defaults in ./policy.ts). */
export interface DialbackPolicy {
  /**
   * Milliseconds to wait for an answer: the Initiating Server for Step 4 (§2.1.1: "MAY impose
   * a timeout"), the Receiving Server for Step 3 (then remote-server-timeout, §2.5).
   */
  readonly dialbackTimeout: number;
  /** §2.5 policy-violation: the Receiving Server accepts dialback only over TLS. */
  readonly requireTls: boolean;
  /**
   * false: this server wants a certificate (or other proof, e.g. POSH) for this peer and
   * answers any dialback request with not-authorized (§2.5). Whether to offer SASL EXTERNAL
   * first is the stream machine's business.
   */
  readonly dialbackAllowed: boolean;
  /** §2.5 resource-constraint: most domain pairs one incoming stream may carry (multiplexing, §2.6). */
  readonly maxPairsPerStream: number;
}

/** How a pair's negotiation ended: the machines' output (their final state's value). */
export interface DialbackOutcome {
  readonly result: 'valid' | 'invalid' | 'error' | 'timeout' | 'stream-lost';
  readonly condition?: DialbackErrorCondition;
  /** XEP-0220 section that decided it. */
  readonly rfc: string;
}

// ---------------------------------------------------------------------------
// Initiating (originating) Server, §2.1.1
// ---------------------------------------------------------------------------

export interface OriginatingDialbackInput extends DomainPair {
  /** The 'id' of the Receiving Server's response stream header on this outgoing stream (RFC 6120 §4.7.3). */
  readonly streamId: string;
  /** Kept out of context: only the key derived from it is stored and sent. */
  readonly secret: DialbackSecret;
  readonly dialbackTimeout: number;
}

export type OriginatingDialbackEvent =
  /** A `<db:result/>` that arrived on this stream for this pair (parsed by ./elements.ts). */
  | { readonly type: 'RESULT'; readonly result: DbResult }
  /** The Receiving Server closed the stream or TCP while we wait (§2.1.1: treated as a dialback error). */
  | { readonly type: 'STREAM_LOST' };

export type OriginatingDialbackCommand =
  | SendCommand
  /** §2.1.1 valid: the pair is verified; send the stanzas queued for it. */
  | { readonly type: 'pairAuthorized'; readonly from: string; readonly to: string }
  /**
   * §2.1.1 invalid: return the queued stanzas with `bounce`, and send nothing more on this
   * stream, not even for pairs already authorized: the Receiving Server will most likely close it.
   */
  | { readonly type: 'pairRejected'; readonly from: string; readonly to: string; readonly bounce: 'internal-server-error'; readonly stopStream: true }
  /** §2.1.1 error / §2.5, timeout, stream lost: return the queued stanzas with `bounce`; the stream stays usable. */
  | {
      readonly type: 'pairFailed';
      readonly from: string;
      readonly to: string;
      readonly reason: 'error' | 'timeout' | 'stream-lost';
      readonly condition?: DialbackErrorCondition;
      readonly bounce: 'remote-server-timeout';
    };

// ---------------------------------------------------------------------------
// Receiving Server, §2.2.1 (and its Step 2 request, §2.1.2)
// ---------------------------------------------------------------------------

export interface ReceivingDialbackInput {
  /** The 'id' of our response stream header on this incoming stream: what the key must sign. */
  readonly streamId: string;
  /** The domains this server hosts, prepared (lower case): a Target Domain outside them gets item-not-found (§2.2.1). */
  readonly hosted: readonly string[];
  /** Other pairs on this stream, verified or being verified, when this one starts (for §2.5 resource-constraint). */
  readonly pairsOnStream: number;
  /** TLS is on for this stream (for §2.5 policy-violation). */
  readonly secured: boolean;
  readonly policy: DialbackPolicy;
}

/** A `<db:result/>` request (Step 1). */
export type DbResultRequest = Extract<DbResult, { kind: 'request' }>;
/** A `<db:verify/>` request (Step 2). */
export type DbVerifyRequest = Extract<DbVerify, { kind: 'request' }>;
/** A `<db:verify/>` answer (Step 3). */
export type DbVerifyAnswer = Exclude<DbVerify, { kind: 'request' }>;

/** Why the Authoritative Server could not answer, as the runtime saw it (§2.5 table, §2.1.2 note). */
export type VerifyFailure =
  /** DNS found no server for the Sender Domain, or it answered `<host-unknown/>` (→ remote-server-not-found). */
  | 'not-found'
  /** No TCP connection or stream could be established (→ remote-connection-failed). */
  | 'connection-failed'
  /** The stream or TCP connection closed before the answer (→ remote-server-timeout). */
  | 'connection-lost';

export type ReceivingDialbackEvent =
  | { readonly type: 'REQUEST'; readonly request: DbResultRequest }
  /**
   * The Authoritative Server's answer, routed here by (from, to, id). `otherPairsAuthorized`:
   * this incoming stream already carries another verified pair (decides §2.2.1's invalid case).
   */
  | { readonly type: 'VERIFY_ANSWER'; readonly answer: DbVerifyAnswer; readonly otherPairsAuthorized: boolean }
  | { readonly type: 'VERIFY_FAILED'; readonly reason: VerifyFailure }
  /** The incoming stream from the Initiating Server is gone. */
  | { readonly type: 'STREAM_LOST' };

export type ReceivingDialbackCommand =
  | SendCommand
  /**
   * Step 2 (§2.1.2): send `element` to the Authoritative Server of `authoritative` (the Sender
   * Domain), over an existing stream or a new one the runtime opens (DNS on that domain).
   */
  | { readonly type: 'verify'; readonly authoritative: string; readonly element: XmlElement }
  /** §2.2.1: accept stanzas from `from` to `to` on this stream. */
  | { readonly type: 'pairAuthorized'; readonly from: string; readonly to: string }
  /**
   * §2.2.1 invalid: accept nothing from the pair. `closeStream`: no other pair is verified, so
   * the stream MUST be closed (§4.4, after the type='invalid' answer just sent); false: a
   * `<forbidden/>` dialback error was sent instead and the other pairs keep the stream.
   */
  | { readonly type: 'pairRejected'; readonly from: string; readonly to: string; readonly closeStream: boolean }
  /** A dialback error was sent for the pair (§2.5); the stream lives on. */
  | { readonly type: 'pairFailed'; readonly from: string; readonly to: string; readonly condition: DialbackErrorCondition };
