/**
 * The simulator's account store: in memory, SCRAM keys only (like runtime/store), derived
 * once per process and password and then shared by every run. PBKDF2 at 4096 iterations
 * (RFC 7677 §4 floor) costs milliseconds; paying it per simulated session would cap the
 * simulator at a few hundred sessions per second, so derivation is cached here and the
 * client side uses SaslContext.saltedPasswordCache (RFC 5802 §5.1 lets clients cache it).
 * The salts come from a fixed seed: the stored keys, hence every run, stay reproducible.
 */
import { deriveCredentials, type StoredCredentials } from '../machines/sasl/index.js';
import { Rng } from './rng.js';

export const SIM_DOMAIN = 'sim.example';

/** Accounts that exist in every simulated world, with their passwords. */
export const SIM_ACCOUNTS: Readonly<Record<string, string>> = {
  alice: 'wonderland-1',
  bob: 'builder-2',
  carol: 'c4r0l-3',
};

/** Local parts that never have an account (§10.5: they must look the same as a bare or full JID). */
export const ABSENT_USERS = ['nobody', 'ghost'] as const;

const derived = new Map<string, StoredCredentials>();

/** Stored credentials for an account, derived once per process (fixed salt seed). */
export function storedCredentials(username: string): StoredCredentials | null {
  const password = SIM_ACCOUNTS[username];
  if (password === undefined) return null;
  let creds = derived.get(username);
  if (creds === undefined) {
    const rng = new Rng(0x5a17 + username.length * 7919 + username.charCodeAt(0));
    creds = deriveCredentials(password, { random: (n) => rng.bytes(n), iterations: 4096 });
    derived.set(username, creds);
  }
  return creds;
}

/** Shared client-side SaltedPassword cache (RFC 5802 §5.1): PBKDF2 once per account per process. */
export const SALTED_PASSWORD_CACHE = new Map<string, Uint8Array>();
