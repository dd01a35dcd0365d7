/**
 * RFC 6121 Appendix A.2 and A.3, Tables 2-9, row by row, transcribed here from the RFC's text
 * (not from the machine's own table, which the last test compares with this one). Each row:
 * the existing state, ROUTE? / DELIVER?, the new state, and what the user's server must do
 * per §3 ("RFC" column of the comments), as words from ./harness.ts:
 *
 *   route X / reply X     the user's stanza / one the server generates on the user's behalf, to the contact
 *   deliver X to ...      the contact's stanza to the user's available or interested resources
 *   push none+ask         a roster push (§2.1.6) with subscription='none' ask='subscribe'
 *   presence current|unavailable  from each of the user's available resources to the contact
 *   forget request        drop the held subscription request from the contact (§3.1.3 rule 4)
 */
import { describe, expect, it } from 'vitest';
import { INBOUND, OUTBOUND, type SubscriptionState } from '../../../machines/subscription/index.js';
import { JULIET, ROMEO, side, words } from './harness.js';

type Req = 'MUST' | 'S.N.' | 'M.N.';
type New = SubscriptionState | 'no state change' | 'pre-approval';
type Line = readonly [existing: SubscriptionState, req: Req, next: New, does: readonly string[]];
interface TableSpec {
  readonly section: string;
  readonly name: 'Subscribe' | 'Unsubscribe' | 'Subscribed' | 'Unsubscribed';
  readonly event: 'OUT_SUBSCRIBE' | 'OUT_UNSUBSCRIBE' | 'OUT_SUBSCRIBED' | 'OUT_UNSUBSCRIBED' | 'IN_SUBSCRIBE' | 'IN_UNSUBSCRIBE' | 'IN_SUBSCRIBED' | 'IN_UNSUBSCRIBED';
  readonly lines: readonly Line[];
}

const approval = ['route subscribed', 'forget request']; // §3.1.5, then the push, then presence
const cancellation = ['presence unavailable', 'route unsubscribed']; // §3.2.2: unavailable while still subscribed, then the stanza
const denial = ['route unsubscribed', 'forget request']; // §3.1.4 / §3.2.2
const held = 'deliver subscribe to available (held)'; // §3.1.3 rules 3-4

/** §A.2: outbound, from the user's client. */
const A2: readonly TableSpec[] = [
  {
    section: 'A.2.1',
    name: 'Subscribe',
    event: 'OUT_SUBSCRIBE', // §3.1.2: route, then push with ask='subscribe' ([1])
    lines: [
      ['None', 'MUST', 'None + Pending Out', ['route subscribe', 'push none+ask']],
      ['None + Pending Out', 'MUST', 'no state change', ['route subscribe']],
      ['None + Pending In', 'MUST', 'None + Pending Out+In', ['route subscribe', 'push none+ask']],
      ['None + Pending Out+In', 'MUST', 'no state change', ['route subscribe']],
      ['To', 'MUST', 'no state change', ['route subscribe']],
      ['To + Pending In', 'MUST', 'no state change', ['route subscribe']],
      ['From', 'MUST', 'From + Pending Out', ['route subscribe', 'push from+ask']],
      ['From + Pending Out', 'MUST', 'no state change', ['route subscribe']],
      ['Both', 'MUST', 'no state change', ['route subscribe']],
    ],
  },
  {
    section: 'A.2.2',
    name: 'Unsubscribe',
    event: 'OUT_UNSUBSCRIBE', // §3.3.2: route, then push
    lines: [
      ['None', 'MUST', 'no state change', ['route unsubscribe']],
      ['None + Pending Out', 'MUST', 'None', ['route unsubscribe', 'push none']],
      ['None + Pending In', 'MUST', 'no state change', ['route unsubscribe']],
      ['None + Pending Out+In', 'MUST', 'None + Pending In', ['route unsubscribe', 'push none']],
      ['To', 'MUST', 'None', ['route unsubscribe', 'push none']],
      ['To + Pending In', 'MUST', 'None + Pending In', ['route unsubscribe', 'push none']],
      ['From', 'MUST', 'no state change', ['route unsubscribe']],
      ['From + Pending Out', 'MUST', 'From', ['route unsubscribe', 'push from']],
      ['Both', 'MUST', 'From', ['route unsubscribe', 'push from']],
    ],
  },
  {
    section: 'A.2.3',
    name: 'Subscribed',
    event: 'OUT_SUBSCRIBED', // §3.1.5 approval; §3.4.2 pre-approval (rule 3: note it, push, do not route; rule 1: ignore)
    lines: [
      ['None', 'M.N.', 'pre-approval', ['push none+approved']],
      ['None + Pending Out', 'M.N.', 'pre-approval', ['push none+ask+approved']],
      ['None + Pending In', 'MUST', 'From', [...approval, 'push from', 'presence current']],
      ['None + Pending Out+In', 'MUST', 'From + Pending Out', [...approval, 'push from+ask', 'presence current']],
      ['To', 'M.N.', 'pre-approval', ['push to+approved']],
      ['To + Pending In', 'MUST', 'Both', [...approval, 'push both', 'presence current']],
      ['From', 'M.N.', 'no state change', []],
      ['From + Pending Out', 'M.N.', 'no state change', []],
      ['Both', 'M.N.', 'no state change', []],
    ],
  },
  {
    section: 'A.2.4',
    name: 'Unsubscribed',
    event: 'OUT_UNSUBSCRIBED', // §3.2.2 (rule 1: no pre-approval to cancel here, nothing routed)
    lines: [
      ['None', 'S.N.', 'no state change', []],
      ['None + Pending Out', 'S.N.', 'no state change', []],
      ['None + Pending In', 'MUST', 'None', denial],
      ['None + Pending Out+In', 'MUST', 'None + Pending Out', denial],
      ['To', 'S.N.', 'no state change', []],
      ['To + Pending In', 'MUST', 'To', denial],
      ['From', 'MUST', 'None', [...cancellation, 'push none']],
      ['From + Pending Out', 'MUST', 'None + Pending Out', [...cancellation, 'push none+ask']],
      ['Both', 'MUST', 'To', [...cancellation, 'push to']],
    ],
  },
];

