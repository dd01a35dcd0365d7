/**
 * Types of the initiating server of a server-to-server stream (RFC 6120 §4-§6, §8 with
 * 'jabber:server'; XEP-0178 SASL EXTERNAL; XEP-0220 Server Dialback, as Initiating Server
 * §2.1.1 and as the Receiving Server asking an Authoritative Server, §2.1.2).
 *
 * The context is small and bounded: flags, the peer's header, the one domain pair of the
 * stream, and the `<db:verify/>` requests held or awaiting an answer (at most
 * input.maxVerifications). The dialback machine runs as a child, outside the context; no
 * stanzas are kept (the runtime queues them until `authenticated`).
 */
import type { DialbackSecret } from '../../dialback/key.js';
import type { DbVerifyAnswer, OriginatingDialbackCommand, VerifyFailure } from '../../dialback/types.js';
import type { PeerCertificate } from '../../identity.js';
import type {
  CloseEvent,
  CloseSocketCommand,
  CloseStreamCommand,
  OpenStreamCommand,
  RandomBytes,
  ResetParserCommand,
  SendCommand,
  SendEvent,
  SendWhitespaceCommand,
  StartTlsCommand,
  StreamHeader,
  StreamOutcome,
  TransportEvent,
} from '../../protocol.js';
import type { XmlElement } from '../../xml.js';
import type { InitiatingServerPolicy } from './policy.js';

/** What the stream is opened for. */
export type StreamPurpose =
  /** Stanzas from `domain` to `remoteDomain`: the pair is authenticated first (§4.3.5, XEP-0220 §2.1.1). */
  | 'stanzas'
  /** Only `<db:verify/>` requests to the Authoritative Server `remoteDomain` (XEP-0220 §2.1.2 note). */
  | 'verify';

export interface InitiatingServerInput extends InitiatingServerPolicy {
  /** Our domain: 'from' of our header (§4.7.1), the Sender Domain (XEP-0220 §1.3). */
  readonly domain: string;
  /** The peer's domain: 'to' of our header (§4.7.2), the Target Domain, the reference identity of its certificate (§13.7.2.1). */
  readonly remoteDomain: string;
  readonly purpose: StreamPurpose;
  /** We present a certificate for `domain` in the TLS handshake: SASL EXTERNAL is worth trying (XEP-0178 §3). */
  readonly certificate: boolean;
  /** Our dialback secret (XEP-0220 §2.1.1 key generation); without it dialback is not possible. */
  readonly secret?: DialbackSecret;
  /** True when the transport was encrypted before the stream started (XEP-0368 direct TLS). */
  readonly secure?: boolean;
  /** The peer's certificate when `secure`: what TLS_ESTABLISHED would carry. */
  readonly peerCertificate?: PeerCertificate;
  /** §4.7.4 xml:lang of our header (default 'en'). */
  readonly lang?: string;
  readonly random: RandomBytes;
}

// ---------------------------------------------------------------------------
// Events: runtime → machine
// ---------------------------------------------------------------------------

/**
 * XEP-0220 §2.1.2 Step 2: send `<db:verify from=to id>key</db:verify>` to the Authoritative
 * Server (`to` must be this stream's remote domain). `correlation` is the runtime's name for
 * the incoming stream and pair the key came on; the answer comes back with it.
 */
export interface VerifyEvent {
  readonly type: 'VERIFY';
  /** Our domain, the Target Domain of the key (its 'from'). */
  readonly from: string;
  /** The Sender Domain whose key is checked: the Authoritative Server's domain. */
  readonly to: string;
  /** The stream ID of our response header on the incoming stream the key came on. */
  readonly id: string;
  readonly key: string;
  readonly correlation: string;
}
/** XEP-0199 §4.3: the answer (result or error) to our ping, seen on the peer's stream to us. */
export interface PingReplyEvent { readonly type: 'PING_REPLY'; readonly id: string }
/** Internal: a command the pair's dialback machine emitted (./dialback.ts forwards it). */
export interface PairCommandEvent { readonly type: 'PAIR_COMMAND'; readonly pair: string; readonly command: OriginatingDialbackCommand }

export type InitiatingServerEvent = TransportEvent | SendEvent | CloseEvent | VerifyEvent | PingReplyEvent | PairCommandEvent;

// ---------------------------------------------------------------------------
// Commands: machine → runtime
// ---------------------------------------------------------------------------

export type AuthenticationMethod = 'sasl-external' | 'dialback';

/** Stanzas from `from` to `to` may go now (§4.3.5): flush the queue for the pair. */
export interface ServerAuthenticatedCommand {
  readonly type: 'authenticated';
  readonly from: string;
  readonly to: string;
  readonly method: AuthenticationMethod;
}

/** Why a SEND was not written; the runtime returns the stanza to its sender (§8.3). */
export type RefusalReason =
  /** No pair is authenticated yet, or the stream only verifies keys (§4.3.5). */
  | 'not-authenticated'
  /** 'to' or 'from' missing, empty or not an XMPP address (§4.9.3.7): the peer must never see it. */
  | 'improper-addressing'
  /** The addresses are not the authenticated pair (§8.1.1.2, §8.1.2.2 on the receiving side). */
  | 'unauthorized-pair'
  /** Not a 'jabber:server' message, presence or iq (§4.8.2): negotiation elements are the machine's. */
  | 'not-a-stanza'
  /** The stream is closing (§4.4 rule 2: nothing more is sent). */
  | 'closing';
