/**
 * The subscription machine's definition: the nine RFC 6121 §A.1 states, and for every state and
 * subscription stanza the transitions of that row, each citing its table.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testTitles } from '../../../diagrams/coverage.js';
import { describeMachine } from '../../../machines/introspect/model.js';
import { citations } from '../../../machines/introspect/sections.js';
import { SUBSCRIPTION_STATES, subscriptionMachine } from '../../../machines/subscription/index.js';

const model = describeMachine(subscriptionMachine);
const SECTION: Readonly<Record<string, string>> = {
  OUT_SUBSCRIBE: 'A.2.1',
  OUT_UNSUBSCRIBE: 'A.2.2',
  OUT_SUBSCRIBED: 'A.2.3',
  OUT_UNSUBSCRIBED: 'A.2.4',
  IN_SUBSCRIBE: 'A.3.1',
  IN_UNSUBSCRIBE: 'A.3.2',
  IN_SUBSCRIBED: 'A.3.3',
  IN_UNSUBSCRIBED: 'A.3.4',
};

describe('RFC 6121 §A.1 subscription machine definition', () => {
  it('has exactly the nine §A.1 states, flat, starting in "None"', () => {
    expect(model.states.map((s) => s.path)).toEqual([...SUBSCRIPTION_STATES]);
    expect(model.initial).toBe('None');
    for (const s of model.states) expect(s.rfc).toBe('6121 §A.1');
  });

  it('every transition has a meta.rfc citing RFC 6121 and the §A.2 / §A.3 table of its row first, and a description', () => {
    const rows = model.transitions.filter((t) => t.event !== 'AVAILABLE');
    expect(rows.length).toBeGreaterThanOrEqual(72);
    for (const t of model.transitions) {
      expect(t.rfc, `${t.source} ${t.event}`).toMatch(/^6121 §/);
      for (const c of citations(t.rfc!)) expect(c.doc).toBe('RFC 6121');
    }
    for (const t of rows) {
      const label = `${t.source} ${t.event}`;
      expect(t.rfc, label).toBeDefined();
      const cited = citations(t.rfc!);
      expect(cited.length, label).toBeGreaterThan(0);
      for (const c of cited) expect(c.doc, label).toBe('RFC 6121');
      expect(cited[0]!.section, label).toBe(SECTION[t.event]);
      expect(t.description, label).toMatch(/^Table \d, "/);
    }
  });

  it('has one row for every state and stanza (Tables 2-9), split only by the §3.4 pre-approval flag, and the flag\'s default last', () => {
    for (const state of SUBSCRIPTION_STATES) {
      for (const event of Object.keys(SECTION)) {
        const row = model.transitions.filter((t) => t.source === state && t.event === event);
        expect(row.length, `${state} ${event}`).toBeGreaterThanOrEqual(1);
        expect(row.length, `${state} ${event}`).toBeLessThanOrEqual(2);
        if (row.length === 2) expect(row.map((t) => t.guard), `${state} ${event}`).toEqual(['preApproved', undefined]);
        if (row.length === 2) expect(row[0]!.rfc).toMatch(/§3\.4/);
      }
    }
  });

  it('keeps a bounded context: the two bare JIDs and one flag', () => {
    const snapshot = subscriptionMachine.resolveState({ value: 'Both', context: { user: 'a@x', contact: 'b@y', approved: false } });
    expect(Object.keys(snapshot.context).sort()).toEqual(['approved', 'contact', 'user']);
  });

  it('is tested under titles that cite RFC 6121 only, so the RFC 6120 report counts none of them', () => {
    const dir = dirname(fileURLToPath(import.meta.url));
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.test.ts'))) {
      for (const t of testTitles(file, readFileSync(join(dir, file), 'utf8'))) expect(t.sections, `${file} › ${t.title}`).toEqual([]);
    }
  });

  it('AVAILABLE: §3.1.3 rule 4 redelivery in the "Pending In" states, §3.1.2 resend in the "Pending Out" states, nothing elsewhere', () => {
    const on = model.transitions.filter((t) => t.event === 'AVAILABLE');
    expect(on.map((t) => t.source)).toEqual(['None + Pending Out', 'None + Pending In', 'None + Pending Out+In', 'To + Pending In', 'From + Pending Out']);
    for (const t of on) expect(t.targets).toEqual([]);
    expect(on.find((t) => t.source === 'None + Pending Out+In')!.rfc).toBe('6121 §3.1.3, §3.1.2');
  });
});
