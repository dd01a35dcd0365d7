/**
 * The schema of the server's SQLite file (accounts.sqlite), one place for every store that
 * lives in it: the account store (accounts.ts) and the roster store (roster.ts) each open
 * their own connection and call `migrate` first, so whichever opens the file first brings it
 * to the current version.
 *
 * Versions, each a step from the one before:
 *   1  accounts, scram_keys (SCRAM keys only, RFC 5802 §2.2/§3)
 *   2  roster_items, roster_removed, roster_versions (RFC 6121 §2: the roster stored on the
 *      user's behalf, §2.6 its versions), deleted with the account (ON DELETE CASCADE)
 *   3  subscription_requests (RFC 6121 §3.1.3 rule 4: the held inbound subscription requests,
 *      the "Pending In" note of §A.1 that the roster cannot carry)
 *   4  offline_messages (RFC 6121 §8.5.2.2.1 option (a): messages stored for an account with
 *      no available resource, XEP-0203 stamp of their arrival)
 *
 * A migration runs in one IMMEDIATE transaction (the write lock is taken before the version
 * is read), so two processes opening a v1 file at once (`xmppkit serve` and `xmppkit adduser`)
 * cannot both upgrade it, and a failed step leaves the file at its old version, untouched.
 * A file written by a newer version is refused rather than guessed at.
 */
import type Database from 'better-sqlite3';

export const SCHEMA_VERSION = 4;

/** Version 1: the account store. */
const V1 = `
  CREATE TABLE IF NOT EXISTS accounts (
    username TEXT PRIMARY KEY NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS scram_keys (
    username   TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    mechanism  TEXT NOT NULL CHECK (mechanism IN ('SCRAM-SHA-1', 'SCRAM-SHA-256')),
    salt       TEXT NOT NULL,
    iterations INTEGER NOT NULL CHECK (iterations > 0),
    stored_key TEXT NOT NULL,
    server_key TEXT NOT NULL,
    PRIMARY KEY (username, mechanism)
  );
`;

/**
 * Version 2: rosters (RFC 6121 §2.1.2). One row per item; `groups` is the JSON array of the
 * item's <group/> texts in the order the client gave them (§2: "store that data unmodified").
 * subscription / ask / approved are the presence-subscription state (§2.1.2.1, §2.1.2.2,
 * §2.1.2.5), written by the subscription logic, never by a roster set. roster_versions holds
 * the §2.6 version counter per account: `epoch` is random per roster, so a version handed out
 * before the account was deleted and created again never matches the new roster's. For the
 * §2.6.3 interim pushes each item records the counter of its last modification (`version`)
 * and roster_removed the deletions (one row per contact, the latest); `horizon` is the oldest
 * counter from which the changes are still all known (older deletions are forgotten).
 */
const V2 = `
  CREATE TABLE IF NOT EXISTS roster_items (
    username     TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    jid          TEXT NOT NULL,
    name         TEXT,
    subscription TEXT NOT NULL DEFAULT 'none' CHECK (subscription IN ('none', 'to', 'from', 'both')),
    ask          TEXT CHECK (ask IS NULL OR ask = 'subscribe'),
    approved     INTEGER NOT NULL DEFAULT 0 CHECK (approved IN (0, 1)),
    groups       TEXT NOT NULL DEFAULT '[]',
    position     INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    PRIMARY KEY (username, jid)
  );
  CREATE TABLE IF NOT EXISTS roster_removed (
    username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    jid      TEXT NOT NULL,
    version  INTEGER NOT NULL,
    PRIMARY KEY (username, jid)
  );
  CREATE TABLE IF NOT EXISTS roster_versions (
    username TEXT PRIMARY KEY NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    epoch    TEXT NOT NULL,
    counter  INTEGER NOT NULL CHECK (counter >= 0),
    horizon  INTEGER NOT NULL DEFAULT 0
  );
`;

/**
 * Version 3: the subscription requests a user has not yet answered (RFC 6121 §3.1.3 rule 4:
 * the server MUST keep the request and deliver it whenever the user creates an available
 * resource, until approved or denied). One per contact (§3.1.3: a repeated request is not
 * delivered again), the stanza as it arrived (its 'from' stamped by the contact's server, its
 * <status/> kept), in XML. A row is the "Pending In" half of §A.1 items 3, 4 and 6: the roster
 * item cannot say it (and may not exist: no item is created before approval, §3.1.3 Security
 * Warning), so the machine's state is resumed from the item and this row together.
 */
const V3 = `
  CREATE TABLE IF NOT EXISTS subscription_requests (
    username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    contact  TEXT NOT NULL,
    stanza   TEXT NOT NULL,
    received INTEGER NOT NULL,
    PRIMARY KEY (username, contact)
  );
`;

/**
 * Version 4: offline messages (RFC 6121 §8.5.2.2.1 option (a)), in arrival order (`id`), each
 * the stanza as routed (XML, 'from' stamped by the server) and the XEP-0082 UTC time it arrived,
 * for the XEP-0203 <delay/> it carries when delivered.
 */
const V4 = `
  CREATE TABLE IF NOT EXISTS offline_messages (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    stanza   TEXT NOT NULL,
    stamp    TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS offline_messages_by_user ON offline_messages (username, id);
`;

/** Steps from version i to i + 1, by i - 1 (STEPS[0]: nothing → 1). */
const STEPS: readonly string[] = [V1, V2, V3, V4];

/** Create or upgrade the tables; refuse a file written by a newer schema. */
export function migrate(db: Database.Database): void {
  const step = db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = db.prepare<[], { version: number }>('SELECT version FROM schema_version').get();
    const from = row?.version ?? 0;
    if (from > SCHEMA_VERSION) throw new Error(`account store schema version ${from} is newer than ${SCHEMA_VERSION}`);
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(STEPS[v]!);
    if (row === undefined) db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
    else if (from < SCHEMA_VERSION) db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION);
  });
  step.immediate();
}
