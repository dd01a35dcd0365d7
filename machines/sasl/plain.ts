/**
 * PLAIN, RFC 4616: one client message, `[authzid] NUL authcid NUL passwd`.
 *
 * The server never stores the password (only SCRAM keys, RFC 5802 §3), so a PLAIN password
 * is verified by recomputing StoredKey from the stored salt and iteration count and
 * comparing in constant time: SCRAM-SHA-256 keys first, SCRAM-SHA-1 keys otherwise.
 */
import { timingSafeEqual } from 'node:crypto';
import type { ClientStep, SaslState, ServerStep, StoredCredentials } from './api.js';
import { fromBase64, fromUtf8, toBase64, utf8 } from './encoding.js';
import { saslprep } from './saslprep.js';
import { DEFAULT_ITERATIONS, deriveScramKeys, fakeSalt, type ScramMechanism } from './scram.js';

export interface PlainMessage {
  readonly authzid?: string;
  readonly authcid: string;
  readonly passwd: string;
}

/** RFC 4616 §2 message = [authzid] UTF8NUL authcid UTF8NUL passwd. */
export function plainMessage(authcid: string, passwd: string, authzid?: string): Uint8Array {
  return utf8(`${authzid ?? ''}\0${authcid}\0${passwd}`);
}

/**
 * Parse RFC 4616 §2. undefined when the bytes are not UTF-8, there are not exactly two NULs
 * (NUL MUST NOT appear inside a production), or authcid / passwd is empty (1*SAFE). An empty
 * authzid is the "not provided" case.
 */
export function parsePlainMessage(data: Uint8Array): PlainMessage | undefined {
  const text = fromUtf8(data);
  if (text === undefined) return undefined;
  const parts = text.split('\0');
  if (parts.length !== 3) return undefined;
  const [authzid = '', authcid = '', passwd = ''] = parts;
  if (authcid === '' || passwd === '') return undefined;
  return { ...(authzid !== '' ? { authzid } : {}), authcid, passwd };
}

/** Server: the single PLAIN message arrived; ask for the authcid's credentials. */
export function plainServerMessageReceived(data: Uint8Array): ServerStep {
  const msg = parsePlainMessage(data);
  if (msg === undefined) return { kind: 'failure', condition: 'malformed-request' };
  // RFC 4616 §2: presented strings are SASLprep'ed as queries; failure or empty SHALL fail verification.
  const username = saslprep(msg.authcid);
  const password = saslprep(msg.passwd);
  if (username === undefined || username === '' || password === undefined || password === '') {
    return { kind: 'failure', condition: 'not-authorized' };
  }
  // The prepared password waits in the state only until serverWithCredentials verifies it.
  const state: SaslState = { mechanism: 'PLAIN', phase: 'lookup', username, password, ...(msg.authzid !== undefined ? { authzid: msg.authzid } : {}) };
  return { kind: 'lookup', username, ...(msg.authzid !== undefined ? { authzid: msg.authzid } : {}), state };
}

/** Server: verify the password against the stored SCRAM keys. */
export function plainServerVerify(state: SaslState, credentials: StoredCredentials | null): ServerStep {
  if (state.mechanism !== 'PLAIN' || state['phase'] !== 'lookup') return { kind: 'failure', condition: 'malformed-request', text: 'unexpected step' };
  const username = String(state['username']);
  const password = String(state['password']);
  const mech: ScramMechanism = credentials?.['SCRAM-SHA-256'] ? 'SCRAM-SHA-256' : 'SCRAM-SHA-1';
  const keys = credentials?.[mech];
  if (keys === undefined) {
    // Unknown user: spend the same PBKDF2 work as a real check so timing does not tell (RFC 5802 §5.1's concern).
    const salt = fromBase64(fakeSalt(mech, username)) ?? new Uint8Array(0);
    deriveScramKeys(mech, password, salt, DEFAULT_ITERATIONS);
    return { kind: 'failure', condition: 'not-authorized' };
  }
  const salt = fromBase64(keys.salt);
  const stored = fromBase64(keys.storedKey);
  if (salt === undefined || stored === undefined) return { kind: 'failure', condition: 'temporary-auth-failure', text: 'corrupt stored keys' };
  const computed = fromBase64(deriveScramKeys(mech, password, salt, keys.iterations).storedKey) ?? new Uint8Array(0);
  if (computed.byteLength !== stored.byteLength || !timingSafeEqual(computed, stored)) {
    return { kind: 'failure', condition: 'not-authorized' };
  }
  // Account state is reported only to someone who proved the password (§6.5.2, §6.5.3).
  if (credentials?.disabled) return { kind: 'failure', condition: 'account-disabled' };
  if (credentials?.expired) return { kind: 'failure', condition: 'credentials-expired' };
  const authzid = state['authzid'];
  return { kind: 'success', username, ...(typeof authzid === 'string' ? { authzid } : {}) };
}

/** Client: the whole exchange is the initial response. */
export function plainClientStart(creds: { username: string; password: string; authzid?: string }): ClientStep {
  if (creds.username === '' || creds.password === '' || [creds.username, creds.password, creds.authzid ?? ''].some((s) => s.includes('\0'))) {
    return { kind: 'error', reason: 'PLAIN needs a non-empty user name and password without NUL (RFC 4616 §2)' };
  }
  const data = plainMessage(creds.username, creds.password, creds.authzid);
  return { kind: 'respond', data, state: { mechanism: 'PLAIN', phase: 'sent', message: toBase64(data) } };
}

/** Client: PLAIN has no challenges, except the empty one that asks for a deferred initial response (RFC 6120 §6.4.2). */
export function plainClientChallenge(state: SaslState, challenge: Uint8Array): ClientStep {
  const message = state['phase'] === 'sent' && challenge.byteLength === 0 ? fromBase64(String(state['message'])) : undefined;
  if (message === undefined) return { kind: 'error', reason: 'PLAIN expects no challenge (RFC 4616 §2)' };
  return { kind: 'respond', data: message, state: { mechanism: 'PLAIN', phase: 'resent' } };
}
