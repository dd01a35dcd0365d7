/**
 * SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677), both sides, without channel binding.
 *
 * The message builders take nonces explicitly so the published examples (RFC 5802 §5,
 * RFC 7677 §3) can be reproduced byte for byte; the SASL-level functions in ./index.ts
 * draw nonces from SaslContext.random. Exchange state is plain JSON: binary values are kept
 * as base 64 strings.
 *
 * Choices where the RFCs leave room (each repeated where it is applied):
 * - gs2 flag 'y' is accepted: we never advertise -PLUS, so RFC 5802 §6 lets it through.
 *   Flag 'p' fails with malformed-request: it asks for channel binding under a non-PLUS
 *   mechanism name (RFC 5802 §4 reserves channel binding to -PLUS) and §6 says the server
 *   MUST fail when it does not support the binding.
 * - 'm=' (mandatory extension, §5.1) fails the exchange: malformed-request on the server,
 *   an error on the client. The failure text carries the RFC 5802 server-error-value.
 * - Unknown user (§5.1, "unknown-user" must not be learnt): the server answers with a
 *   server-first-message built from a salt derived from the user name, so it is stable per
 *   user and looks like a real one, and fails with not-authorized after the client's proof.
 * - account-disabled / credentials-expired are reported only after a valid proof, so only
 *   someone who knows the password learns the account's state.
 * - The client refuses an iteration count below 4096 (RFC 7677 §4's floor; RFC 5802 §5.1's
 *   SHOULD for SHA-1): a rogue server could otherwise lower the cost of a dictionary attack
 *   on the proof it captures. It also refuses more than MAX_ITERATIONS, to bound the PBKDF2
 *   work a server can make it do. Both bounds can be moved with ScramClientOptions.
 */
import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import type { SaslFailureCondition } from '../conditions.js';
import type { ClientStep, SaslContext, SaslState, ScramKeys, ServerStep, StoredCredentials } from './api.js';
import { fromBase64, fromUtf8, toBase64, utf8 } from './encoding.js';
import { saslprep } from './saslprep.js';

export type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';

export function isScram(m: string): m is ScramMechanism {
  return m === 'SCRAM-SHA-1' || m === 'SCRAM-SHA-256';
}

const HASH: Record<ScramMechanism, { readonly name: string; readonly length: number }> = {
  'SCRAM-SHA-1': { name: 'sha1', length: 20 },
  'SCRAM-SHA-256': { name: 'sha256', length: 32 },
};

/** RFC 7677 §4: the iteration count a server announces SHOULD be at least 4096. */
export const DEFAULT_ITERATIONS = 4096;
export const MIN_ITERATIONS = 4096;
/** Upper bound a client accepts (our choice, see the header comment). */
export const MAX_ITERATIONS = 1_000_000;
/** Bytes of randomness in each nonce and in each fresh salt. */
const NONCE_BYTES = 18;
export const SALT_BYTES = 16;

// ---------------------------------------------------------------------------
// RFC 5802 §2.2 primitives
// ---------------------------------------------------------------------------

function H(m: ScramMechanism, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(HASH[m].name).update(data).digest());
}

function HMAC(m: ScramMechanism, key: Uint8Array, text: string | Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(HASH[m].name, key).update(text).digest());
}

