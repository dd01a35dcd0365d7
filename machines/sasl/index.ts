/**
 * SASL mechanisms for RFC 6120 §6: PLAIN (RFC 4616), SCRAM-SHA-1 (RFC 5802) and
 * SCRAM-SHA-256 (RFC 7677). Pure functions over JSON state; see ./api.ts for the types.
 *
 * Division of labour with the stream machines: this layer authenticates the simple user
 * name (§6.3.7) and passes any authorization identity through unchanged in the 'lookup'
 * and 'success' steps. It does not know the stream's domain, so the machine checks the
 * authzid (§6.3.8: a bare JID, here one whose localpart is the user name) and answers
 * §6.5.6 invalid-authzid itself. The user name in 'lookup' / 'success' is the SASLprep'ed
 * name; the account store applies localpart preparation (RFC 7622 §3.3) on top.
 */
import type { MechanismName, RandomBytes } from '../protocol.js';
import type { ClientStep, SaslContext, SaslState, ScramKeys, ServerStep, StoredCredentials } from './api.js';
import { IMPLEMENTED_MECHANISMS } from './api.js';
import { plainClientChallenge, plainClientStart, plainServerMessageReceived, plainServerVerify } from './plain.js';
import { saslprep } from './saslprep.js';
import {
  DEFAULT_ITERATIONS,
  SALT_BYTES,
  deriveScramKeys as deriveKeys,
  isScram,
  newNonce,
  scramClientChallenge,
  scramClientStart,
  scramClientSuccess,
  scramServerFinal,
  scramServerFirst,
  scramServerFirstMessageReceived,
  type ScramClientOptions,
} from './scram.js';

export * from './api.js';
export type { MechanismName, RandomBytes } from '../protocol.js';
export { encodeSaslData, decodeSaslData } from './encoding.js';
export { saslprep } from './saslprep.js';
export { DEFAULT_ITERATIONS, MIN_ITERATIONS, MAX_ITERATIONS, type ScramClientOptions } from './scram.js';

export function deriveScramKeys(mechanism: 'SCRAM-SHA-1' | 'SCRAM-SHA-256', password: string, salt: Uint8Array, iterations: number): ScramKeys {
  return deriveKeys(mechanism, password, salt, iterations);
}

/**
 * What the account store saves for a new password: keys for both SCRAM hashes, each with its
 * own fresh random salt, iterations default 4096 (RFC 7677 §4 minimum). The password is
 * SASLprep'ed as a stored string (RFC 4616 §2, RFC 3454 §7: unassigned code points
 * prohibited); throws if that fails or leaves nothing.
 */
export function deriveCredentials(password: string, opts: { random: RandomBytes; iterations?: number }): StoredCredentials {
  const prepared = saslprep(password, { storedString: true });
  if (prepared === undefined || prepared === '') throw new Error('password rejected by SASLprep (RFC 4013)');
  const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
  return {
    'SCRAM-SHA-1': deriveKeys('SCRAM-SHA-1', prepared, opts.random(SALT_BYTES), iterations),
    'SCRAM-SHA-256': deriveKeys('SCRAM-SHA-256', prepared, opts.random(SALT_BYTES), iterations),
  };
}

function known(m: string): m is MechanismName {
  return (IMPLEMENTED_MECHANISMS as readonly string[]).includes(m);
}

// ---------------------------------------------------------------------------
// Receiving entity (server)
// ---------------------------------------------------------------------------

/**
 * `<auth mechanism='…'>` arrived (§6.4.2). `initialResponse` undefined means the element had
 * no initial response: answer with an empty challenge and take the first message from
 * serverResponse.
 */
export function serverStart(mechanism: MechanismName, initialResponse: Uint8Array | undefined, _ctx: SaslContext): ServerStep {
  if (!known(mechanism)) return { kind: 'failure', condition: 'invalid-mechanism' }; // §6.5.7
  if (initialResponse === undefined) {
    return { kind: 'challenge', data: new Uint8Array(0), state: { mechanism, phase: 'await-initial' } };
  }
  return firstMessage(mechanism, initialResponse);
}

function firstMessage(mechanism: MechanismName, data: Uint8Array): ServerStep {
  return isScram(mechanism) ? scramServerFirstMessageReceived(mechanism, data) : plainServerMessageReceived(data);
}

/** The credentials asked for by a 'lookup' step (null: no such account). */
export function serverWithCredentials(state: SaslState, credentials: StoredCredentials | null, ctx: SaslContext): ServerStep {
  const m = state.mechanism;
  if (isScram(m)) return scramServerFirst(state, credentials, newNonce(ctx), ctx.fakeSaltSecret);
  return plainServerVerify(state, credentials);
}

/** `<response/>` arrived (§6.4.3). */
export function serverResponse(state: SaslState, response: Uint8Array, _ctx: SaslContext): ServerStep {
  if (state['phase'] === 'await-initial') return firstMessage(state.mechanism, response);
  if (isScram(state.mechanism)) return scramServerFinal(state, response);
  // PLAIN is a single message: a response in any other phase is out of place.
  return { kind: 'failure', condition: 'malformed-request', text: 'unexpected response' };
}

// ---------------------------------------------------------------------------
// Initiating entity (client)
// ---------------------------------------------------------------------------

/** kind 'respond': data is the initial response (PLAIN message / SCRAM client-first-message). */
export function clientStart(mechanism: MechanismName, creds: { username: string; password: string; authzid?: string }, ctx: SaslContext): ClientStep {
  if (isScram(mechanism)) return scramClientStart(mechanism, creds, newNonce(ctx));
  if (mechanism === 'PLAIN') return plainClientStart(creds);
  return { kind: 'error', reason: `mechanism ${String(mechanism)} not implemented` };
}

/**
 * `<challenge/>` arrived: SCRAM server-first → client-final. ctx may carry ScramClientOptions.
 * A client that sent `<auth/>` without initial response (§6.4.2) gets an empty challenge first;
 * that is answered with the first message from clientStart (both mechanisms are client-first,
 * so a real challenge is never empty at that point).
 */
export function clientChallenge(state: SaslState, challenge: Uint8Array, ctx: SaslContext & ScramClientOptions): ClientStep {
  if (isScram(state.mechanism)) return scramClientChallenge(state, challenge, ctx);
  return plainClientChallenge(state, challenge);
}

/** `<success/>` arrived; SCRAM: verify v= ServerSignature (RFC 5802 §3). */
export function clientSuccess(state: SaslState, additionalData: Uint8Array | undefined): { ok: true } | { ok: false; reason: string } {
  if (isScram(state.mechanism)) return scramClientSuccess(state, additionalData);
  return additionalData === undefined || additionalData.byteLength === 0 ? { ok: true } : { ok: false, reason: 'PLAIN defines no additional data with success' };
}
