/**
 * The sans-IO boundary: what the runtime (or the simulator) feeds a stream machine,
 * and what the machine asks it to do.
 *
 * Inputs are `StreamEvent`s sent to the actor. Outputs are `Command`s that the machine
 * emits with XState's `emit()`; a driver listens with `actor.on('*', cmd => ...)` and
 * performs them in order. Machines never touch sockets, timers (other than XState
 * delays, which a SimulatedClock can drive) or wall time; randomness comes in through
 * the `random` function of their input so the simulator can seed it.
 */
import type { PeerCertificate } from './identity.js';
import type { StreamErrorCondition } from './conditions.js';
import type { XmlElement } from './xml.js';

/** RFC 6120 §4.7: attributes of a stream header, either direction. */
export interface StreamHeader {
  readonly from?: string; // §4.7.1
  readonly to?: string; // §4.7.2
  readonly id?: string; // §4.7.3
  readonly lang?: string; // §4.7.4 xml:lang
  readonly version?: string; // §4.7.5
  /** §4.8.2: the default (content) namespace declared on the header, e.g. 'jabber:client'. */
  readonly contentNamespace: string;
}

/** Source of randomness (stream ids, nonces, generated resources, ping ids). */
export type RandomBytes = (n: number) => Uint8Array;

/** RFC 5802 §2.2 / §3: what a server stores per account and hash: never the password. */
export interface ScramKeys {
  readonly salt: string; // base64
  readonly iterations: number;
  readonly storedKey: string; // base64 H(ClientKey)
  readonly serverKey: string; // base64 HMAC(SaltedPassword, "Server Key")
}

/** An account's stored credentials, as the account store returns them. */
export interface StoredCredentials {
  readonly 'SCRAM-SHA-1'?: ScramKeys;
  readonly 'SCRAM-SHA-256'?: ScramKeys;
  /** §6.5.2 account-disabled */
  readonly disabled?: boolean;
  /** §6.5.3 credentials-expired */
  readonly expired?: boolean;
}

// ---------------------------------------------------------------------------
// Events: runtime → machine
// ---------------------------------------------------------------------------

/** The peer's stream header arrived (§4.2); the XML layer already checked namespaces and prefix (§4.8). */
export interface HeaderEvent { readonly type: 'HEADER'; readonly header: StreamHeader }
/** One complete top-level child of the stream (stanza, features, SASL/TLS element, stream error). */
export interface ElementEvent { readonly type: 'ELEMENT'; readonly element: XmlElement }
/** Whitespace between top-level elements (§4.6.1 whitespace keepalive): traffic, nothing else. */
export interface KeepaliveEvent { readonly type: 'KEEPALIVE' }
/** The peer's closing `</stream:stream>` tag (§4.4). */
export interface StreamCloseEvent { readonly type: 'STREAM_CLOSE' }
/** The XML layer rejected the input (§11); `condition` is the stream error to send. */
export interface ParseErrorEvent { readonly type: 'PARSE_ERROR'; readonly condition: StreamErrorCondition; readonly text?: string }
/**
 * The TLS handshake completed (§5.4.3.3). `peerVerified`: the peer's certificate passed the
 * RFC 6125 check, when it ran; `channelBinding`: the binding data, when the runtime has it;
 * `peerCertificate`: what the peer's certificate presents and whether its chain is trusted,
 * for a machine that decides itself which domain it must authenticate (server-to-server,
 * §13.7.2.1, XEP-0178).
 */
export interface TlsEstablishedEvent {
  readonly type: 'TLS_ESTABLISHED';
  readonly peerVerified?: boolean;
  readonly channelBinding?: string;
  readonly peerCertificate?: PeerCertificate;
}
/** The TLS handshake failed (§5.4.3.2): the TCP connection is gone without a stream close. */
export interface TlsFailedEvent { readonly type: 'TLS_FAILED'; readonly reason: string }
/** The TCP connection ended (peer FIN/RST or local close completed). */
export interface SocketClosedEvent { readonly type: 'SOCKET_CLOSED'; readonly reason?: string }
/** A write failed: §4.6.1 dead connection. */
export interface WriteFailedEvent { readonly type: 'WRITE_FAILED'; readonly reason?: string }

