/**
 * Offline messages (RFC 6121 §8.5.2.2.1 option (a)): `chat` and `normal` messages for an
 * account with no available resource, in the accounts file (table `offline_messages`,
 * schema.ts version 4), deleted with the account. Each is the stanza as the server routed it
 * ('from' stamped) and the XEP-0082 UTC time it arrived, for the XEP-0203 <delay/>.
 *
 * The per-account limit is checked and the message stored in one IMMEDIATE transaction, so
 * two servers on one file (or two streams at once) cannot both slip past it. Delivery takes
 * the messages and deletes them in one transaction: each is handed out once.
 */
import Database from 'better-sqlite3';
import { prepareLocalpart } from '../../machines/jid.js';
import type { XmlElement } from '../../machines/xml.js';
import { migrate } from './schema.js';
import { stanzaFromText, stanzaToText } from './stanza-text.js';

export interface OfflineMessage {
  readonly stanza: XmlElement;
  /** XEP-0082 DateTime (UTC) of its arrival at the server, for XEP-0203 'stamp'. */
  readonly stamp: string;
}

export interface OfflineStore {
  /** Store `stanza` unless the account holds `limit` messages already; false when full (nothing stored). */
  add(username: string, stanza: XmlElement, received: Date, limit: number): boolean;
  count(username: string): number;
  /** The account's messages in arrival order, deleted from the store as they are returned. */
  take(username: string): OfflineMessage[];
  close(): void;
}

/** XEP-0082 §3.2 DateTime, UTC, millisecond precision (XEP-0203 §4: 'stamp' in UTC). */
export function xep0082(d: Date): string {
  return d.toISOString();
}

export function openOfflineStore(opts: { file: string }): OfflineStore {
  const db = new Database(opts.file);
  db.pragma('foreign_keys = ON');
  try {
    migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }
  const count = db.prepare<[string], number>('SELECT COUNT(*) FROM offline_messages WHERE username = ?').pluck();
  const insert = db.prepare('INSERT INTO offline_messages (username, stanza, stamp) VALUES (?, ?, ?)');
  const select = db.prepare<[string], { stanza: string; stamp: string }>('SELECT stanza, stamp FROM offline_messages WHERE username = ? ORDER BY id');
  const remove = db.prepare('DELETE FROM offline_messages WHERE username = ?');
  const name = (username: string): string => {
    const prepared = prepareLocalpart(username);
    if (prepared === undefined) throw new Error(`not a valid localpart: ${JSON.stringify(username)}`);
    return prepared;
  };
  const addTx = db.transaction((username: string, text: string, stamp: string, limit: number): boolean => {
    if (count.get(username)! >= limit) return false;
    insert.run(username, text, stamp); // throws (foreign key) when there is no such account
    return true;
  });
  const takeTx = db.transaction((username: string) => {
    const rows = select.all(username);
    remove.run(username);
    return rows;
  });
  return {
    add: (username, stanza, received, limit) => addTx.immediate(name(username), stanzaToText(stanza), xep0082(received), limit),
    count: (username) => count.get(name(username))!,
    take: (username) => takeTx.immediate(name(username)).map((r) => ({ stanza: stanzaFromText(r.stanza), stamp: r.stamp })),
    close: () => db.close(),
  };
}
