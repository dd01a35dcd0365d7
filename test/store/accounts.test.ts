/** The SQLite account store: keys only, localpart-prepared names, and real logins against it. */
import { pbkdf2Sync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAccountStore, type AccountStore } from '../../runtime/store/accounts.js';
import { SCHEMA_VERSION } from '../../runtime/store/schema.js';
import { fromBase64 } from '../../machines/sasl/encoding.js';
import { plainMessage } from '../../machines/sasl/plain.js';
import {
  clientChallenge,
  clientStart,
  clientSuccess,
  serverResponse,
  serverStart,
  serverWithCredentials,
  type MechanismName,
  type ServerStep,
} from '../../machines/sasl/index.js';
import { seededRandom } from '../sasl/helpers.js';

/** A complete SASL exchange against the store, as the server machine will run it. */
function login(store: AccountStore, mechanism: MechanismName, username: string, password: string): ServerStep {
  const ctx = { random: seededRandom(`${mechanism}${username}${password}`) };
  const c = clientStart(mechanism, { username, password }, ctx);
  if (c.kind !== 'respond') throw new Error(c.reason);
  let step = serverStart(mechanism, c.data, ctx);
  let clientState = c.state;
  for (;;) {
    if (step.kind === 'lookup') step = serverWithCredentials(step.state, store.lookup(step.username), ctx);
    else if (step.kind === 'challenge') {
      const r = clientChallenge(clientState, step.data, ctx);
      if (r.kind !== 'respond') throw new Error(r.reason);
      clientState = r.state;
      step = serverResponse(step.state, r.data, ctx);
    } else {
      if (step.kind === 'success') expect(clientSuccess(clientState, step.additionalData)).toEqual({ ok: true });
      return step;
    }
  }
}