/** Hi(str, salt, i) is PBKDF2 with HMAC as the PRF and dkLen the hash length (RFC 5802 §2.2). */
function Hi(m: ScramMechanism, str: string, salt: Uint8Array, i: number): Uint8Array {
  return new Uint8Array(pbkdf2Sync(utf8(str), salt, i, HASH[m].length, HASH[m].name));
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((x, k) => x ^ (b[k] ?? 0));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/** SaltedPassword := Hi(Normalize(password), salt, i); `password` must already be SASLprep'ed. */
export function saltedPassword(m: ScramMechanism, preparedPassword: string, salt: Uint8Array, iterations: number): Uint8Array {
  return Hi(m, preparedPassword, salt, iterations);
}

/** RFC 5802 §3: what a server keeps, derived from SaltedPassword. */
export function keysFromSaltedPassword(m: ScramMechanism, salted: Uint8Array, salt: Uint8Array, iterations: number): ScramKeys {
  const clientKey = HMAC(m, salted, 'Client Key');
  return {
    salt: toBase64(salt),
    iterations,
    storedKey: toBase64(H(m, clientKey)),
    serverKey: toBase64(HMAC(m, salted, 'Server Key')),
  };
}

/** RFC 5802 §3: StoredKey and ServerKey for a password. Throws if SASLprep rejects the password. */
export function deriveScramKeys(mechanism: ScramMechanism, password: string, salt: Uint8Array, iterations: number): ScramKeys {
  const prepared = saslprep(password);
  if (prepared === undefined) throw new Error('password contains characters SASLprep prohibits (RFC 4013 §2.3)');
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error('iteration count must be a positive integer');
  return keysFromSaltedPassword(mechanism, saltedPassword(mechanism, prepared, salt, iterations), salt, iterations);
}

// ---------------------------------------------------------------------------
// RFC 5802 §7 message syntax
// ---------------------------------------------------------------------------

/** §5.1: ',' and '=' in a saslname are sent as '=2C' and '=3D'. */
export function escapeSaslname(s: string): string {
  return s.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** Inverse of escapeSaslname; undefined for an empty name or any other '=' sequence (§5.1 MUST fail). */
export function unescapeSaslname(s: string): string | undefined {
  if (s === '' || /=(?!2C|3D)/.test(s)) return undefined;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/** §7 printable: %x21-2B / %x2D-7E (printable ASCII except ','). */
const PRINTABLE = /^[\x21-\x2B\x2D-\x7E]+$/;
/** §7 attr-val of an extension: a single letter, '=', one or more value-chars. */
const ATTR_VAL = /^[A-Za-z]=[^\0,]+$/;
const POSIT_NUMBER = /^[1-9][0-9]*$/;

/** §7 gs2-header without channel binding: 'n,,' or 'n,a=<saslname>,'. */
export function gs2Header(authzid?: string): string {
  return authzid === undefined ? 'n,,' : `n,a=${escapeSaslname(authzid)},`;
}

export function clientFirstMessageBare(username: string, clientNonce: string): string {
  return `n=${escapeSaslname(username)},r=${clientNonce}`;
}

export function clientFirstMessage(username: string, clientNonce: string, authzid?: string): string {
  return gs2Header(authzid) + clientFirstMessageBare(username, clientNonce);
}

export function serverFirstMessage(nonce: string, salt: string, iterations: number): string {
  return `r=${nonce},s=${salt},i=${iterations}`;
}

/** §7 client-final-message-without-proof: c= carries the gs2 header (no channel-binding data). */
export function clientFinalMessageWithoutProof(gs2: string, nonce: string): string {
  return `c=${toBase64(utf8(gs2))},r=${nonce}`;
}

/** AuthMessage := client-first-message-bare + "," + server-first-message + "," + client-final-message-without-proof */
export function authMessage(clientFirstBare: string, serverFirst: string, clientFinalWithoutProof: string): string {
  return `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
}

/** ClientProof := ClientKey XOR HMAC(StoredKey, AuthMessage), and ServerSignature := HMAC(ServerKey, AuthMessage). */
export function clientProofAndServerSignature(
  m: ScramMechanism,
  salted: Uint8Array,
  auth: string,
): { clientProof: Uint8Array; serverSignature: Uint8Array } {
  const { clientKey, storedKey, serverKey } = clientKeys(m, salted);
  return {
    clientProof: xor(clientKey, HMAC(m, storedKey, auth)),
    serverSignature: HMAC(m, serverKey, auth),
  };
}

/**
 * ClientKey, StoredKey and ServerKey are functions of SaltedPassword alone (RFC 5802 §3).
 * A client that caches SaltedPassword (SaslContext.saltedPasswordCache, §5.1) hands the
 * same array back on every exchange, so the three keys are kept beside it, per mechanism;
 * only the AuthMessage-dependent HMACs run per exchange. Never mutated once stored.
 */
const derivedKeys = new WeakMap<Uint8Array, Partial<Record<ScramMechanism, { clientKey: Uint8Array; storedKey: Uint8Array; serverKey: Uint8Array }>>>();

function clientKeys(m: ScramMechanism, salted: Uint8Array): { clientKey: Uint8Array; storedKey: Uint8Array; serverKey: Uint8Array } {
  let perMechanism = derivedKeys.get(salted);
  const known = perMechanism?.[m];
  if (known !== undefined) return known;
  const clientKey = HMAC(m, salted, 'Client Key');
  const keys = { clientKey, storedKey: H(m, clientKey), serverKey: HMAC(m, salted, 'Server Key') };
  if (perMechanism === undefined) derivedKeys.set(salted, (perMechanism = {}));
  perMechanism[m] = keys;
  return keys;
}

export function clientFinalMessage(withoutProof: string, clientProof: Uint8Array): string {
  return `${withoutProof},p=${toBase64(clientProof)}`;
}

export function serverFinalMessage(serverSignature: Uint8Array): string {
  return `v=${toBase64(serverSignature)}`;
}

/** Value of attribute `name` if `part` is `name=value`, else undefined. */
function attr(part: string | undefined, name: string): string | undefined {
  return part !== undefined && part.startsWith(`${name}=`) ? part.slice(2) : undefined;
}

function extensionsOk(parts: readonly string[]): boolean {
  return parts.every((p) => ATTR_VAL.test(p));
}

// ---------------------------------------------------------------------------
// Receiving entity (server)
// ---------------------------------------------------------------------------

type Fail = { readonly kind: 'failure'; readonly condition: SaslFailureCondition; readonly text?: string };
const fail = (condition: SaslFailureCondition, text?: string): Fail => ({ kind: 'failure', condition, ...(text ? { text } : {}) });

/** Server: parse client-first-message (§7) and ask for the user's credentials. */
export function scramServerFirstMessageReceived(m: ScramMechanism, message: Uint8Array): ServerStep {
  const text = fromUtf8(message);
  if (text === undefined || text.includes('\0')) return fail('malformed-request', 'invalid-encoding');
  const parts = text.split(',');
  const [flag, authzPart] = parts;
  if (flag === undefined || authzPart === undefined) return fail('malformed-request');
  // RFC 5802 §6: 'y' means "client supports binding but thinks the server does not"; we indeed do
  // not, so it is accepted. 'p' (binding required) cannot be honoured under a non-PLUS name.
  if (flag.startsWith('p=')) return fail('malformed-request', 'channel-binding-not-supported');
  if (flag !== 'n' && flag !== 'y') return fail('malformed-request');
  let authzid: string | undefined;
  if (authzPart !== '') {
    const a = attr(authzPart, 'a');
    authzid = a === undefined ? undefined : unescapeSaslname(a);
    if (authzid === undefined) return fail('malformed-request');
  }
  const gs2 = `${flag},${authzPart},`;
  const bare = parts.slice(2);
  if (bare[0]?.startsWith('m=')) return fail('malformed-request', 'extensions-not-supported'); // §5.1
  const n = attr(bare[0], 'n');
  const r = attr(bare[1], 'r');
  if (n === undefined || r === undefined || !PRINTABLE.test(r) || !extensionsOk(bare.slice(2))) {
    return fail('malformed-request');
  }
  const raw = unescapeSaslname(n);
  if (raw === undefined) return fail('malformed-request', 'invalid-username-encoding'); // §5.1 MUST fail
  // §5.1: the server MUST SASLprep the name (as a query string) or compare SASLprep-aware;
  // failure or an empty result SHOULD abort. The raw text is still what AuthMessage hashes.
  const username = saslprep(raw);
  if (username === undefined || username === '') return fail('malformed-request', 'invalid-username');
  const state: SaslState = {
    mechanism: m,
    phase: 'lookup',
    username,
    ...(authzid !== undefined ? { authzid } : {}),
    gs2Header: gs2,
    clientFirstBare: text.slice(gs2.length),
    clientNonce: r,
  };
  return { kind: 'lookup', username, ...(authzid !== undefined ? { authzid } : {}), state };
}

/**
 * RFC 5802 §5.1 (unknown user must not be revealed): a salt that is a function of the user
 * name, so repeated probes for one name see the same salt, as they would for a real account,
 * keyed with the server's secret so that nobody else can compute it.
 */
export function fakeSalt(m: ScramMechanism, username: string, secret?: string): string {
  const digest = secret === undefined ? H(m, utf8(`fake-salt${username}`)) : HMAC(m, utf8(secret), utf8(`fake-salt${username}`));
  return toBase64(digest.subarray(0, SALT_BYTES));
}

/** Server: answer with server-first-message; `serverNonce` is the s-nonce appended to the client's. */
export function scramServerFirst(state: SaslState, credentials: StoredCredentials | null, serverNonce: string, fakeSaltSecret?: string): ServerStep {
  const m = state.mechanism;
  if (!isScram(m) || state['phase'] !== 'lookup') return fail('malformed-request', 'unexpected step');
  const username = String(state['username']);
  const keys = credentials?.[m];
  // No account, or no keys for this hash: run the exchange on a fake salt and fail at the proof.
  const fake = keys === undefined;
  const salt = keys?.salt ?? fakeSalt(m, username, fakeSaltSecret);
  const iterations = keys?.iterations ?? DEFAULT_ITERATIONS;
  const nonce = String(state['clientNonce']) + serverNonce;
  const serverFirst = serverFirstMessage(nonce, salt, iterations);
  const next: SaslState = {
    ...state,
    phase: 'await-final',
    nonce,
    serverFirst,
    ...(fake ? { fake: true } : { storedKey: keys.storedKey, serverKey: keys.serverKey }),
    ...(credentials?.disabled ? { disabled: true } : {}),
    ...(credentials?.expired ? { expired: true } : {}),
  };
  return { kind: 'challenge', data: utf8(serverFirst), state: next };
}

/** Server: verify client-final-message (§7) and produce server-final-message. */
export function scramServerFinal(state: SaslState, message: Uint8Array): ServerStep {
  const m = state.mechanism;
  if (!isScram(m) || state['phase'] !== 'await-final') return fail('malformed-request', 'unexpected step');
  const text = fromUtf8(message);
  if (text === undefined || text.includes('\0')) return fail('malformed-request', 'invalid-encoding');
  const parts = text.split(',');
  const c = attr(parts[0], 'c');
  const r = attr(parts[1], 'r');
  const p = attr(parts[parts.length - 1], 'p');
  if (parts.length < 3 || c === undefined || r === undefined || p === undefined || !extensionsOk(parts.slice(2, -1))) {
    return fail('malformed-request');
  }
  const cbind = fromBase64(c);
  const proof = fromBase64(p);
  if (cbind === undefined || proof === undefined) return fail('malformed-request', 'invalid-encoding');
  const gs2 = String(state['gs2Header']);
  // §6: the server MUST always validate c=; without channel binding it is exactly the gs2 header.
  if (!equalBytes(cbind, utf8(gs2))) return fail('not-authorized', 'channel-bindings-dont-match');
  // §5.1: the nonce must be the one the server sent in server-first-message.
  if (r !== state['nonce']) return fail('not-authorized', 'nonce mismatch');
  if (state['fake'] === true) return fail('not-authorized');
  const withoutProof = parts.slice(0, -1).join(',');
  const auth = authMessage(String(state['clientFirstBare']), String(state['serverFirst']), withoutProof);
  const storedKey = fromBase64(String(state['storedKey']));
  const serverKey = fromBase64(String(state['serverKey']));
  if (storedKey === undefined || serverKey === undefined) return fail('temporary-auth-failure', 'corrupt stored keys');
  // A wrong proof fails exactly like an unknown user (no text): nothing tells them apart (§5.1).
  if (proof.byteLength !== HASH[m].length) return fail('not-authorized');
  // §3: recover ClientKey from the proof and check H(ClientKey) = StoredKey.
  const clientKey = xor(proof, HMAC(m, storedKey, auth));
  if (!equalBytes(H(m, clientKey), storedKey)) return fail('not-authorized');
  if (state['disabled'] === true) return fail('account-disabled');
  if (state['expired'] === true) return fail('credentials-expired');
  const authzid = state['authzid'];
  return {
    kind: 'success',
    username: String(state['username']),
    ...(typeof authzid === 'string' ? { authzid } : {}),
    additionalData: utf8(serverFinalMessage(HMAC(m, serverKey, auth))),
  };
}

// ---------------------------------------------------------------------------
// Initiating entity (client)
// ---------------------------------------------------------------------------

export interface ScramClientOptions {
  /** Lowest iteration count accepted from a server (default 4096, RFC 7677 §4). */
  readonly minIterations?: number;
  /** Highest iteration count accepted from a server (default MAX_ITERATIONS). */
  readonly maxIterations?: number;
}

/** Client: build client-first-message with an explicit c-nonce. */
export function scramClientStart(
  m: ScramMechanism,
  creds: { username: string; password: string; authzid?: string },
  clientNonce: string,
): ClientStep {
  // §5.1: the client SHOULD SASLprep the user name and abort if that fails or is empty.
  const username = saslprep(creds.username);
  if (username === undefined || username === '') return { kind: 'error', reason: 'user name rejected by SASLprep' };
  const password = saslprep(creds.password);
  if (password === undefined) return { kind: 'error', reason: 'password rejected by SASLprep' };
  if (!PRINTABLE.test(clientNonce)) return { kind: 'error', reason: 'nonce must be printable ASCII without commas' };
  const gs2 = gs2Header(creds.authzid);
  const bare = clientFirstMessageBare(username, clientNonce);
  const state: SaslState = { mechanism: m, phase: 'client-first-sent', gs2Header: gs2, clientFirstBare: bare, clientNonce, password };
  return { kind: 'respond', data: utf8(gs2 + bare), state };
}

export function newNonce(ctx: SaslContext): string {
  return toBase64(ctx.random(NONCE_BYTES));
}

function cachedSaltedPassword(m: ScramMechanism, password: string, salt: string, saltBytes: Uint8Array, i: number, ctx: SaslContext): Uint8Array {
  const cache = ctx.saltedPasswordCache;
  if (cache === undefined) return saltedPassword(m, password, saltBytes, i);
  // Keyed by a hash of the password so the cache never holds it in clear.
  const key = `${m}\n${salt}\n${i}\n${createHash('sha256').update(password).digest('base64')}`;
  let salted = cache.get(key);
  if (salted === undefined) {
    salted = saltedPassword(m, password, saltBytes, i);
    cache.set(key, salted);
  }
  return salted;
}

/** Client: server-first-message → client-final-message. */
export function scramClientChallenge(state: SaslState, challenge: Uint8Array, ctx: SaslContext & ScramClientOptions): ClientStep {
  const m = state.mechanism;
  if (!isScram(m)) return { kind: 'error', reason: 'not a SCRAM exchange' };
  if (state['phase'] === 'client-final-sent') return serverFinalAsChallenge(state, challenge);
  if (state['phase'] !== 'client-first-sent') return { kind: 'error', reason: 'unexpected challenge' };
  // RFC 6120 §6.4.2: an empty challenge asks for the first message when <auth/> carried none.
  if (challenge.byteLength === 0) return { kind: 'respond', data: utf8(String(state['gs2Header']) + String(state['clientFirstBare'])), state };
  const text = fromUtf8(challenge);
  if (text === undefined) return { kind: 'error', reason: 'server-first-message is not UTF-8' };
  const parts = text.split(',');
  if (parts[0]?.startsWith('e=')) return { kind: 'error', reason: `server error: ${parts[0].slice(2)}` };
  if (parts[0]?.startsWith('m=')) return { kind: 'error', reason: 'server requires an unsupported extension (m=)' };
  const r = attr(parts[0], 'r');
  const s = attr(parts[1], 's');
  const i = attr(parts[2], 'i');
  if (r === undefined || s === undefined || i === undefined || !PRINTABLE.test(r) || !POSIT_NUMBER.test(i) || !extensionsOk(parts.slice(3))) {
    return { kind: 'error', reason: 'malformed server-first-message' };
  }
  const clientNonce = String(state['clientNonce']);
  // §5.1: the client MUST check that the nonce starts with its own; the server must add to it.
  if (!r.startsWith(clientNonce) || r.length === clientNonce.length) return { kind: 'error', reason: 'server nonce does not extend the client nonce' };
  const salt = fromBase64(s);
  if (salt === undefined || salt.byteLength === 0) return { kind: 'error', reason: 'invalid salt' };
  const iterations = Number(i);
  const min = ctx.minIterations ?? MIN_ITERATIONS;
  const max = ctx.maxIterations ?? MAX_ITERATIONS;
  if (iterations < min) return { kind: 'error', reason: `iteration count ${iterations} below ${min} (RFC 7677 §4)` };
  if (iterations > max) return { kind: 'error', reason: `iteration count ${iterations} above ${max}` };
  const salted = cachedSaltedPassword(m, String(state['password']), s, salt, iterations, ctx);
  const withoutProof = clientFinalMessageWithoutProof(String(state['gs2Header']), r);
  const auth = authMessage(String(state['clientFirstBare']), text, withoutProof);
  const { clientProof, serverSignature } = clientProofAndServerSignature(m, salted, auth);
  // The password leaves the state here; only the expected ServerSignature is kept.
  const next: SaslState = { mechanism: m, phase: 'client-final-sent', serverSignature: toBase64(serverSignature) };
  return { kind: 'respond', data: utf8(clientFinalMessage(withoutProof, clientProof)), state: next };
}

/** Check server-final-message (§7): 'v=' must equal the ServerSignature we computed; 'e=' is a failure. */
function checkServerFinal(state: SaslState, data: Uint8Array): { ok: true } | { ok: false; reason: string } {
  const text = fromUtf8(data);
  if (text === undefined) return { ok: false, reason: 'server-final-message is not UTF-8' };
  const first = text.split(',')[0];
  const e = attr(first, 'e');
  if (e !== undefined) return { ok: false, reason: `server error: ${e}` };
  const v = attr(first, 'v');
  const signature = v === undefined ? undefined : fromBase64(v);
  if (signature === undefined) return { ok: false, reason: 'malformed server-final-message' };
  const expected = fromBase64(String(state['serverSignature']));
  if (expected === undefined || !equalBytes(signature, expected)) return { ok: false, reason: 'server signature does not verify' };
  return { ok: true };
}

/**
 * Some servers send server-final-message in a `<challenge/>` and then an empty `<success/>`
 * instead of using §6.4.6 additional data; the client verifies it there and answers empty.
 */
function serverFinalAsChallenge(state: SaslState, challenge: Uint8Array): ClientStep {
  const check = checkServerFinal(state, challenge);
  if (!check.ok) return { kind: 'error', reason: check.reason };
  return { kind: 'respond', data: new Uint8Array(0), state: { mechanism: state.mechanism, phase: 'server-verified' } };
}

/** Client: `<success/>` arrived; RFC 5802 §3: the server must prove it knows ServerKey. */
export function scramClientSuccess(state: SaslState, additionalData: Uint8Array | undefined): { ok: true } | { ok: false; reason: string } {
  if (state['phase'] === 'server-verified') {
    return additionalData === undefined || additionalData.byteLength === 0 ? { ok: true } : { ok: false, reason: 'unexpected data after server-final-message' };
  }
  if (state['phase'] !== 'client-final-sent') return { ok: false, reason: 'success before the SCRAM exchange completed' };
  if (additionalData === undefined || additionalData.byteLength === 0) return { ok: false, reason: 'success without server signature (v=)' };
  return checkServerFinal(state, additionalData);
}