export interface StanzaRefusedCommand { readonly type: 'stanzaRefused'; readonly stanza: XmlElement; readonly reason: RefusalReason }

/** XEP-0220 §2.1.2 Step 3 for the VERIFY of `correlation`: for the receivingDialback on that incoming stream (VERIFY_ANSWER). */
export interface VerifyAnswerCommand {
  readonly type: 'verifyAnswer';
  readonly correlation: string;
  readonly valid: boolean;
  /** The answer as parsed (type 'valid', 'invalid' or 'error' with its condition, §2.5). */
  readonly answer: DbVerifyAnswer;
}
/** XEP-0220 §2.1.2 note, §2.5: the request got no answer on this stream (VERIFY_FAILED on the incoming stream). */
export interface VerifyFailedCommand { readonly type: 'verifyFailed'; readonly correlation: string; readonly reason: VerifyFailure }

/** The dialback outcomes the runtime acts on (bounce the pair's queue, XEP-0220 §2.1.1), as the pair machine emitted them. */
export type DialbackDutyCommand = Extract<OriginatingDialbackCommand, { type: 'pairRejected' | 'pairFailed' }>;

/**
 * The stanza error for what the runtime still holds for this pair when the stream ends
 * (§10.4.3): remote-server-not-found when the peer said it does not serve the domain
 * (`<host-unknown/>`, `<host-gone/>`: as good as unresolvable, §8.3.3.16),
 * internal-server-error after the key was found bogus (XEP-0220 §2.1.1),
 * remote-server-timeout otherwise (resolved, but no usable stream, §8.3.3.17).
 */
export type StanzaBounce = 'remote-server-not-found' | 'remote-server-timeout' | 'internal-server-error';

export interface InitiatingServerOutcome extends StreamOutcome {
  readonly bounce: StanzaBounce;
  /** How the pair was authenticated before the stream ended, if it was. */
  readonly authenticated?: AuthenticationMethod;
}
export interface InitiatingServerEndedCommand { readonly type: 'ended'; readonly outcome: InitiatingServerOutcome }

export type InitiatingServerCommand =
  | OpenStreamCommand
  | SendCommand
  | SendWhitespaceCommand
  | CloseStreamCommand
  | StartTlsCommand
  | ResetParserCommand
  | CloseSocketCommand
  | InitiatingServerEndedCommand
  | ServerAuthenticatedCommand
  | StanzaRefusedCommand
  | VerifyAnswerCommand
  | VerifyFailedCommand
  | DialbackDutyCommand;

// ---------------------------------------------------------------------------
// Context
// ---------------------------------------------------------------------------

/** A `<db:verify/>` request: held (not sent yet) or sent and awaiting its answer. */
export interface Verification {
  readonly from: string;
  readonly to: string;
  readonly id: string;
  readonly key: string;
  readonly correlation: string;
}

export interface InitiatingServerContext {
  readonly input: InitiatingServerInput;
  /** The receiving server's current response header (§4.7), forgotten on every restart (§4.3.3). */
  readonly peer: StreamHeader | undefined;
  /** Our current stream is open (header written, no closing tag yet). */
  readonly streamOpen: boolean;
  /** TLS is on (§5.4.3.3) or the transport was encrypted from the start. */
  readonly secured: boolean;
  /** The receiving server's certificate authenticates input.remoteDomain (§13.7.2.1). */
  readonly peerAuthenticated: boolean;
  /** The 'id' of the current response header (§4.7.3): what dialback keys sign. */
  readonly streamId: string | undefined;
  /** SASL EXTERNAL succeeded (§6.4.6): the restart's features complete the negotiation. */
  readonly saslDone: boolean;
  /** Our `<auth mechanism='EXTERNAL'/>` got a `<failure/>` (XEP-0178 §3 step 11b). */
  readonly externalFailed: boolean;
  /** The last features offered dialback (`urn:xmpp:features:dialback`, XEP-0220 §2.4.2). */
  readonly dialbackOffered: boolean;
  /** The pair is authenticated (stanzas may flow), and how. */
  readonly authenticated: AuthenticationMethod | undefined;
  /** The Receiving Server found our key invalid (XEP-0220 §2.1.1): bounce with internal-server-error. */
  readonly dialbackRejected: boolean;
  /** VERIFY requests waiting for the stream to be ready (XEP-0220 §2.1.2). */
  readonly heldVerifications: readonly Verification[];
  /** `<db:verify/>` requests sent, awaiting Step 3. */
  readonly sentVerifications: readonly Verification[];
  /** No resource binding on server streams (§7.1): always undefined; the shared stream rules read it. */
  readonly boundJid: undefined;
  /** 'id' of our outstanding XEP-0199 ping. */
  readonly pingId: string | undefined;
  /** We sent a stream error: nothing more from the peer is processed (§4.4 rule 2 does not apply). */
  readonly streamErrorSent: boolean;
  readonly outcome: StreamOutcome | undefined;
}
