/**
 * The roster store: each account's roster (RFC 6121 §2) in the same SQLite file as the accounts
 * (tables in schema.ts), so a roster is deleted with its account (ON DELETE CASCADE).
 *
 * What is stored per item is what §2.1.2 defines: the contact's JID (the key), the user's
 * 'name' for it, its <group/>s (kept as given, in order: §2 "store that data unmodified"),
 * and the presence-subscription state 'subscription', 'ask', 'approved'. A roster set (§2.3,
 * §2.4) writes only name and groups (`set`); the subscription state is written by the
 * presence-subscription logic (RFC 6121 §3) through `setSubscription`, never by a client.
 *
 * §2.6 versions: one counter per account, incremented by every modification (every change
 * that results in a roster push, §2.6.3 "Definition"), so versions are strictly increasing
 * and unique per roster. The version string is `<epoch>-<counter>`: opaque to clients (§2.1.1),
 * the epoch random per roster so that a deleted and re-created account never hands out a
 * version its predecessor already did. Each item keeps the counter of its last change and each
 * deletion is remembered (the latest per contact, at most MAX_REMOVED per roster), so that
 * `changesSince` can give the §2.6.3 interim pushes for a version the client cached.
 *
 * Like the account store, user names are prepared with prepareLocalpart (RFC 7622 §3.3) on
 * every call; contact JIDs are stored as the roster logic passes them (prepared, §2.1.2.3).
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { prepareLocalpart } from '../../machines/jid.js';
import type { RandomBytes } from '../../machines/protocol.js';
import { migrate } from './schema.js';

/** §2.1.2.5: the subscription states a roster item can be in. */
export type Subscription = 'none' | 'to' | 'from' | 'both';
export const SUBSCRIPTIONS: readonly Subscription[] = ['none', 'to', 'from', 'both'];

/** One roster item as stored (§2.1.2). */
export interface RosterItem {
  /** §2.1.2.3: the contact's JID, prepared. */
  readonly jid: string;
  /** §2.1.2.4: the user's handle for the contact; absent when empty (§2.4.1: '' and absent are the same). */
  readonly name?: string;
  /** §2.1.2.5 */
  readonly subscription: Subscription;
  /** §2.1.2.2: 'subscribe' for the "Pending Out" sub-states. */
  readonly ask?: 'subscribe';
  /** §2.1.2.1: subscription pre-approval (§3.4). */
  readonly approved: boolean;
  /** §2.1.2.6: the groups, as the client gave them. */
  readonly groups: readonly string[];
}

/** The roster and the version it is at (§2.1.4, §2.6). */
export interface Roster {
  readonly version: string;
  readonly items: readonly RosterItem[];
}

/** A modification and the version it produced (§2.6.3: each push carries its own). */
export interface Modified<T> {
  readonly item: T;
  readonly version: string;
}

/** §2.6.3: one change since a cached version, as its interim push carries it. */
export type RosterChange =
  | { readonly kind: 'item'; readonly item: RosterItem; readonly version: string }
  | { readonly kind: 'removed'; readonly jid: string; readonly version: string };

/** Deletions remembered per roster for interim pushes; older ones move the horizon (then: the full roster). */
export const MAX_REMOVED = 1000;

/** The subscription state of an item (§2.1.2.1, §2.1.2.2, §2.1.2.5). */
export interface SubscriptionState {
  readonly subscription: Subscription;
  readonly ask?: 'subscribe';
  readonly approved: boolean;
}

export interface RosterStore {
  /** §2.1.4: the whole roster in the order items were added; an account that never had one has an empty one. */
  get(username: string): Roster;
  /** §2.6: the current version (what a roster result or the latest push carried). */
  version(username: string): string;
  item(username: string, jid: string): RosterItem | undefined;
  /**
   * §2.3.2 / §2.4.2: create the item (subscription 'none', no 'ask', not approved) or replace
   * its name and groups (§2.4.1: "the item MUST be updated exactly as provided"); an existing
   * item keeps its subscription state (§2.1.5 rule 2: a roster set cannot change it).
   */
  set(username: string, jid: string, fields: { readonly name?: string; readonly groups: readonly string[] }): Modified<RosterItem>;
  /** §2.5.2: delete the item; the removed item (its old subscription state included), or undefined when it was not there. */
  remove(username: string, jid: string): Modified<RosterItem> | undefined;
  /**
   * For the presence-subscription logic (RFC 6121 §3, not in this module): write an item's
   * subscription state, creating the item (no name, no groups) when there is none (§3.1.2:
   * the user's server creates the item on an outbound subscription request).
   */
  setSubscription(username: string, jid: string, state: SubscriptionState): Modified<RosterItem>;
  /**
   * §2.6.3: the final state of every item changed after `version` (the latest change per
   * contact, in order of modification), or undefined when `version` is not one this roster
   * can be brought forward from (another roster's, a future one, or older than what is known).
   */
  changesSince(username: string, version: string): RosterChange[] | undefined;
  close(): void;
}

