/**
 * The held inbound subscription requests (RFC 6121 §3.1.3 rule 4), one per (user, contact),
 * in the accounts file (table `subscription_requests`, schema.ts version 3), deleted with the
 * account. A row is the "Pending In" half of the pair's §A.1 state (the roster cannot carry it,
 * §A.1 items 3, 4, 6); the stanza is kept as it arrived so that redelivery (§3.1.3 rule 4)
 * gives the user the contact's <status/> too.
 */
import Database from 'better-sqlite3';
import { prepareLocalpart } from '../../machines/jid.js';
import type { XmlElement } from '../../machines/xml.js';
import { migrate } from './schema.js';
import { stanzaFromText, stanzaToText } from './stanza-text.js';

export interface HeldRequest {
  /** The contact's bare JID (the request's 'from'). */
  readonly contact: string;
  readonly stanza: XmlElement;
}

export interface SubscriptionRequestStore {
  /** Is a request from `contact` awaiting the user's answer ("Pending In")? */
  has(username: string, contact: string): boolean;
  get(username: string, contact: string): XmlElement | undefined;
  /** Keep the request (replacing an older one from the same contact: §3.1.3, one per contact). */
  hold(username: string, contact: string, stanza: XmlElement, received: Date): void;
  /** The request is answered or withdrawn (§3.1.4, §3.1.5, §3.3.3). */
  forget(username: string, contact: string): void;
  /** Every request the user has not answered, oldest first. */
  list(username: string): HeldRequest[];
  close(): void;
}

export function openSubscriptionRequestStore(opts: { file: string }): SubscriptionRequestStore {
  const db = new Database(opts.file);
  db.pragma('foreign_keys = ON');
  try {
    migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }
  const select = db.prepare<[string, string], { stanza: string }>('SELECT stanza FROM subscription_requests WHERE username = ? AND contact = ?');
  const upsert = db.prepare('INSERT OR REPLACE INTO subscription_requests (username, contact, stanza, received) VALUES (?, ?, ?, ?)');
  const remove = db.prepare('DELETE FROM subscription_requests WHERE username = ? AND contact = ?');
  const all = db.prepare<[string], { contact: string; stanza: string }>('SELECT contact, stanza FROM subscription_requests WHERE username = ? ORDER BY received, contact');
  const name = (username: string): string => {
    const prepared = prepareLocalpart(username);
    if (prepared === undefined) throw new Error(`not a valid localpart: ${JSON.stringify(username)}`);
    return prepared;
  };
  return {
    has: (username, contact) => select.get(name(username), contact) !== undefined,
    get(username, contact) {
      const row = select.get(name(username), contact);
      return row === undefined ? undefined : stanzaFromText(row.stanza);
    },
    hold(username, contact, stanza, received) {
      upsert.run(name(username), contact, stanzaToText(stanza), received.getTime());
    },
    forget(username, contact) {
      remove.run(name(username), contact);
    },
    list: (username) => all.all(name(username)).map((r) => ({ contact: r.contact, stanza: stanzaFromText(r.stanza) })),
    close: () => db.close(),
  };
}
