/**
 * The account store: user names and SCRAM keys in an embedded SQLite file (better-sqlite3).
 *
 * Only what RFC 5802 §2.2/§3 says a server needs is stored, per account and hash: salt,
 * iteration count, StoredKey and ServerKey. Never the password, never SaltedPassword; PLAIN
 * is verified against the same keys (machines/sasl/plain.ts). User names are SASL simple
 * user names equal to the JID localpart (RFC 6120 §6.3.7), prepared with prepareLocalpart
 * (RFC 7622 §3.3) on every call so "Romeo" and "romeo" are one account. The tables and their
 * migrations are in schema.ts (the roster store shares the file).
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { prepareLocalpart } from '../../machines/jid.js';
import type { RandomBytes } from '../../machines/protocol.js';
import { deriveCredentials, type ScramKeys, type StoredCredentials } from '../../machines/sasl/index.js';
import { migrate } from './schema.js';

export interface AccountStore {
  /** Throws if the name is not a valid localpart, the account exists, or SASLprep rejects the password. */
  add(username: string, password: string): void;
  remove(username: string): boolean;
  setPassword(username: string, password: string): boolean;
  setDisabled(username: string, disabled: boolean): boolean;
  lookup(username: string): StoredCredentials | null;
  /**
   * Is there an account with this user name (disabled ones included)? Equivalent to
   * `lookup(username) !== null`, but answered from a cache that stays correct when another
   * process (`xmppkit adduser`) changes the same file: see `existenceCache` below.
   */
  exists(username: string): boolean;
  list(): string[];
  close(): void;
}

/** Names remembered by `exists` before the cache starts over (attacker-chosen 'to' addresses must not grow it without bound). */
const EXISTS_CACHE_MAX = 10_000;
const MECHANISMS = ['SCRAM-SHA-1', 'SCRAM-SHA-256'] as const;

interface KeyRow {
  mechanism: string;
  salt: string;
  iterations: number;
  stored_key: string;
  server_key: string;
}

