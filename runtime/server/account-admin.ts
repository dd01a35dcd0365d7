/**
 * Account administration for the CLI (`xmppkit adduser / deluser / passwd`): the JID checks
 * and clear messages around the account store. The store keeps only SCRAM keys.
 */
import { existsSync } from 'node:fs';
import { parseJid } from '../../machines/jid.js';
import { initDataDir, recordedDomain, openStoreIn } from './data-dir.js';
import type { AccountStore } from '../store/accounts.js';

/** An error with the CLI exit code it maps to: 2 usage (bad JID, wrong domain), 1 refused (exists, absent). */
export class AdminError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

/** A bare JID of this data directory's domain → its localpart. */
function localpartOf(jidText: string, domain: string): string {
  const jid = parseJid(jidText);
  if (jid === undefined || jid.local === undefined) throw new AdminError(`not a valid bare JID (user@domain): ${JSON.stringify(jidText)}`, 2);
  if (jid.resource !== undefined) throw new AdminError(`give a bare JID without a resource: ${jidText}`, 2);
  if (jid.domain !== domain) throw new AdminError(`${jidText}: this server's domain is '${domain}', not '${jid.domain}'`, 2);
  return jid.local;
}

function withStore<T>(dataDir: string, f: (store: AccountStore) => T): T {
  const store = openStoreIn(dataDir);
  try {
    return f(store);
  } finally {
    store.close();
  }
}

/**
 * Add an account. A fresh data directory takes the JID's domain (so that
 * `adduser alice@example.org` before the first `serve` works); afterwards the domain must match.
 */
export function addUser(dataDir: string, jidText: string, password: string): { jid: string; domain: string; created: boolean } {
  const jid = parseJid(jidText);
  if (jid === undefined || jid.local === undefined) throw new AdminError(`not a valid bare JID (user@domain): ${JSON.stringify(jidText)}`, 2);
  const recorded = recordedDomain(dataDir);
  const local = localpartOf(jidText, recorded ?? jid.domain);
  const info = initDataDir(dataDir, recorded ?? jid.domain);
  if (password === '') throw new AdminError('the password must not be empty', 2);
  return withStore(dataDir, (store) => {
    if (store.lookup(local) !== null) throw new AdminError(`account exists: ${local}@${info.domain}`, 1);
    try {
      store.add(local, password);
    } catch (e) {
      throw new AdminError(e instanceof Error ? e.message : String(e), 1);
    }
    return { jid: `${local}@${info.domain}`, domain: info.domain, created: info.created };
  });
}

function existingDir(dataDir: string): string {
  const domain = recordedDomain(dataDir);
  if (domain === undefined || !existsSync(dataDir)) throw new AdminError(`no server data in ${dataDir} (run 'xmppkit serve' or 'xmppkit adduser' first, or pass --data DIR)`, 1);
  return domain;
}

export function deleteUser(dataDir: string, jidText: string): string {
  const domain = existingDir(dataDir);
  const local = localpartOf(jidText, domain);
  return withStore(dataDir, (store) => {
    if (!store.remove(local)) throw new AdminError(`no such account: ${local}@${domain}`, 1);
    return `${local}@${domain}`;
  });
}

export function changePassword(dataDir: string, jidText: string, password: string): string {
  const domain = existingDir(dataDir);
  const local = localpartOf(jidText, domain);
  if (password === '') throw new AdminError('the password must not be empty', 2);
  return withStore(dataDir, (store) => {
    let changed: boolean;
    try {
      changed = store.setPassword(local, password);
    } catch (e) {
      throw new AdminError(e instanceof Error ? e.message : String(e), 1);
    }
    if (!changed) throw new AdminError(`no such account: ${local}@${domain}`, 1);
    return `${local}@${domain}`;
  });
}
