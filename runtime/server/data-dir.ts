/**
 * The server's data directory: created on first run with everything a fresh machine needs.
 *
 *   DIR/server.json      {"domain": ...}: the domain this directory serves. Accounts are
 *                        stored by localpart only, so a directory belongs to one domain and
 *                        serving it under another is refused (it would silently move accounts).
 *   DIR/accounts.sqlite  the account store (SCRAM keys only, runtime/store/accounts.ts) and
 *                        the rosters (RFC 6121 §2, runtime/store/roster.ts)
 *   DIR/tls/cert.pem, key.pem
 *                        a self-signed certificate for the domain with DNS-ID, SRV-IDs
 *                        (_xmpp-client / _xmpp-server) and XmppAddr (RFC 6120 §13.7.1.2),
 *                        made on first run unless the operator supplies one.
 *   DIR/sasl-secret      32 random bytes (hex) keying the SCRAM salt invented for unknown
 *                        users (RFC 5802 §5.1), so probes cannot tell them from accounts.
 *   DIR/dialback-secret  32 random bytes (hex): the Server Dialback secret (XEP-0220 §2.1.1).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJid } from '../../machines/jid.js';
import { openAccountStore, type AccountStore } from '../store/accounts.js';
import { openOfflineStore, type OfflineStore } from '../store/offline.js';
import { openRosterStore, type RosterStore } from '../store/roster.js';
import { openSubscriptionRequestStore, type SubscriptionRequestStore } from '../store/subscription-requests.js';
import { loadOrCreateCertificate, type CertificateBundle } from '../tls/index.js';

export const DEFAULT_DOMAIN = 'localhost';

export interface DataDirInfo {
  readonly dir: string;
  readonly domain: string;
  readonly created: boolean;
}

export function serverJsonPath(dir: string): string {
  return join(dir, 'server.json');
}

/** The domain recorded in `dir`, if the directory was initialized. */
export function recordedDomain(dir: string): string | undefined {
  const file = serverJsonPath(dir);
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { domain?: unknown };
  if (typeof parsed.domain !== 'string') throw new Error(`${file}: no "domain" string`);
  return parsed.domain;
}

/** A domainpart as RFC 7622 §3.2 prepares it, or undefined. */
export function prepareDomain(domain: string): string | undefined {
  const jid = parseJid(domain);
  return jid && jid.local === undefined && jid.resource === undefined ? jid.domain : undefined;
}

/**
 * Make sure `dir` exists and serves `domain` (undefined: whatever it records, else the default).
 * Throws a readable error when it records another domain.
 */
export function initDataDir(dir: string, domain?: string): DataDirInfo {
  const recorded = recordedDomain(dir);
  const wanted = domain === undefined ? undefined : prepareDomain(domain);
  if (domain !== undefined && wanted === undefined) throw new Error(`not a valid domain: ${JSON.stringify(domain)}`);
  if (recorded !== undefined) {
    if (wanted !== undefined && wanted !== recorded) {
      throw new Error(`data directory ${dir} serves the domain '${recorded}', not '${wanted}' (choose another --data directory)`);
    }
    return { dir, domain: recorded, created: false };
  }
  const chosen = wanted ?? DEFAULT_DOMAIN;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(serverJsonPath(dir), `${JSON.stringify({ domain: chosen }, null, 2)}\n`);
  return { dir, domain: chosen, created: true };
}

export function openStoreIn(dir: string): AccountStore {
  return openAccountStore({ file: join(dir, 'accounts.sqlite') });
}

/** The rosters, in the same file as the accounts (deleted with them). */
export function openRosterStoreIn(dir: string): RosterStore {
  return openRosterStore({ file: join(dir, 'accounts.sqlite') });
}

/** RFC 6121 §3.1.3 held subscription requests, in the same file. */
export function openRequestStoreIn(dir: string): SubscriptionRequestStore {
  return openSubscriptionRequestStore({ file: join(dir, 'accounts.sqlite') });
}

/** RFC 6121 §8.5.2.2.1 offline messages, in the same file. */
export function openOfflineStoreIn(dir: string): OfflineStore {
  return openOfflineStore({ file: join(dir, 'accounts.sqlite') });
}

/** The certificate in DIR/tls (made on first run). */
export function certificateIn(dir: string, domain: string): CertificateBundle {
  return loadOrCreateCertificate(join(dir, 'tls'), domain);
}

/** 32 random bytes (hex) in DIR/NAME, made on first use (mode 0600, never overwritten). */
function secretIn(dir: string, name: string): string {
  const file = join(dir, name);
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return readFileSync(file, 'utf8').trim();
}

/** The per-server secret for SCRAM fake salts. */
export function fakeSaltSecretIn(dir: string): string {
  return secretIn(dir, 'sasl-secret');
}

/**
 * The dialback secret (XEP-0220 §2.1.1, XEP-0185): kept across restarts, so that a key we
 * issued just before one is still recognised when the peer's verification arrives after it.
 */
export function dialbackSecretIn(dir: string): string {
  return secretIn(dir, 'dialback-secret');
}
