/**
 * RFC 6121 Appendix A.2 and A.3, Tables 2-9, as data: for each subscription stanza and each
 * existing state, whether the user's server routes (outbound) or delivers (inbound) it, and
 * the new state. Rows in the RFC's order and words ("no state change", "pre-approval"), so
 * this file can be read against the appendix line by line. ./machine.ts builds one transition
 * per row from these and adds what §3 says the server does besides (roster pushes, auto-replies,
 * presence); the footnotes are implemented there, where they are cited.
 */
import type { SubscriptionState } from './states.js';

/** "S.N." stands for SHOULD NOT and "M.N." for MUST NOT (§A.2, §A.3). */
export type Requirement = 'MUST' | 'S.N.' | 'M.N.';

export type NewState = SubscriptionState | 'no state change' | 'pre-approval';

export interface Row {
  /** ROUTE? (outbound, §A.2) or DELIVER? (inbound, §A.3). */
  readonly requirement: Requirement;
  readonly newState: NewState;
}

export type SubscriptionStanza = 'subscribe' | 'unsubscribe' | 'subscribed' | 'unsubscribed';

export interface Table {
  /** '§A.2.1' */
  readonly section: string;
  /** 'Table 2' */
  readonly table: string;
  readonly rows: Readonly<Record<SubscriptionState, Row>>;
}

const r = (requirement: Requirement, newState: NewState): Row => ({ requirement, newState });

/** §A.2: stanzas from the user's client, about the user's subscription to the contact (subscribe, unsubscribe) or the contact's to the user (subscribed, unsubscribed). */
export const OUTBOUND: Readonly<Record<SubscriptionStanza, Table>> = {
  subscribe: {
    section: '§A.2.1',
    table: 'Table 2',
    rows: {
      None: r('MUST', 'None + Pending Out'), // [1] sets ask='subscribe'
      'None + Pending Out': r('MUST', 'no state change'),
      'None + Pending In': r('MUST', 'None + Pending Out+In'), // [1]
      'None + Pending Out+In': r('MUST', 'no state change'),
      To: r('MUST', 'no state change'),
      'To + Pending In': r('MUST', 'no state change'),
      From: r('MUST', 'From + Pending Out'), // [1]
      'From + Pending Out': r('MUST', 'no state change'),
      Both: r('MUST', 'no state change'),
    },
  },
  unsubscribe: {
    section: '§A.2.2',
    table: 'Table 3',
    rows: {
      None: r('MUST', 'no state change'),
      'None + Pending Out': r('MUST', 'None'),
      'None + Pending In': r('MUST', 'no state change'),
      'None + Pending Out+In': r('MUST', 'None + Pending In'),
      To: r('MUST', 'None'),
      'To + Pending In': r('MUST', 'None + Pending In'),
      From: r('MUST', 'no state change'),
      'From + Pending Out': r('MUST', 'From'),
      Both: r('MUST', 'From'),
    },
  },
  subscribed: {
    section: '§A.2.3',
    table: 'Table 4',
    rows: {
      None: r('M.N.', 'pre-approval'), // [1] §3.4
      'None + Pending Out': r('M.N.', 'pre-approval'),
      'None + Pending In': r('MUST', 'From'),
      'None + Pending Out+In': r('MUST', 'From + Pending Out'),
      To: r('M.N.', 'pre-approval'),
      'To + Pending In': r('MUST', 'Both'),
      From: r('M.N.', 'no state change'),
      'From + Pending Out': r('M.N.', 'no state change'),
      Both: r('M.N.', 'no state change'),
    },
  },
  unsubscribed: {
    section: '§A.2.4',
    table: 'Table 5',
    rows: {
      None: r('S.N.', 'no state change'), // [1] can cancel a pre-approval, §3.4
      'None + Pending Out': r('S.N.', 'no state change'), // [1]
      'None + Pending In': r('MUST', 'None'),
      'None + Pending Out+In': r('MUST', 'None + Pending Out'),
      To: r('S.N.', 'no state change'), // [1]
      'To + Pending In': r('MUST', 'To'),
      From: r('MUST', 'None'),
      'From + Pending Out': r('MUST', 'None + Pending Out'),
      Both: r('MUST', 'To'),
    },
  },
};

/** §A.3: stanzas from the contact (via its server) to the user. */
export const INBOUND: Readonly<Record<SubscriptionStanza, Table>> = {
  subscribe: {
    section: '§A.3.1',
    table: 'Table 6',
    rows: {
      None: r('MUST', 'None + Pending In'), // [1] pre-approved: MAY auto-reply and go to "From"
      'None + Pending Out': r('MUST', 'None + Pending Out+In'),
      'None + Pending In': r('S.N.', 'no state change'),
      'None + Pending Out+In': r('S.N.', 'no state change'),
      To: r('MUST', 'To + Pending In'),
      'To + Pending In': r('S.N.', 'no state change'),
      From: r('S.N.', 'no state change'), // [2] SHOULD auto-reply "subscribed"
      'From + Pending Out': r('S.N.', 'no state change'), // [2]
      Both: r('S.N.', 'no state change'), // [2]
    },
  },
  unsubscribe: {
    section: '§A.3.2',
    table: 'Table 7',
    rows: {
      None: r('S.N.', 'no state change'),
      'None + Pending Out': r('S.N.', 'no state change'),
      'None + Pending In': r('MUST', 'None'), // [1] SHOULD auto-reply "unsubscribed"
      'None + Pending Out+In': r('MUST', 'None + Pending Out'), // [1]
      To: r('S.N.', 'no state change'),
      'To + Pending In': r('MUST', 'To'), // [1]
      From: r('MUST', 'None'), // [1]
      'From + Pending Out': r('MUST', 'None + Pending Out'), // [1]
      Both: r('MUST', 'To'), // [1]
    },
  },
  subscribed: {
    section: '§A.3.3',
    table: 'Table 8',
    rows: {
      None: r('S.N.', 'no state change'),
      'None + Pending Out': r('MUST', 'To'),
      'None + Pending In': r('S.N.', 'no state change'),
      'None + Pending Out+In': r('MUST', 'To + Pending In'),
      To: r('S.N.', 'no state change'),
      'To + Pending In': r('S.N.', 'no state change'),
      From: r('S.N.', 'no state change'),
      'From + Pending Out': r('MUST', 'Both'),
      Both: r('S.N.', 'no state change'),
    },
  },
  unsubscribed: {
    section: '§A.3.4',
    table: 'Table 9',
    rows: {
      None: r('S.N.', 'no state change'),
      'None + Pending Out': r('MUST', 'None'),
      'None + Pending In': r('S.N.', 'no state change'),
      'None + Pending Out+In': r('MUST', 'None + Pending In'),
      To: r('MUST', 'None'),
      'To + Pending In': r('MUST', 'None + Pending In'),
      From: r('S.N.', 'no state change'),
      'From + Pending Out': r('MUST', 'From'),
      Both: r('MUST', 'From'),
    },
  },
};