const outcome = (s: ServerStep): string => (s.kind === 'failure' ? s.condition : s.kind);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xmpp-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('account store', () => {
  it('add, lookup, list, remove', () => {
    const store = openAccountStore({ file: ':memory:', random: seededRandom('a') });
    store.add('romeo', 'r0m30myr0m30');
    store.add('juliet', 'Wherefore art thou');
    expect(store.list()).toEqual(['juliet', 'romeo']);
    const creds = store.lookup('romeo');
    expect(creds?.['SCRAM-SHA-1']?.iterations).toBe(4096);
    expect(fromBase64(creds?.['SCRAM-SHA-256']?.storedKey ?? '')?.byteLength).toBe(32);
    expect(creds?.disabled).toBeUndefined();
    expect(store.lookup('mercutio')).toBeNull();
    expect(store.remove('romeo')).toBe(true);
    expect(store.remove('romeo')).toBe(false);
    expect(store.lookup('romeo')).toBeNull();
    expect(store.list()).toEqual(['juliet']);
    store.close();
  });

  it('add throws for an existing account, an invalid localpart (RFC 7622 §3.3.1) or a password SASLprep rejects', () => {
    const store = openAccountStore({ file: ':memory:', random: seededRandom('b') });
    store.add('romeo', 'x');
    expect(() => store.add('romeo', 'y')).toThrow(/exists/);
    expect(() => store.add('ROMEO', 'y')).toThrow(/exists/);
    expect(() => store.add('ro@meo', 'y')).toThrow(/localpart/);
    expect(() => store.add('', 'y')).toThrow(/localpart/);
    expect(() => store.add('mercutio', '')).toThrow();
    expect(() => store.add('mercutio', 'bell\u0007')).toThrow();
    expect(store.list()).toEqual(['romeo']);
    store.close();
  });

  it('user names are prepared as localparts: case and Unicode normalization (RFC 7622 §3.3)', () => {
    const store = openAccountStore({ file: ':memory:', random: seededRandom('c') });
    store.add('Ren\u0065\u0301', 'pw'); // decomposed é
    expect(store.list()).toEqual(['ren\u00e9']);
    expect(store.lookup('REN\u00C9')).not.toBeNull();
    expect(store.setDisabled('RENÉ', true)).toBe(true);
    expect(store.lookup('rené')?.disabled).toBe(true);
    expect(store.lookup('bad/name')).toBeNull();
    expect(store.remove('bad/name')).toBe(false);
    store.close();
  });

  it('logins with every mechanism succeed against the stored keys and fail with a wrong password', () => {
    const store = openAccountStore({ file: ':memory:', random: seededRandom('d') });
    store.add('romeo', 'r0m30myr0m30');
    for (const m of ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] as const) {
      expect(outcome(login(store, m, 'romeo', 'r0m30myr0m30'))).toBe('success');
      expect(outcome(login(store, m, 'romeo', 'r0m30myr0m3O'))).toBe('not-authorized');
      expect(outcome(login(store, m, 'nobody', 'r0m30myr0m30'))).toBe('not-authorized');
    }
    store.close();
  });

  it('setPassword replaces the keys with fresh salts: old password fails, new one works', () => {
    const store = openAccountStore({ file: ':memory:', random: seededRandom('e') });
    store.add('romeo', 'old');
    const before = store.lookup('romeo');
    expect(store.setPassword('romeo', 'new')).toBe(true);
    expect(store.setPassword('nobody', 'new')).toBe(false);
    const after = store.lookup('romeo');
    expect(after?.['SCRAM-SHA-256']?.salt).not.toBe(before?.['SCRAM-SHA-256']?.salt);
    expect(outcome(login(store, 'PLAIN', 'romeo', 'old'))).toBe('not-authorized');
    expect(outcome(login(store, 'SCRAM-SHA-256', 'romeo', 'new'))).toBe('success');
    store.close();
  });

  it('§6.5.2 setDisabled: a disabled account fails with account-disabled, and can be enabled again', () => {
    const store = openAccountStore({ file: ':memory:', random: seededRandom('f') });
    store.add('romeo', 'pw');
    expect(store.setDisabled('romeo', true)).toBe(true);
    expect(store.setDisabled('nobody', true)).toBe(false);
    expect(outcome(login(store, 'SCRAM-SHA-1', 'romeo', 'pw'))).toBe('account-disabled');
    expect(outcome(login(store, 'PLAIN', 'romeo', 'pw'))).toBe('account-disabled');
    expect(store.setDisabled('romeo', false)).toBe(true);
    expect(store.lookup('romeo')?.disabled).toBeUndefined();
    expect(outcome(login(store, 'SCRAM-SHA-1', 'romeo', 'pw'))).toBe('success');
    store.close();
  });

  it('honours a configured iteration count', () => {
    const store = openAccountStore({ file: ':memory:', random: seededRandom('g'), iterations: 10000 });
    store.add('romeo', 'pw');
    expect(store.lookup('romeo')?.['SCRAM-SHA-256']?.iterations).toBe(10000);
    expect(outcome(login(store, 'SCRAM-SHA-256', 'romeo', 'pw'))).toBe('success');
    store.close();
  });

  it('default randomness is node:crypto: two stores give different salts for the same password', () => {
    const a = openAccountStore({ file: ':memory:' });
    const b = openAccountStore({ file: ':memory:' });
    a.add('romeo', 'pw');
    b.add('romeo', 'pw');
    expect(a.lookup('romeo')?.['SCRAM-SHA-1']?.salt).not.toBe(b.lookup('romeo')?.['SCRAM-SHA-1']?.salt);
    a.close();
    b.close();
  });

  it('exists() answers like lookup() !== null: prepared names, disabled accounts, invalid names', () => {
    const store = openAccountStore({ file: join(dir, 'exists.sqlite'), random: seededRandom('j'), iterations: 1000 });
    store.add('romeo', 'pw');
    store.add('juliet', 'pw');
    store.setDisabled('juliet', true);
    for (const name of ['romeo', 'Romeo', 'ROMEO', 'juliet', 'nurse', '', 'a@b', 'ro meo']) {
      expect(store.exists(name), name).toBe(store.lookup(name) !== null);
      expect(store.exists(name), `${name} (cached)`).toBe(store.lookup(name) !== null);
    }
    store.close();
  });

  it('exists() sees this store\'s own add/remove at once', () => {
    const store = openAccountStore({ file: join(dir, 'own.sqlite'), random: seededRandom('k'), iterations: 1000 });
    expect(store.exists('tybalt')).toBe(false);
    store.add('tybalt', 'pw');
    expect(store.exists('tybalt')).toBe(true);
    expect(store.remove('Tybalt')).toBe(true);
    expect(store.exists('tybalt')).toBe(false);
    store.close();
  });

  it('exists() sees accounts added and removed through another connection (xmppkit adduser/deluser) — PRAGMA data_version', async () => {
    const file = join(dir, 'shared.sqlite');
    const server = openAccountStore({ file, random: seededRandom('l'), iterations: 1000 });
    const admin = openAccountStore({ file, random: seededRandom('m'), iterations: 1000 });
    const later = (): Promise<void> => new Promise((r) => setImmediate(r)); // the next socket read, timer, ...
    expect(server.exists('mercutio')).toBe(false);
    await later();
    admin.add('mercutio', 'pw');
    await later();
    expect(server.exists('mercutio')).toBe(true);
    expect(server.exists('benvolio')).toBe(false);
    await later();
    admin.add('benvolio', 'pw');
    expect(admin.remove('mercutio')).toBe(true);
    await later();
    expect(server.exists('mercutio')).toBe(false);
    expect(server.exists('benvolio')).toBe(true);
    // A password change or disabling does not make an account appear or vanish.
    admin.setDisabled('benvolio', true);
    await later();
    expect(server.exists('benvolio')).toBe(true);
    server.close();
    admin.close();
  });

  it('exists() throws, like lookup(), when the store cannot answer', () => {
    const store = openAccountStore({ file: ':memory:' });
    store.close();
    expect(() => store.exists('romeo')).toThrow();
  });

  it('persists across reopen, with a schema version table', () => {
    const file = join(dir, 'accounts.sqlite');
    const first = openAccountStore({ file, random: seededRandom('h') });
    first.add('romeo', 'pw');
    first.setDisabled('romeo', true);
    first.close();
    const again = openAccountStore({ file });
    expect(again.list()).toEqual(['romeo']);
    expect(again.lookup('romeo')?.disabled).toBe(true);
    again.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: SCHEMA_VERSION }]); // schema.ts
    raw.close();
  });

  it('refuses a file written by a newer schema version', () => {
    const file = join(dir, 'future.sqlite');
    openAccountStore({ file }).close();
    const raw = new Database(file);
    raw.prepare('UPDATE schema_version SET version = 99').run();
    raw.close();
    expect(() => openAccountStore({ file })).toThrow(/schema version 99/);
  });

  it('RFC 5802 §3: neither the password nor SaltedPassword appears anywhere in the database file', () => {
    const file = join(dir, 'secrets.sqlite');
    const password = 'Correct-Horse-Battery-Staple-\u00e9\u00e8';
    const store = openAccountStore({ file, random: seededRandom('i') });
    store.add('romeo', 'first-Password-Xyzzy');
    store.setPassword('romeo', password);
    store.add('juliet', password);
    const creds = store.lookup('romeo');
    store.close();
    expect(existsSync(file)).toBe(true);
    // Everything SQLite left next to the database too (journal files), if any.
    const blobs = readdirSync(dir).map((f) => readFileSync(join(dir, f)));
    const forbidden: Buffer[] = [
      Buffer.from(password, 'utf8'),
      Buffer.from(password, 'utf16le'),
      Buffer.from(Buffer.from(password, 'utf8').toString('base64').slice(0, 24)),
      Buffer.from('first-Password-Xyzzy', 'utf8'),
    ];
    for (const m of ['SCRAM-SHA-1', 'SCRAM-SHA-256'] as const) {
      const k = creds?.[m];
      if (!k) throw new Error(`missing ${m} keys`);
      const salted = pbkdf2Sync(password, fromBase64(k.salt)!, k.iterations, m === 'SCRAM-SHA-1' ? 20 : 32, m === 'SCRAM-SHA-1' ? 'sha1' : 'sha256');
      forbidden.push(salted, Buffer.from(salted.toString('base64')));
      // What is there: the StoredKey, as base 64 text (proves the search looks at the right bytes).
      expect(blobs.some((b) => b.includes(Buffer.from(k.storedKey)))).toBe(true);
    }
    for (const blob of blobs) for (const f of forbidden) expect(blob.includes(f)).toBe(false);
  });
});
