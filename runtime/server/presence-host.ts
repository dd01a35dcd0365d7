/**
 * What the presence and subscription logic (presence.ts, subscriptions.ts, messages.ts) may
 * ask of the server: the accounts, the connected resources and their presence, the stores.
 * The logic itself is pure over this view: it returns the deliveries to write, in order, and
 * changes only what the view hands it (a resource's presence record, the stores).
 */
import type { XmlElement } from '../../machines/xml.js';
import type { OfflineStore } from '../store/offline.js';
import type { RosterStore } from '../store/roster.js';
import type { SubscriptionRequestStore } from '../store/subscription-requests.js';
import type { Delivery } from './delivery.js';

/** RFC 6121 §4: what the server remembers of one connected resource's presence, for this stream only. */
export interface ResourcePresence {
  /**
   * §4.3.2 rule 4: the last presence without 'to' and without 'type' the resource sent ('from'
   * stamped), while it is available (§4.2 to §4.5); undefined before initial presence and after
   * unavailable: then the resource is connected but not available (RFC 6120 §10.5.3.2).
   */
  available: XmlElement | undefined;
  /** §4.7.2.3: the priority it gave in that presence; 0 when none. */
  priority: number;
  /**
   * §4.6.1: the entities (as addressed, bare or full) that got directed available presence
   * from this resource and no directed unavailable since, subscribers excepted (§4.6.3 rule 1).
   */
  readonly directed: Set<string>;
}

export function newResourcePresence(): ResourcePresence {
  return { available: undefined, priority: 0, directed: new Set() };
}

/** RFC 6121 §8.5.2.2.1 option (a): where offline messages go, and how many an account may hold. */
export interface OfflineView {
  readonly store: OfflineStore;
  readonly limit: number;
}

export interface PresenceHost {
  /** The domain this server serves (RFC 6120 §10.5). */
  readonly domain: string;
  accountExists(localpart: string): boolean;
  /** Full JIDs of the account's connected resources, in bind order. */
  resources(bareJid: string): readonly string[];
  /** The presence record of a connected resource; undefined for anything else. */
  resource(fullJid: string): ResourcePresence | undefined;
  /** RFC 6121 §2.2: has this connected resource requested the roster (an "interested resource")? */
  isInterested(fullJid: string): boolean;
  readonly rosters: Pick<RosterStore, 'get' | 'item' | 'setSubscription'>;
  readonly requests: SubscriptionRequestStore;
  /** Absent: no offline storage (messages for an account with no available resource get `<service-unavailable/>`). */
  readonly offline?: OfflineView;
  /**
   * A stanza the server generated for another domain (a broadcast to a remote contact, a
   * probe, an auto-reply). No server-to-server streams yet: the server's answer is none, and
   * nothing is sent. A remote route plugs in here (destination.ts decides).
   */
  remote(stanza: XmlElement): Delivery[];
  now(): Date;
}