interface ItemRow {
  version: number;
  jid: string;
  name: string | null;
  subscription: string;
  ask: string | null;
  approved: number;
  groups: string;
}

export function openRosterStore(opts: { file: string; random?: RandomBytes; maxRemoved?: number }): RosterStore {
  const maxRemoved = opts.maxRemoved ?? MAX_REMOVED;
  const random: RandomBytes = opts.random ?? ((n) => new Uint8Array(randomBytes(n)));
  const db = new Database(opts.file);
  db.pragma('foreign_keys = ON');
  try {
    migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }

  const columns = 'jid, name, subscription, ask, approved, groups, version';
  const selectItems = db.prepare<[string], ItemRow>(`SELECT ${columns} FROM roster_items WHERE username = ? ORDER BY position`);
  const selectItem = db.prepare<[string, string], ItemRow>(`SELECT ${columns} FROM roster_items WHERE username = ? AND jid = ?`);
  const selectVersion = db.prepare<[string], { epoch: string; counter: number; horizon: number }>('SELECT epoch, counter, horizon FROM roster_versions WHERE username = ?');
  const insertVersion = db.prepare('INSERT INTO roster_versions (username, epoch, counter) VALUES (?, ?, 0)');
  const bumpVersion = db.prepare('UPDATE roster_versions SET counter = counter + 1 WHERE username = ?');
  const upsertFields = db.prepare(
    `INSERT INTO roster_items (username, jid, name, groups, position, version) VALUES (@username, @jid, @name, @groups, @next, @next)
     ON CONFLICT (username, jid) DO UPDATE SET name = excluded.name, groups = excluded.groups, version = excluded.version`,
  );
  const upsertState = db.prepare(
    `INSERT INTO roster_items (username, jid, subscription, ask, approved, position, version) VALUES (@username, @jid, @subscription, @ask, @approved, @next, @next)
     ON CONFLICT (username, jid) DO UPDATE SET subscription = excluded.subscription, ask = excluded.ask, approved = excluded.approved, version = excluded.version`,
  );
  const deleteItem = db.prepare('DELETE FROM roster_items WHERE username = ? AND jid = ?');
  const upsertRemoved = db.prepare('INSERT OR REPLACE INTO roster_removed (username, jid, version) VALUES (?, ?, ?)');
  const forgetRemoved = db.prepare('DELETE FROM roster_removed WHERE username = ? AND jid = ?');
  const countRemoved = db.prepare<[string], number>('SELECT COUNT(*) FROM roster_removed WHERE username = ?').pluck();
  const oldestRemoved = db.prepare<[string], { jid: string; version: number }>('SELECT jid, version FROM roster_removed WHERE username = ? ORDER BY version LIMIT 1');
  const setHorizon = db.prepare('UPDATE roster_versions SET horizon = ? WHERE username = ?');
  const itemsSince = db.prepare<[string, number], ItemRow>(`SELECT ${columns} FROM roster_items WHERE username = ? AND version > ?`);
  const removedSince = db.prepare<[string, number], { jid: string; version: number }>('SELECT jid, version FROM roster_removed WHERE username = ? AND version > ?');

  const name = (username: string): string => {
    const prepared = prepareLocalpart(username);
    if (prepared === undefined) throw new Error(`not a valid localpart: ${JSON.stringify(username)}`);
    return prepared;
  };
  /** The account's counter row, made on first use (the epoch is fixed for the roster's lifetime). */
  const counter = (username: string): { epoch: string; counter: number; horizon: number } => {
    const row = selectVersion.get(username);
    if (row !== undefined) return row;
    const epoch = Buffer.from(random(6)).toString('hex');
    insertVersion.run(username, epoch); // throws (foreign key) when there is no such account
    return { epoch, counter: 0, horizon: 0 };
  };
  const format = (v: { epoch: string; counter: number }): string => `${v.epoch}-${v.counter}`;
  /** One modification: the next counter value (also the new item's position), then the write. */
  const modify = <T>(username: string, write: (next: number) => T): { result: T; version: string } => {
    const v = counter(username);
    bumpVersion.run(username);
    const next = v.counter + 1;
    return { result: write(next), version: format({ epoch: v.epoch, counter: next }) };
  };

  const getTx = db.transaction((username: string): Roster => {
    const version = format(counter(username));
    return { version, items: selectItems.all(username).map(toItem) };
  });
  const versionTx = db.transaction((username: string): string => format(counter(username)));
  const setTx = db.transaction((username: string, jid: string, fields: { name?: string; groups: readonly string[] }) => {
    const { version } = modify(username, (next) => {
      upsertFields.run({ username, jid, name: fields.name === undefined || fields.name === '' ? null : fields.name, groups: JSON.stringify(fields.groups), next });
      forgetRemoved.run(username, jid);
    });
    return { item: toItem(selectItem.get(username, jid)!), version };
  });
  const removeTx = db.transaction((username: string, jid: string) => {
    const row = selectItem.get(username, jid);
    if (row === undefined) return undefined;
    const { version } = modify(username, (next) => {
      deleteItem.run(username, jid);
      upsertRemoved.run(username, jid, next);
      if (countRemoved.get(username)! > maxRemoved) {
        // Forget the oldest deletion: versions before it can no longer be brought forward exactly.
        const oldest = oldestRemoved.get(username)!;
        forgetRemoved.run(username, oldest.jid);
        setHorizon.run(oldest.version, username);
      }
    });
    return { item: toItem(row), version };
  });
  const setSubscriptionTx = db.transaction((username: string, jid: string, state: SubscriptionState) => {
    const { version } = modify(username, (next) => {
      upsertState.run({ username, jid, subscription: state.subscription, ask: state.ask ?? null, approved: state.approved ? 1 : 0, next });
      forgetRemoved.run(username, jid);
    });
    return { item: toItem(selectItem.get(username, jid)!), version };
  });

  const changesTx = db.transaction((username: string, cached: string): RosterChange[] | undefined => {
    const v = counter(username);
    const match = /^([0-9a-f]+)-(0|[1-9][0-9]{0,15})$/.exec(cached);
    const n = match === null ? NaN : Number(match[2]);
    if (match === null || match[1] !== v.epoch || !(n >= v.horizon && n <= v.counter)) return undefined;
    const changes: (RosterChange & { n: number })[] = [
      ...itemsSince.all(username, n).map((row) => ({ kind: 'item' as const, item: toItem(row), version: format({ epoch: v.epoch, counter: row.version }), n: row.version })),
      ...removedSince.all(username, n).map((r) => ({ kind: 'removed' as const, jid: r.jid, version: format({ epoch: v.epoch, counter: r.version }), n: r.version })),
    ];
    // §2.6.3: "Roster pushes MUST occur in order of modification".
    return changes.sort((a, b) => a.n - b.n).map(({ n: _n, ...change }) => change);
  });

  return {
    get: (username) => getTx.immediate(name(username)),
    changesSince: (username, version) => changesTx.immediate(name(username), version),
    version: (username) => versionTx.immediate(name(username)),
    item(username, jid) {
      const row = selectItem.get(name(username), jid);
      return row === undefined ? undefined : toItem(row);
    },
    set: (username, jid, fields) => setTx.immediate(name(username), jid, fields),
    remove: (username, jid) => removeTx.immediate(name(username), jid),
    setSubscription: (username, jid, state) => setSubscriptionTx.immediate(name(username), jid, state),
    close() {
      db.close();
    },
  };
}

function toItem(row: ItemRow): RosterItem {
  const subscription = SUBSCRIPTIONS.includes(row.subscription as Subscription) ? (row.subscription as Subscription) : 'none';
  return {
    jid: row.jid,
    ...(row.name !== null ? { name: row.name } : {}),
    subscription,
    ...(row.ask === 'subscribe' ? { ask: 'subscribe' as const } : {}),
    approved: row.approved === 1,
    groups: JSON.parse(row.groups) as string[],
  };
}