/** Server (receiving entity) only: the account store answered a `lookupCredentials` command. */
export interface CredentialsEvent {
  readonly type: 'CREDENTIALS';
  readonly username: string;
  /** null: no such account (the machine must not reveal that; §6.5.10 not-authorized). */
  readonly credentials: StoredCredentials | null;
  /** The store could not answer (§6.5.11 temporary-auth-failure). */
  readonly unavailable?: boolean;
}
/** Server only: the session registry answered a `queryResource` command (§7.7.2.2). */
export interface ResourceStatusEvent {
  readonly type: 'RESOURCE_STATUS';
  readonly resource: string;
  /** Another session of the same account has bound this resource. */
  readonly inUse: boolean;
  /** How many resources the account has bound now (for §7.6.2.1 resource-constraint). */
  readonly boundCount: number;
  /** false: local policy forbids this account to bind (§7.6.2.2 not-allowed). Default true. */
  readonly allowed?: boolean;
}
/** Server only: a stanza routed to this session (§10), to be written to the client. */
export interface RouteInEvent { readonly type: 'ROUTE_IN'; readonly stanza: XmlElement }
/** Server only: another session took over this full JID (§7.7.2.2 override → `<conflict/>`). */
export interface ReplacedEvent { readonly type: 'REPLACED' }
/** Server only: the server is going down (§4.9.3.20 `<system-shutdown/>`). */
export interface ShutdownEvent { readonly type: 'SHUTDOWN' }
/**
 * Server only: an operator- or runtime-requested stream error (§4.9): e.g. `<see-other-host/>`
 * for a redirect, `<internal-server-error/>` when the runtime caught an exception,
 * `<reset/>` when the account's security context changed (§4.9.3.16), `<host-gone/>` when a
 * hosted domain is removed. For `see-other-host`, `text` is the alternate host (§4.9.3.19
 * character data).
 */
export interface FailEvent { readonly type: 'FAIL'; readonly condition: StreamErrorCondition; readonly text?: string }

/** Client (initiating entity) only: the application wants this stanza sent. */
export interface SendEvent { readonly type: 'SEND'; readonly stanza: XmlElement }
/** Either side, from the application: close the stream gracefully (§4.4). */
export interface CloseEvent { readonly type: 'CLOSE' }

export type TransportEvent =
  | HeaderEvent | ElementEvent | KeepaliveEvent | StreamCloseEvent | ParseErrorEvent
  | TlsEstablishedEvent | TlsFailedEvent | SocketClosedEvent | WriteFailedEvent;
export type ServerStreamEvent =
  | TransportEvent | CredentialsEvent | ResourceStatusEvent | RouteInEvent | ReplacedEvent | ShutdownEvent | FailEvent | CloseEvent;
export type ClientStreamEvent = TransportEvent | SendEvent | CloseEvent;

// ---------------------------------------------------------------------------
// Commands: machine → runtime (emitted in the order they must happen)
// ---------------------------------------------------------------------------

/** Write our stream header (`<?xml version='1.0'?><stream:stream ...>`), §4.2 / §4.3.3 restart. */
export interface OpenStreamCommand { readonly type: 'openStream'; readonly header: StreamHeader }
/** Write one top-level element. */
export interface SendCommand { readonly type: 'send'; readonly element: XmlElement }
/** Write a single space: §4.6.1 whitespace keepalive. */
export interface SendWhitespaceCommand { readonly type: 'sendWhitespace' }
/** Write `</stream:stream>` (§4.4). */
export interface CloseStreamCommand { readonly type: 'closeStream' }
/**
 * Upgrade the transport to TLS (§5.4.3). Server: after `<proceed/>` was written.
 * Client: after `<proceed/>` was received. The runtime answers TLS_ESTABLISHED or TLS_FAILED.
 * Either way the incoming XML parser starts over (a TLS restart is a new stream, §5.3.2).
 */
export interface StartTlsCommand { readonly type: 'startTls' }
/**
 * §4.3.3: the incoming stream is replaced; reset the parser so the next bytes must be a
 * new stream header. Server: after `<success/>` is written. Client: after `<success/>` was read.
 */
export interface ResetParserCommand { readonly type: 'resetParser' }
/** Close the TCP connection (after the close tag was written, when there is one). */
export interface CloseSocketCommand { readonly type: 'closeSocket' }

/** Server only: fetch stored SASL credentials for this simple user name (§6.3.7). */
export interface LookupCredentialsCommand { readonly type: 'lookupCredentials'; readonly username: string }
/** Server only: ask whether `resource` is free for the authenticated account (§7.7). */
export interface QueryResourceCommand { readonly type: 'queryResource'; readonly username: string; readonly resource: string }
/**
 * Server only: the stream is bound to `jid` (§7.6.1 / §7.7.1); register it for routing.
 * `replace`: another session holds the JID and must get `<conflict/>` (override policy).
 */
export interface BoundCommand { readonly type: 'bound'; readonly jid: string; readonly replace: boolean }
/** Server: a stanza from the bound client, 'from' already stamped (§8.1.2.1), to route (§10). Client: a stanza for the application. */
export interface DeliverCommand { readonly type: 'deliver'; readonly stanza: XmlElement }
/** Client only: the stream is bound and ready for stanzas (§4.3.5). */
export interface OnlineCommand { readonly type: 'online'; readonly jid: string }
/** Authentication succeeded (§6.4.6) for this identity. */
export interface AuthenticatedCommand { readonly type: 'authenticated'; readonly username: string; readonly authzid?: string }

