/**
 * Types of the receiving server of a server-to-server stream (RFC 6120 §4-§6, §8 with
 * 'jabber:server'; XEP-0178 SASL EXTERNAL; XEP-0220 Server Dialback).
 *
 * The context is small and bounded (graph traversal serializes it): flags, a counter bounded
 * by policy, the one SASL step in progress, the peer's certificate identifiers, and the
 * domain pairs of this stream (at most DialbackPolicy.maxPairsPerStream: a pair beyond that
 * is refused with resource-constraint, XEP-0220 §2.5). The dialback machines run as children,
 * outside the context; no stanzas are kept.
 */
import type { SaslFailureCondition } from '../../conditions.js';
import type { SecretFor } from '../../dialback/authoritative.js';
import type { DbVerifyAnswer, ReceivingDialbackCommand, VerifyFailure } from '../../dialback/types.js';
import type { PeerCertificate } from '../../identity.js';
import type {
  CloseEvent,
  CloseSocketCommand,
  CloseStreamCommand,
  DeliverCommand,
  EndedCommand,
  FailEvent,
  OpenStreamCommand,
  RandomBytes,
  ResetParserCommand,
  SendCommand,
  SendWhitespaceCommand,
  ShutdownEvent,
  StartTlsCommand,
  StreamHeader,
  StreamOutcome,
  TransportEvent,
} from '../../protocol.js';
import type { ReceivingServerPolicy } from '../policy.js';

export interface ReceivingServerInput extends ReceivingServerPolicy {
  /** The domains this server services, prepared (§4.7.2); the first one answers a header whose 'to' is unknown (§4.9.1.3). */
  readonly hostedDomains: readonly string[];
  /** True when the transport was encrypted before the stream started (XEP-0368 direct TLS). */
  readonly secure?: boolean;
  /** The peer's certificate when `secure` (direct TLS): what TLS_ESTABLISHED would carry. */
  readonly peerCertificate?: PeerCertificate;
  /** XEP-0220 §2.2.2: our dialback secret per hosted domain, to answer `<db:verify/>` as Authoritative Server. */
  readonly secretFor: SecretFor;
  readonly random: RandomBytes;
}

// ---------------------------------------------------------------------------
// Events: runtime → machine
// ---------------------------------------------------------------------------

/**
 * XEP-0220 §2.1.2 Step 3: the Authoritative Server's `<db:verify/>` answer arrived on our
 * outgoing stream (the runtime routed it here by 'from', 'to' and 'id', `routeOutgoing`).
 */
export interface VerifyAnswerEvent { readonly type: 'VERIFY_ANSWER'; readonly answer: DbVerifyAnswer }
/** The runtime could not ask the Authoritative Server for the pair (from = Sender Domain, to = Target Domain), §2.5. */
export interface VerifyFailedEvent { readonly type: 'VERIFY_FAILED'; readonly from: string; readonly to: string; readonly reason: VerifyFailure }
/** XEP-0199 §4.3: the answer (result or error) to our `pingPeer`, seen on our outgoing stream. */
export interface PingReplyEvent { readonly type: 'PING_REPLY'; readonly id: string }
/** Internal: a command one domain pair's dialback machine emitted (./dialback.ts forwards it). */
export interface PairCommandEvent { readonly type: 'PAIR_COMMAND'; readonly pair: string; readonly command: ReceivingDialbackCommand }

export type ReceivingServerEvent =
  | TransportEvent
  | ShutdownEvent
  | FailEvent
  | CloseEvent
  | VerifyAnswerEvent
  | VerifyFailedEvent
  | PingReplyEvent
  | PairCommandEvent;

// ---------------------------------------------------------------------------
// Commands: machine → runtime
// ---------------------------------------------------------------------------

/** How a domain pair was authenticated on this stream. */
export type AuthenticationMethod = 'sasl-external' | 'dialback';

/**
 * The peer is authenticated as `from` towards our `to` (§6.4.6 with XEP-0178 §3, or
 * XEP-0220 §2.2.1): stanzas from `from` to `to` are accepted on this stream from now on.
 */
export interface ServerAuthenticatedCommand {
  readonly type: 'authenticated';
  readonly from: string;
  readonly to: string;
  readonly method: AuthenticationMethod;
}
/** XEP-0199 §4.3: send `<iq type='get' from=from to=to id=id><ping/></iq>` over our outgoing stream to `to`. */
export interface PingPeerCommand { readonly type: 'pingPeer'; readonly from: string; readonly to: string; readonly id: string }

/** A dialback outcome the runtime acts on (XEP-0220 §2.1.2 verify, §2.2.1 rejected, §2.5 failed), as the pair machine emitted it. */
export type DialbackDutyCommand = Exclude<ReceivingDialbackCommand, SendCommand | { type: 'pairAuthorized' }>;

export type ReceivingServerCommand =
  | OpenStreamCommand
  | SendCommand
  | SendWhitespaceCommand
  | CloseStreamCommand
  | StartTlsCommand
  | ResetParserCommand
  | CloseSocketCommand
  | EndedCommand
  /** §8.1.1.2, §8.1.2.2: a stanza whose 'from' and 'to' form an authenticated pair, for §10 routing. */
  | DeliverCommand
  | ServerAuthenticatedCommand
  | DialbackDutyCommand
  | PingPeerCommand;

// ---------------------------------------------------------------------------
// Context
// ---------------------------------------------------------------------------

/** One SASL EXTERNAL step as it sits in context. */
export type ExternalStep =
  /** §6.4.2 no initial response: an empty challenge, the authzid comes in `<response/>`. */
  | { readonly kind: 'challenge' }
  /** The certificate authenticates `domain` (XEP-0178 §3 step 11a). */
  | { readonly kind: 'success'; readonly domain: string }
  | { readonly kind: 'failure'; readonly condition: SaslFailureCondition; readonly text?: string };

export interface ReceivingServerContext {
  readonly input: ReceivingServerInput;
  /** The current initial stream header (§4.7), forgotten on every restart (§4.3.3). */
  readonly peer: StreamHeader | undefined;
  /** Our hosted domain the peer asked for in its header's 'to' (§4.7.2). */
  readonly localDomain: string | undefined;
  /** The peer's domain from its header's 'from' (§4.7.1), when given. */
  readonly peerDomain: string | undefined;
  readonly headerSent: boolean;
  readonly streamId: string | undefined;
  /** TLS is on (§5.4.3.3) or the transport was encrypted from the start. */
  readonly secured: boolean;
  /** What the peer's certificate presents, from TLS_ESTABLISHED (§13.7.2.1). */
  readonly peerCertificate: PeerCertificate | undefined;
  /** SASL EXTERNAL succeeded (§6.4.6) for this domain. */
  readonly saslDomain: string | undefined;
  /** SASL `<failure/>`s sent so far (§6.4.5), at most input.maxAuthAttempts. */
  readonly authFailures: number;
  /** An empty challenge is outstanding (§6.4.3). */
  readonly challenged: boolean;
  readonly saslStep: ExternalStep | undefined;
  /** Pair keys ("from to", ../../dialback/pairs.ts) authenticated on this stream, by SASL or dialback. */
  readonly authorized: readonly string[];
  /** Pair keys whose dialback verification is under way (one child machine each). */
  readonly verifying: readonly string[];
  /** No resource binding on server streams (§7.1): always undefined; the shared stream rules read it. */
  readonly boundJid: undefined;
  /** 'id' of our outstanding XEP-0199 ping. */
  readonly pingId: string | undefined;
  readonly outcome: StreamOutcome | undefined;
}
