/**
 * The SASL contract between the stream machines and the mechanism implementations
 * (RFC 6120 §6, RFC 4616 PLAIN, RFC 5802 SCRAM-SHA-1, RFC 7677 SCRAM-SHA-256).
 *
 * Everything here is pure: exchange state is plain JSON data (it lives in machine
 * context), randomness comes from the caller, and node:crypto is used only for its
 * deterministic hash/HMAC/PBKDF2 functions. Implemented in ./index.ts (re-exported here).
 */
import type { SaslFailureCondition } from '../conditions.js';
import type { MechanismName, RandomBytes } from '../protocol.js';

// The stored credentials are part of the stream contract (the CREDENTIALS event carries them).
export type { ScramKeys, StoredCredentials } from '../protocol.js';

/** Mechanisms this library implements (a name outside this set is §6.5.7 invalid-mechanism). */
export const IMPLEMENTED_MECHANISMS: readonly MechanismName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'];

/** Opaque, JSON-serializable exchange state. */
export type SaslState = { readonly mechanism: MechanismName } & Readonly<Record<string, unknown>>;

export interface SaslContext {
  readonly random: RandomBytes;
  /**
   * Client side, optional: remembers SaltedPassword per (mechanism, password, salt, iterations)
   * so repeated logins skip PBKDF2 (RFC 5802 §5.1 allows clients to cache it). The simulator
   * uses it to run thousands of sessions per second.
   */
  readonly saltedPasswordCache?: Map<string, Uint8Array>;
  /**
   * Server side: a secret that keys the salt invented for unknown users (RFC 5802 §5.1), so a
   * prober cannot compute it and tell an unknown name from a real account. Without it the fake
   * salt is a plain hash of the name: predictable, fine for tests only.
   */
  readonly fakeSaltSecret?: string;
}

/** One step of the receiving entity's side of an exchange (§6.4.3 – §6.4.6). */
export type ServerStep =
  /** The first client message named this simple user name (§6.3.7): fetch its credentials, then call serverWithCredentials. */
  | { readonly kind: 'lookup'; readonly username: string; readonly authzid?: string; readonly state: SaslState }
  /** Send `<challenge/>` with this data and wait for `<response/>` (§6.4.3). */
  | { readonly kind: 'challenge'; readonly data: Uint8Array; readonly state: SaslState }
  /** Send `<success/>` (with additional data when present, §6.4.6). */
  | { readonly kind: 'success'; readonly username: string; readonly authzid?: string; readonly additionalData?: Uint8Array }
  /** Send `<failure/>` with this condition (§6.4.5). */
  | { readonly kind: 'failure'; readonly condition: SaslFailureCondition; readonly text?: string };

/** One step of the initiating entity's side. */
export type ClientStep =
  | { readonly kind: 'respond'; readonly data: Uint8Array; readonly state: SaslState }
  | { readonly kind: 'error'; readonly reason: string };