/** Why a stream ended; the machine's final state carries the same value in context. */
export interface StreamOutcome {
  /** 'closed': §4.4 handshake; 'error-sent'/'error-received': §4.9; 'transport': socket gone (§4.6.1); 'timeout': §4.6; 'bind-failed': §7.6.2 / §7.7.2 (client) */
  readonly kind: 'closed' | 'error-sent' | 'error-received' | 'transport' | 'timeout' | 'tls-failed' | 'auth-failed' | 'bind-failed';
  readonly condition?: string;
  readonly text?: string;
  /** RFC section that ended it, for reports. */
  readonly rfc: string;
}
/** The stream machine reached its final state; no more commands follow. */
export interface EndedCommand { readonly type: 'ended'; readonly outcome: StreamOutcome }

export type Command =
  | OpenStreamCommand | SendCommand | SendWhitespaceCommand | CloseStreamCommand | StartTlsCommand | ResetParserCommand
  | CloseSocketCommand | LookupCredentialsCommand | QueryResourceCommand | BoundCommand | DeliverCommand | OnlineCommand
  | AuthenticatedCommand | EndedCommand;

// ---------------------------------------------------------------------------
// Policies: machine input, never constants (defaults in policy.ts)
// ---------------------------------------------------------------------------

export type MechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-1' | 'PLAIN';

/** Timeouts in milliseconds (XState delays; a SimulatedClock drives them under test). */
export interface Timeouts {
  /** From connect to a bound stream; past it `<connection-timeout/>` (§4.6.3 applied to setup). */
  readonly negotiation: number;
  /** §4.6.3: no traffic for this long → probe the peer. */
  readonly idle: number;
  /** §4.6.2 / XEP-0199: no reply to our ping within this → `<connection-timeout/>`. */
  readonly pingResponse: number;
  /** §4.4: after our close tag, wait this long for the peer's, then close TCP anyway. */
  readonly closeWait: number;
}

/** §4.6.3: how an idle peer is probed. */
export type KeepaliveMode = 'ping' | 'whitespace';

/** Resource conflict policy, RFC 6120 §7.7.2.2. */
export type ResourceConflictPolicy = 'override' | 'disallow' | 'generate';

export interface ReceivingEntityInput {
  /** The FQDN this server is authoritative for (§4.7.1 'from' of the response header). */
  readonly domain: string;
  /** Whether STARTTLS is offered and required (§5.3.1). 'none': not offered (no certificate). */
  readonly tls: 'required' | 'optional' | 'none';
  /** True when the transport was encrypted before the stream started (XEP-0368 direct TLS). */
  readonly secure?: boolean;
  /** SASL mechanisms offered, in preference order (§6.3.3). */
  readonly mechanisms: readonly MechanismName[];
  /** Offer PLAIN on an unencrypted stream (never by default; §13.9.4). */
  readonly allowPlainWithoutTls: boolean;
  /** §6.4.5: failed authentication attempts allowed before `<policy-violation/>` (2..5). */
  readonly maxAuthAttempts: number;
  readonly resourceConflict: ResourceConflictPolicy;
  /** §7.6.2.1: more bound resources than this → `<resource-constraint/>`. */
  readonly maxResourcesPerAccount: number;
  /**
   * §7.7.3: bind errors allowed before `<policy-violation/>` ("at least 5 and no more than 10");
   * default DEFAULT_MAX_BIND_ATTEMPTS (5) of machines/receiving/bind.ts.
   */
  readonly maxBindAttempts?: number;
  readonly keepalive: KeepaliveMode;
  readonly timeouts: Timeouts;
  readonly random: RandomBytes;
  /** Keys the salt SCRAM invents for unknown users (RFC 5802 §5.1): a per-server secret, so probes cannot tell them from real accounts. */
  readonly fakeSaltSecret?: string;
  /**
   * Informational features the host supports once the client is authenticated, sent after
   * `<bind/>` (§4.3.2: voluntary, never mandatory-to-negotiate), e.g. RFC 6121 §2.6.1 roster
   * versioning. The machine only announces them; the host implements them.
   */
  readonly boundFeatures?: readonly XmlElement[];
}

export interface InitiatingEntityInput {
  /** Bare JID to authenticate as, or full JID whose resource is requested at bind (§7.7). */
  readonly jid: string;
  readonly password: string;
  /** §6.3.8 optional authorization identity. */
  readonly authzid?: string;
  /** §5.3.1: 'required': never authenticate without TLS; 'optional': use it when offered; 'never': do not start TLS. */
  readonly tls: 'required' | 'optional' | 'never';
  /** True when the transport is already TLS (direct TLS, XEP-0368). */
  readonly secure?: boolean;
  /** Mechanisms this client will use, in preference order (§6.3.3). */
  readonly mechanisms: readonly MechanismName[];
  /** Use PLAIN on an unencrypted stream (never by default). */
  readonly allowPlainWithoutTls: boolean;
  /** §6.4.2: send the first SASL message inside `<auth/>` (default) or wait for an empty challenge. */
  readonly initialResponse?: boolean;
  readonly lang?: string;
  readonly keepalive: KeepaliveMode;
  readonly timeouts: Timeouts;
  readonly random: RandomBytes;
}
