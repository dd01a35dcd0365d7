/** The SQLite roster store (RFC 6121 §2) on real temporary files, and the schema migration 1 → 2. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAccountStore } from '../../runtime/store/accounts.js';
import { openRosterStore, type RosterStore } from '../../runtime/store/roster.js';
import { SCHEMA_VERSION } from '../../runtime/store/schema.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xmppkit-roster-'));
  file = join(dir, 'accounts.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The counter part of an opaque version, for checking that versions strictly increase. */
const counterOf = (version: string) => Number(version.slice(version.lastIndexOf('-') + 1));

function withAccounts(...names: string[]): RosterStore {
  const accounts = openAccountStore({ file, iterations: 4096 });
  for (const n of names) accounts.add(n, 'pw');
  accounts.close();
  return openRosterStore({ file });
}

describe('roster store (RFC 6121 §2)', () => {
  it('RFC 6121 §2.1.4: a new account has an empty roster (never an error), at a version that stays put while nothing changes', () => {
    const roster = withAccounts('juliet');
    const first = roster.get('juliet');
    expect(first.items).toEqual([]);
    expect(roster.get('Juliet')).toEqual(first); // user names are prepared (RFC 7622 §3.3)
    expect(roster.version('juliet')).toBe(first.version);
    roster.close();
  });

  it('RFC 6121 §2.3.2: a new item starts at subscription none, no ask, not approved; name and groups as given, in order', () => {
    const roster = withAccounts('juliet');
    const { item } = roster.set('juliet', 'nurse@example.com', { name: 'Nurse', groups: ['Servants', 'Household'] });
    expect(item).toEqual({ jid: 'nurse@example.com', name: 'Nurse', subscription: 'none', approved: false, groups: ['Servants', 'Household'] });
    expect(roster.item('juliet', 'nurse@example.com')).toEqual(item);
    expect(roster.get('juliet').items).toEqual([item]);
    roster.close();
  });

  it('RFC 6121 §2.4.1: an update replaces name and groups exactly; an empty name is no name; the item keeps its place', () => {
    const roster = withAccounts('juliet');
    roster.set('juliet', 'romeo@example.net', { name: 'Romeo', groups: ['Friends'] });
    roster.set('juliet', 'nurse@example.com', { groups: [] });
    roster.set('juliet', 'romeo@example.net', { name: 'Romeo', groups: ['Friends', 'Lovers'] });
    roster.set('juliet', 'romeo@example.net', { name: 'Romeo', groups: ['Lovers'] });
    const { item } = roster.set('juliet', 'romeo@example.net', { name: '', groups: [] });
    expect(item).toEqual({ jid: 'romeo@example.net', subscription: 'none', approved: false, groups: [] });
    expect(roster.get('juliet').items.map((i) => i.jid)).toEqual(['romeo@example.net', 'nurse@example.com']);
    roster.close();
  });

  it('RFC 6121 §2.1.5 rule 2: a roster set never changes the subscription state written by the subscription logic (§3)', () => {
    const roster = withAccounts('juliet');
    roster.setSubscription('juliet', 'romeo@example.net', { subscription: 'to', ask: 'subscribe', approved: true });
    const { item } = roster.set('juliet', 'romeo@example.net', { name: 'Romeo', groups: ['Friends'] });
    expect(item).toEqual({ jid: 'romeo@example.net', name: 'Romeo', subscription: 'to', ask: 'subscribe', approved: true, groups: ['Friends'] });
    const again = roster.setSubscription('juliet', 'romeo@example.net', { subscription: 'both', approved: false });
    expect(again.item).toEqual({ jid: 'romeo@example.net', name: 'Romeo', subscription: 'both', approved: false, groups: ['Friends'] });
    roster.close();
  });

  it('RFC 6121 §2.5.2: remove returns the removed item with its old subscription state (for the unsubscribe/unsubscribed of §2.5.2); absent → undefined', () => {
    const roster = withAccounts('juliet');
    roster.setSubscription('juliet', 'romeo@example.net', { subscription: 'both', approved: false });
    const before = roster.version('juliet');
    const removed = roster.remove('juliet', 'romeo@example.net');
    expect(removed?.item).toEqual({ jid: 'romeo@example.net', subscription: 'both', approved: false, groups: [] });
    expect(counterOf(removed!.version)).toBe(counterOf(before) + 1);
    expect(roster.get('juliet').items).toEqual([]);
    expect(roster.remove('juliet', 'romeo@example.net')).toBeUndefined();
    expect(roster.version('juliet')).toBe(removed!.version); // nothing removed, no new version
    roster.close();
  });

  it('RFC 6121 §2.6.3: every modification gets a new, strictly increasing version; rosters of two accounts are separate', () => {
    const roster = withAccounts('juliet', 'romeo');
    const versions = [roster.version('juliet')];
    versions.push(roster.set('juliet', 'a@example.com', { groups: [] }).version);
    versions.push(roster.set('juliet', 'a@example.com', { groups: [] }).version); // same data: still a push, still a version
    versions.push(roster.setSubscription('juliet', 'a@example.com', { subscription: 'from', approved: false }).version);
    versions.push(roster.remove('juliet', 'a@example.com')!.version);
    expect(new Set(versions).size).toBe(versions.length);
    expect(versions.map(counterOf)).toEqual([0, 1, 2, 3, 4]);
    expect(roster.get('juliet').version).toBe(versions.at(-1));
    expect(roster.get('romeo').items).toEqual([]);
    roster.close();
  });

  it('RFC 6121 §2: the roster survives reopening the file; it is deleted with the account (ON DELETE CASCADE), and a re-created account starts a new version line', () => {
    const roster = withAccounts('juliet');
    roster.set('juliet', 'nurse@example.com', { name: 'Nurse', groups: ['Servants'] });
    const oldVersion = roster.version('juliet');
    roster.close();

    const reopened = openRosterStore({ file });
    expect(reopened.get('juliet')).toEqual({ version: oldVersion, items: [{ jid: 'nurse@example.com', name: 'Nurse', subscription: 'none', approved: false, groups: ['Servants'] }] });

    const accounts = openAccountStore({ file, iterations: 4096 });
    expect(accounts.remove('juliet')).toBe(true);
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT COUNT(*) AS n FROM roster_items').get()).toEqual({ n: 0 });
    expect(raw.prepare('SELECT COUNT(*) AS n FROM roster_versions').get()).toEqual({ n: 0 });
    raw.close();
    accounts.add('juliet', 'pw');
    accounts.close();
    const fresh = reopened.get('juliet');
    expect(fresh.items).toEqual([]);
    expect(fresh.version).not.toBe(oldVersion);
    expect(reopened.set('juliet', 'x@example.com', { groups: [] }).version).not.toBe(oldVersion); // another epoch
    reopened.close();
  });

  it('RFC 6121 §2.6.3: changesSince gives the final state of each item changed after a version, deletions included, in order of modification', () => {
    const roster = withAccounts('juliet');
    roster.set('juliet', 'a@example.com', { groups: [] });
    const cached = roster.set('juliet', 'b@example.com', { groups: [] }).version;
    roster.set('juliet', 'c@example.com', { name: 'C', groups: [] });
    roster.set('juliet', 'a@example.com', { name: 'A1', groups: [] });
    roster.remove('juliet', 'b@example.com');
    roster.set('juliet', 'a@example.com', { name: 'A2', groups: [] }); // only the final state of a
    const changes = roster.changesSince('juliet', cached)!;
    expect(changes.map((c) => (c.kind === 'item' ? `${c.item.jid}=${c.item.name}` : `-${c.jid}`))).toEqual(['c@example.com=C', '-b@example.com', 'a@example.com=A2']);
    expect(changes.map((c) => counterOf(c.version))).toEqual([3, 5, 6]);
    expect(changes.at(-1)!.version).toBe(roster.version('juliet'));
    expect(roster.changesSince('juliet', roster.version('juliet'))).toEqual([]);
    // Adding a removed contact again replaces its deletion.
    roster.set('juliet', 'b@example.com', { groups: ['back'] });
    expect(roster.changesSince('juliet', cached)!.filter((c) => c.kind === 'removed')).toEqual([]);
    roster.close();
  });

  it('RFC 6121 §2.6.3: a version that cannot be brought forward → undefined (another roster\'s, unparsable, in the future, older than the remembered deletions)', () => {
    const accounts = openAccountStore({ file, iterations: 4096 });
    accounts.add('juliet', 'pw');
    accounts.add('romeo', 'pw');
    accounts.close();
    const roster = openRosterStore({ file, maxRemoved: 2 });
    const start = roster.version('juliet');
    expect(roster.changesSince('juliet', roster.version('romeo'))).toBeUndefined();
    for (const v of ['', 'ver7', `${start}x`, start.replace(/-0$/, '-1'), start.replace(/-0$/, '-01')]) expect(roster.changesSince('juliet', v), v).toBeUndefined();
    for (const jid of ['a@x', 'b@x', 'c@x']) roster.set('juliet', jid, { groups: [] });
    const beforeRemoves = roster.version('juliet');
    expect(roster.changesSince('juliet', start)).toHaveLength(3);
    roster.remove('juliet', 'a@x');
    roster.remove('juliet', 'b@x');
    expect(roster.changesSince('juliet', start)).toHaveLength(3); // two deletions remembered: still exact
    roster.remove('juliet', 'c@x'); // the third: the deletion of a@x is forgotten
    expect(roster.changesSince('juliet', start)).toBeUndefined();
    expect(roster.changesSince('juliet', beforeRemoves)).toBeUndefined();
    const afterFirst = roster.changesSince('juliet', start.replace(/-0$/, '-4'))!;
    expect(afterFirst.map((c) => (c.kind === 'removed' ? c.jid : '?'))).toEqual(['b@x', 'c@x']);
    roster.close();
  });

  it('a roster of an account that does not exist is refused by the store (foreign key), not silently created', () => {
    const roster = withAccounts('juliet');
    expect(() => roster.set('nobody', 'x@example.com', { groups: [] })).toThrow();
    expect(() => roster.set('not a localpart@', 'x@example.com', { groups: [] })).toThrow(/localpart/);
    roster.close();
  });
});

