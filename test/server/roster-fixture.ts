/**
 * A real roster store (SQLite in a temporary file, accounts included) and a RosterView over it
 * whose interested resources (RFC 6121 §2.2) are a Set, for router and roster unit tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RosterView } from '../../runtime/server/router.js';
import { openAccountStore } from '../../runtime/store/accounts.js';
import { openRosterStore, type RosterStore } from '../../runtime/store/roster.js';

export interface TestRosters {
  readonly store: RosterStore;
  readonly interested: Set<string>;
  readonly view: RosterView;
  close(): void;
}

export function testRosters(accounts: readonly string[] = ['juliet', 'romeo']): TestRosters {
  const dir = mkdtempSync(join(tmpdir(), 'xmppkit-roster-'));
  const file = join(dir, 'accounts.sqlite');
  const a = openAccountStore({ file, iterations: 4096 });
  for (const name of accounts) a.add(name, 'pw');
  a.close();
  const store = openRosterStore({ file });
  const interested = new Set<string>();
  return {
    store,
    interested,
    view: { store, isInterested: (full) => interested.has(full), requested: (full) => void interested.add(full) },
    close() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