/** §A.3: inbound, from the contact. */
const A3: readonly TableSpec[] = [
  {
    section: 'A.3.1',
    name: 'Subscribe',
    event: 'IN_SUBSCRIBE', // §3.1.3; [2] / rule 2: auto-reply "subscribed"
    lines: [
      ['None', 'MUST', 'None + Pending In', [held]],
      ['None + Pending Out', 'MUST', 'None + Pending Out+In', [held]],
      ['None + Pending In', 'S.N.', 'no state change', []],
      ['None + Pending Out+In', 'S.N.', 'no state change', []],
      ['To', 'MUST', 'To + Pending In', [held]],
      ['To + Pending In', 'S.N.', 'no state change', []],
      ['From', 'S.N.', 'no state change', ['reply subscribed']],
      ['From + Pending Out', 'S.N.', 'no state change', ['reply subscribed']],
      ['Both', 'S.N.', 'no state change', ['reply subscribed']],
    ],
  },
  {
    section: 'A.3.2',
    name: 'Unsubscribe',
    event: 'IN_UNSUBSCRIBE', // §3.3.3: deliver, push, unavailable; [1] auto-reply "unsubscribed"
    lines: [
      ['None', 'S.N.', 'no state change', []],
      ['None + Pending Out', 'S.N.', 'no state change', []],
      ['None + Pending In', 'MUST', 'None', ['deliver unsubscribe to interested', 'forget request', 'reply unsubscribed']],
      ['None + Pending Out+In', 'MUST', 'None + Pending Out', ['deliver unsubscribe to interested', 'forget request', 'reply unsubscribed']],
      ['To', 'S.N.', 'no state change', []],
      ['To + Pending In', 'MUST', 'To', ['deliver unsubscribe to interested', 'forget request', 'reply unsubscribed']],
      ['From', 'MUST', 'None', ['deliver unsubscribe to interested', 'push none', 'presence unavailable', 'reply unsubscribed']],
      ['From + Pending Out', 'MUST', 'None + Pending Out', ['deliver unsubscribe to interested', 'push none+ask', 'presence unavailable', 'reply unsubscribed']],
      ['Both', 'MUST', 'To', ['deliver unsubscribe to interested', 'push to', 'presence unavailable', 'reply unsubscribed']],
    ],
  },
  {
    section: 'A.3.3',
    name: 'Subscribed',
    event: 'IN_SUBSCRIBED', // §3.1.6: deliver first, then push
    lines: [
      ['None', 'S.N.', 'no state change', []],
      ['None + Pending Out', 'MUST', 'To', ['deliver subscribed to interested', 'push to']],
      ['None + Pending In', 'S.N.', 'no state change', []],
      ['None + Pending Out+In', 'MUST', 'To + Pending In', ['deliver subscribed to interested', 'push to']],
      ['To', 'S.N.', 'no state change', []],
      ['To + Pending In', 'S.N.', 'no state change', []],
      ['From', 'S.N.', 'no state change', []],
      ['From + Pending Out', 'MUST', 'Both', ['deliver subscribed to interested', 'push both']],
      ['Both', 'S.N.', 'no state change', []],
    ],
  },
  {
    section: 'A.3.4',
    name: 'Unsubscribed',
    event: 'IN_UNSUBSCRIBED', // §3.2.3: deliver first, then push
    lines: [
      ['None', 'S.N.', 'no state change', []],
      ['None + Pending Out', 'MUST', 'None', ['deliver unsubscribed to interested', 'push none']],
      ['None + Pending In', 'S.N.', 'no state change', []],
      ['None + Pending Out+In', 'MUST', 'None + Pending In', ['deliver unsubscribed to interested', 'push none']],
      ['To', 'MUST', 'None', ['deliver unsubscribed to interested', 'push none']],
      ['To + Pending In', 'MUST', 'None + Pending In', ['deliver unsubscribed to interested', 'push none']],
      ['From', 'S.N.', 'no state change', []],
      ['From + Pending Out', 'MUST', 'From', ['deliver unsubscribed to interested', 'push from']],
      ['Both', 'MUST', 'From', ['deliver unsubscribed to interested', 'push from']],
    ],
  },
];