export function openAccountStore(opts: { file: string; random?: RandomBytes; iterations?: number }): AccountStore {
  const random: RandomBytes = opts.random ?? ((n) => new Uint8Array(randomBytes(n)));
  const db = new Database(opts.file);
  db.pragma('foreign_keys = ON');
  // Overwrite freed pages with zeros so replaced keys do not linger in the file.
  db.pragma('secure_delete = ON');
  try {
    migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }

  const insertAccount = db.prepare('INSERT INTO accounts (username) VALUES (?)');
  const upsertKeys = db.prepare(
    `INSERT INTO scram_keys (username, mechanism, salt, iterations, stored_key, server_key)
     VALUES (@username, @mechanism, @salt, @iterations, @storedKey, @serverKey)
     ON CONFLICT (username, mechanism) DO UPDATE SET
       salt = excluded.salt, iterations = excluded.iterations,
       stored_key = excluded.stored_key, server_key = excluded.server_key`,
  );
  const deleteAccount = db.prepare('DELETE FROM accounts WHERE username = ?');
  const selectAccount = db.prepare<[string], { disabled: number }>('SELECT disabled FROM accounts WHERE username = ?');
  const selectKeys = db.prepare<[string], KeyRow>('SELECT mechanism, salt, iterations, stored_key, server_key FROM scram_keys WHERE username = ?');
  const updateDisabled = db.prepare('UPDATE accounts SET disabled = ? WHERE username = ?');
  const selectNames = db.prepare<[], { username: string }>('SELECT username FROM accounts ORDER BY username');

  const existence = existenceCache(db, (name) => selectAccount.get(name) !== undefined);

  const derive = (password: string): StoredCredentials =>
    deriveCredentials(password, { random, ...(opts.iterations !== undefined ? { iterations: opts.iterations } : {}) });

  const saveKeys = (username: string, creds: StoredCredentials): void => {
    for (const mechanism of MECHANISMS) {
      const k = creds[mechanism];
      if (k) upsertKeys.run({ username, mechanism, salt: k.salt, iterations: k.iterations, storedKey: k.storedKey, serverKey: k.serverKey });
    }
  };

  const addTx = db.transaction((username: string, creds: StoredCredentials) => {
    insertAccount.run(username);
    saveKeys(username, creds);
  });
  // Writes through this connection do not change its data_version: forget what `exists` knew.
  const wrote = <T>(result: T): T => (existence.invalidate(), result);
  const setPasswordTx = db.transaction((username: string, creds: StoredCredentials) => saveKeys(username, creds));

  return {
    add(username, password) {
      const name = prepareLocalpart(username);
      if (name === undefined) throw new Error(`not a valid localpart: ${JSON.stringify(username)}`);
      if (selectAccount.get(name)) throw new Error(`account exists: ${name}`);
      wrote(addTx(name, derive(password)));
    },
    remove(username) {
      const name = prepareLocalpart(username);
      return name !== undefined && wrote(deleteAccount.run(name).changes > 0);
    },
    setPassword(username, password) {
      const name = prepareLocalpart(username);
      if (name === undefined || !selectAccount.get(name)) return false;
      setPasswordTx(name, derive(password));
      return true;
    },
    setDisabled(username, disabled) {
      const name = prepareLocalpart(username);
      return name !== undefined && updateDisabled.run(disabled ? 1 : 0, name).changes > 0;
    },
    lookup(username) {
      const name = prepareLocalpart(username);
      const account = name === undefined ? undefined : selectAccount.get(name);
      if (name === undefined || account === undefined) return null;
      const keys: Partial<Record<(typeof MECHANISMS)[number], ScramKeys>> = {};
      for (const row of selectKeys.all(name)) {
        if (row.mechanism === 'SCRAM-SHA-1' || row.mechanism === 'SCRAM-SHA-256') {
          keys[row.mechanism] = { salt: row.salt, iterations: row.iterations, storedKey: row.stored_key, serverKey: row.server_key };
        }
      }
      return { ...keys, ...(account.disabled ? { disabled: true } : {}) };
    },
    exists(username) {
      return existence.get(username);
    },
    list() {
      return selectNames.all().map((r) => r.username);
    },
    close() {
      db.close();
    },
  };
}

/**
 * Account existence, cached. The router asks it for every stanza to a local account (RFC 6120
 * §10.5.3.1), and a query costs tens of µs (file locking), more than the rest of routing.
 *
 * Correctness across processes: `PRAGMA data_version` changes whenever another connection
 * (another process) commits to the file, so the cache is dropped when it changes, and writes
 * through this connection drop it themselves (`invalidate`). Reading data_version is itself a
 * query, so it is read once per synchronous run of JavaScript (one socket read, one timer) and
 * reused until the next microtask checkpoint. That is still exact in the sense that matters:
 * every byte handled in that run was received before the check, so a commit that finished
 * before the peer sent those bytes is always seen; a commit that finishes while the run is in
 * progress is concurrent with those stanzas, and either answer is correct for them.
 */
function existenceCache(db: Database.Database, query: (name: string) => boolean): { get(username: string): boolean; invalidate(): void } {
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  const known = new Map<string, boolean>(); // raw user name → exists (prepareLocalpart is a pure function of it)
  let version: number | undefined; // data_version `known` belongs to
  let checked = false; // data_version was read in the current synchronous run
  const uncheck = (): void => {
    checked = false;
  };
  return {
    get(username) {
      if (!checked) {
        const now = dataVersion.get()!; // may throw (store unavailable): then nothing is marked checked
        checked = true;
        queueMicrotask(uncheck);
        if (now !== version) {
          known.clear();
          version = now;
        }
      }
      const hit = known.get(username);
      if (hit !== undefined) return hit;
      const name = prepareLocalpart(username);
      const answer = name !== undefined && query(name);
      if (known.size >= EXISTS_CACHE_MAX) known.clear();
      known.set(username, answer);
      return answer;
    },
    invalidate() {
      known.clear();
    },
  };
}