describe('schema migration', () => {
  /** The tables exactly as schema version 1 (before rosters) wrote them. */
  const V1 = `
    CREATE TABLE schema_version (version INTEGER NOT NULL);
    CREATE TABLE accounts (username TEXT PRIMARY KEY NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE scram_keys (
      username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
      mechanism TEXT NOT NULL CHECK (mechanism IN ('SCRAM-SHA-1', 'SCRAM-SHA-256')),
      salt TEXT NOT NULL, iterations INTEGER NOT NULL CHECK (iterations > 0),
      stored_key TEXT NOT NULL, server_key TEXT NOT NULL, PRIMARY KEY (username, mechanism));
    INSERT INTO schema_version (version) VALUES (1);
  `;
  function versionOneFile(extra = ''): void {
    const raw = new Database(file);
    raw.exec(V1 + extra);
    raw.close();
  }

  it('a version 1 file (accounts only) is upgraded to the current version in place; its accounts and keys are kept', () => {
    versionOneFile(`
      INSERT INTO accounts (username, disabled) VALUES ('juliet', 1);
      INSERT INTO scram_keys VALUES ('juliet', 'SCRAM-SHA-256', 'c2FsdA==', 4096, 'c3RvcmVk', 'c2VydmVy');
    `);
    const roster = openRosterStore({ file });
    expect(roster.get('juliet').items).toEqual([]);
    roster.set('juliet', 'nurse@example.com', { groups: ['Servants'] });
    roster.close();
    const accounts = openAccountStore({ file });
    expect(accounts.list()).toEqual(['juliet']);
    expect(accounts.lookup('juliet')).toEqual({
      'SCRAM-SHA-256': { salt: 'c2FsdA==', iterations: 4096, storedKey: 'c3RvcmVk', serverKey: 'c2VydmVy' },
      disabled: true,
    });
    accounts.close();
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: SCHEMA_VERSION }]);
    expect(SCHEMA_VERSION).toBe(4);
    check.close();
  });

  it('the account store alone upgrades a version 1 file too (xmppkit adduser on an old data directory), and opening again changes nothing', () => {
    versionOneFile();
    openAccountStore({ file }).close();
    const first = new Database(file, { readonly: true });
    expect(first.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: SCHEMA_VERSION }]);
    const tables = first.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
    expect(tables).toEqual(['accounts', 'offline_messages', 'roster_items', 'roster_removed', 'roster_versions', 'schema_version', 'scram_keys', 'subscription_requests']);
    first.close();
    openRosterStore({ file }).close();
    openAccountStore({ file }).close();
    const again = new Database(file, { readonly: true });
    expect(again.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: SCHEMA_VERSION }]);
    again.close();
  });

  it('a failed upgrade leaves a version 1 file at version 1 (one transaction)', () => {
    versionOneFile('CREATE INDEX roster_versions ON accounts (disabled);'); // an object in the way makes the v2 step fail halfway
    expect(() => openRosterStore({ file })).toThrow(/already/);
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: 1 }]);
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name = 'roster_items'").all()).toEqual([]);
    check.close();
  });

  it('a file written by a newer schema is refused by the roster store as by the account store', () => {
    openRosterStore({ file: join(dir, 'f.sqlite') }).close();
    const raw = new Database(join(dir, 'f.sqlite'));
    raw.prepare('UPDATE schema_version SET version = 99').run();
    raw.close();
    expect(() => openRosterStore({ file: join(dir, 'f.sqlite') })).toThrow(/schema version 99/);
  });
});
