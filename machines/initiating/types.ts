/**
 * Types of the initiating entity (client side of a client-to-server stream, RFC 6120 §4-§8).
 *
 * The context is small and bounded: the parsed identity, flags, the SASL exchange state of
 * the one handshake in progress, the one outstanding bind request and the one outstanding
 * ping. No stanzas and no growing lists: a SEND before the stream is online is dropped (the
 * runtime queues stanzas until `online`, see machine.ts).
 */
import type { ClientStreamEvent, InitiatingEntityInput, MechanismName, StreamHeader, StreamOutcome } from '../protocol.js';
import type { SaslState } from '../sasl/api.js';

export type InitiatingEntityEvent = ClientStreamEvent;

/** The contract's input, unchanged (defaults in ../policy.ts DEFAULT_CLIENT_POLICY). */
export type InitiatingEntityMachineInput = InitiatingEntityInput;

/** `input.jid` split once (RFC 7622 §3.1); undefined parts when the JID is unusable. */
export interface ClientIdentity {
  /** §6.3.7 simple user name: the localpart of the JID. */
  readonly username: string;
  /** §4.7.2 the 'to' of our initial header: the domainpart. */
  readonly domain: string;
  /** §7.7: a resourcepart the client asks for; absent → server-generated (§7.6). */
  readonly resource?: string;
}

/**
 * One SASL step as it sits in context (§6.4), bytes base64-encoded so the context stays JSON:
 * - 'auth': send `<auth mechanism=...>` with the initial response `data` (absent: none, §6.4.2);
 * - 'respond': send `<response/>` with `data` (§6.4.3);
 * - 'abort': the server's challenge was unusable; send `<abort/>` (§6.4.4), `reason` for the outcome;
 * - 'verified': `<success/>` checked out (SCRAM server signature, RFC 5802 §3) → restart (§6.4.6);
 * - 'unverified': `<success/>` did not check out: the server did not prove it knows the keys;
 * - 'unusable': the mechanism could not even start (SASLprep rejected the credentials, ...).
 */
export type PendingClientStep =
  | { readonly kind: 'auth'; readonly mechanism: MechanismName; readonly data?: string; readonly state: SaslState }
  | { readonly kind: 'respond'; readonly data: string; readonly state: SaslState }
  | { readonly kind: 'abort'; readonly reason: string }
  | { readonly kind: 'verified' }
  | { readonly kind: 'unverified'; readonly reason: string }
  | { readonly kind: 'unusable'; readonly reason: string };

export interface InitiatingEntityContext {
  readonly input: InitiatingEntityMachineInput;
  /** Undefined when input.jid is not a JID with a localpart: the machine ends before connecting. */
  readonly identity: ClientIdentity | undefined;
  /** The server's current response header (§4.7), forgotten on every restart (§4.3.3, §5.4.3.3 rule 2). */
  readonly peer: StreamHeader | undefined;
  /** Our current stream is open (header written, no closing tag yet): a closing tag is due when we end it. */
  readonly streamOpen: boolean;
  /** TLS is on (§5.4.3.3) or the transport was encrypted from the start (XEP-0368). */
  readonly secured: boolean;
  /** SASL succeeded and the server proved itself (§6.4.6). */
  readonly authenticated: boolean;
  /** The mechanism of the handshake in progress or completed (§6.4.2). */
  readonly mechanism: MechanismName | undefined;
  /** The SASL exchange in progress (opaque, JSON). */
  readonly sasl: SaslState | undefined;
  /** The last step of the SASL exchange, dispatched by saslNegotiation.evaluating. */
  readonly saslStep: PendingClientStep | undefined;
  /** 'id' of our outstanding bind IQ (§7.6.1 / §7.7.1). */
  readonly bindId: string | undefined;
  /** The resourcepart submitted in the outstanding bind request, if any (§7.7.1). */
  readonly bindResource: string | undefined;
  /** True once we fell back to a server-generated resource after `<conflict/>` (at most once). */
  readonly bindRetried: boolean;
  /** The full JID the server bound (§7.6.1: it may differ from the one asked for). */
  readonly boundJid: string | undefined;
  /** 'id' of our outstanding XEP-0199 ping. */
  readonly pingId: string | undefined;
  readonly outcome: StreamOutcome | undefined;
}