const rows = (tables: readonly TableSpec[]) =>
  tables.flatMap((t) =>
    t.lines.map(([existing, req, next, does]) => ({
      title: `${t.section} ${t.name}: "${existing}" → ${next === 'no state change' || next === 'pre-approval' ? next : `"${next}"`}, ${t.section.startsWith('A.2') ? 'route' : 'deliver'} ${req}`,
      t,
      existing,
      req,
      next,
      does,
    })),
  );

function checkRow(r: ReturnType<typeof rows>[number]): void {
  const s = side(ROMEO, JULIET, r.existing);
  const commands = s.step({ type: r.t.event });
  expect(s.state()).toBe(r.next === 'no state change' || r.next === 'pre-approval' ? r.existing : r.next);
  expect(s.approved()).toBe(r.next === 'pre-approval');
  expect(words(commands)).toEqual(r.does);
  // The ROUTE? / DELIVER? column: the stanza itself goes on exactly on MUST.
  const presence = r.t.name.toLowerCase();
  const passedOn = commands.some((c) =>
    r.t.event.startsWith('OUT_') ? c.type === 'route' && !c.onBehalf && c.presence === presence : c.type === 'deliver' && c.presence === presence,
  );
  expect(passedOn).toBe(r.req === 'MUST');
}

describe('RFC 6121 §A.2 outbound subscription stanzas at the user\'s server, Tables 2-5', () => {
  for (const r of rows(A2)) it(`${r.title}`, () => checkRow(r));
});

describe('RFC 6121 §A.3 inbound subscription stanzas at the user\'s server, Tables 6-9', () => {
  for (const r of rows(A3)) it(`${r.title}`, () => checkRow(r));
});

describe('RFC 6121 §A.2, §A.3 the machine\'s tables', () => {
  it('say row for row what the appendix says (ROUTE? / DELIVER?, NEW STATE), Tables 2-9', () => {
    for (const [tables, machine] of [
      [A2, OUTBOUND],
      [A3, INBOUND],
    ] as const) {
      for (const t of tables) {
        const table = machine[t.name.toLowerCase() as keyof typeof machine];
        expect(table.section).toBe(`§${t.section}`);
        expect(Object.keys(table.rows)).toEqual(t.lines.map((l) => l[0]));
        for (const [existing, req, next] of t.lines) expect(table.rows[existing], `${t.section} "${existing}"`).toEqual({ requirement: req, newState: next });
      }
    }
  });

  it('stamp every routed stanza with the user\'s bare JID and address the contact\'s; deliveries and pushes go to the user (§3, §2.1.6)', () => {
    for (const t of [...A2, ...A3]) {
      for (const [existing] of t.lines) {
        for (const c of side(ROMEO, JULIET, existing).step({ type: t.event })) {
          if (c.type === 'route' || c.type === 'sendPresence') expect([c.from, c.to]).toEqual([ROMEO, JULIET]);
          if (c.type === 'deliver' || c.type === 'forgetRequest') expect([c.from, c.to]).toEqual([JULIET, ROMEO]);
          if (c.type === 'rosterPush') expect([c.to, c.item.jid]).toEqual([ROMEO, JULIET]);
        }
      }
    }
  });
});
