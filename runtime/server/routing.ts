/**
 * The server's side of §10 routing: the pure decision of ./router.ts applied to the live
 * sessions, in order, while the sender's stanza is being handled (§10.1); and the presence
 * the server owes when a stream ends (RFC 6121 §4.5.2), performed the same way.
 */
import { stanzaErrorReply } from '../../machines/conditions.js';
import { childElements, type XmlElement } from '../../machines/xml.js';
import type { AccountStore } from '../store/accounts.js';
import type { OfflineStore } from '../store/offline.js';
import type { RosterStore } from '../store/roster.js';
import type { SubscriptionRequestStore } from '../store/subscription-requests.js';
import type { Logger } from './logger.js';
import { createPresence } from './presence.js';
import type { PresenceHost } from './presence-host.js';
import type { RegisteredSession, SessionRegistry } from './registry.js';
import { route, routeInbound, type Delivery, type RouterView } from './router.js';
import { destinationOf } from './destination.js';
import { parseJid } from '../../machines/jid.js';

export interface RoutingStores {
  readonly accounts: AccountStore;
  readonly rosters: RosterStore;
  readonly requests: SubscriptionRequestStore;
  readonly offline: OfflineStore;
  /** RFC 6121 §8.5.2.2.1: messages kept per account at most. */
  readonly offlineLimit: number;
}

/** §10.4: where stanzas for other domains go (the federation's routes). */
export interface RemoteRoutes {
  /** A stanza 'from' a local address to a remote one; bounced back through `inbound` when it cannot go (§10.4.3). */
  send(stanza: XmlElement): void;
}

export interface StanzaRouting {
  /** §10: route a stamped stanza from the bound session `from`. */
  route(stanza: XmlElement, from: RegisteredSession): void;
  /** §10.5: a stanza a peer server delivered (or a route's bounce), 'from' a remote address, re-scoped to 'jabber:client'. */
  inbound(stanza: XmlElement): void;
  /** RFC 6121 §4.5.2: `session`'s stream ended (or it was replaced): broadcast its unavailable presence. */
  ended(session: RegisteredSession): void;
}

export function stanzaRouter(domain: string, stores: RoutingStores, registry: SessionRegistry, logger: Logger, remote?: RemoteRoutes): StanzaRouting {
  const { accounts, rosters } = stores;
  const isInterested = (full: string) => registry.get(full)?.rosterInterested ?? false;
  const presenceHost: PresenceHost = {
    domain,
    accountExists: (local) => accounts.exists(local),
    resources: (bareJid) => registry.resources(bareJid),
    resource: (full) => registry.get(full)?.resourcePresence,
    isInterested,
    rosters,
    requests: stores.requests,
    offline: { store: stores.offline, limit: stores.offlineLimit },
    // RFC 6121 §4.2.2, §4.3.1: broadcasts and probes for contacts elsewhere go out as deliveries to their address (perform).
    remote: (stanza) => (remote !== undefined && stanza.attrs['to'] !== undefined ? [{ to: stanza.attrs['to'], stanza }] : []),
    now: () => new Date(),
  };
  const engine = createPresence(presenceHost);
  // Built once: a literal per stanza would allocate the object and its closures every time.
  const view: RouterView = {
    domain,
    accountExists: (local) => accounts.exists(local),
    resources: (bareJid) => registry.resources(bareJid),
    hasPresenceSession: (full) => registry.get(full)?.resourcePresence?.available !== undefined,
    roster: {
      store: rosters,
      isInterested,
      requested: (full) => {
        const session = registry.get(full);
        if (session !== undefined) session.rosterInterested = true;
      },
    },
    presence: { engine, host: presenceHost },
    federated: remote !== undefined,
  };
  /**
   * What clients ask for that the server refuses (e.g. an IQ payload it does not support):
   * one info record each, so an operator sees what real clients miss.
   */
  const logRefusal = (stanza: XmlElement, deliveries: readonly Delivery[], from: RegisteredSession): void => {
    const refused = deliveries.find((d) => d.to === from.jid && d.stanza.attrs['type'] === 'error' && d.stanza !== stanza);
    if (refused === undefined || stanza.attrs['type'] === 'error') return;
    const payload = stanza.name === 'iq' ? childElements(stanza)[0] : undefined;
    const error = childElements(refused.stanza).find((c) => c.name === 'error');
    logger.info('stanza.refused', {
      kind: stanza.name,
      type: stanza.attrs['type'],
      to: stanza.attrs['to'],
      payload: payload && `{${payload.xmlns}}${payload.name}`,
      condition: error && childElements(error)[0]?.name,
    });
  };
  /** The router's decision; when the store fails, §8.3.3.6 internal-server-error to `replyTo`, so that an IQ is still answered (§8.2.3). */
  const decide = (compute: () => Delivery[], stanza: XmlElement, replyTo: string | undefined): Delivery[] => {
    try {
      return compute();
    } catch (err) {
      logger.error('route.failed', { error: err instanceof Error ? err.message : String(err) });
      const type = stanza.attrs['type'];
      return type === 'error' || type === 'result' || replyTo === undefined ? [] : [{ to: replyTo, stanza: stanzaErrorReply(stanza, 'internal-server-error') }];
    }
  };
  /**
   * §10.1: performed now, in order, while the sender's stanza is being handled. A delivery to
   * no connected resource of ours is for another domain (the router and presence.ts only
   * address those, destination.ts): it goes to its route (§10.4).
   */
  const perform = (deliveries: Delivery[]): void => {
    for (const d of deliveries) {
      const session = registry.get(d.to);
      if (session !== undefined) session.routeIn(d.stanza);
      else if (remote !== undefined && isRemote(d.to, domain)) remote.send(d.stanza);
    }
  };
  return {
    route(stanza, from) {
      const deliveries = decide(() => route(stanza, view, from.jid), stanza, from.jid);
      if (logger.enabled?.('debug') ?? true) {
        logger.debug('stanza.routed', { kind: stanza.name, from: stanza.attrs['from'], to: stanza.attrs['to'], deliveries: deliveries.length });
      }
      logRefusal(stanza, deliveries, from);
      perform(deliveries);
    },
    inbound(stanza) {
      const deliveries = decide(() => routeInbound(stanza, view), stanza, stanza.attrs['from']);
      if (logger.enabled?.('debug') ?? true) {
        logger.debug('stanza.routed', { kind: stanza.name, from: stanza.attrs['from'], to: stanza.attrs['to'], deliveries: deliveries.length, inbound: true });
      }
      perform(deliveries);
    },
    ended(session) {
      const record = session.resourcePresence;
      if (record === undefined) return;
      try {
        const deliveries = engine.ended(session.jid, record);
        logger.debug('presence.ended', { jid: session.jid, deliveries: deliveries.length });
        perform(deliveries);
      } catch (err) {
        logger.error('presence.ended.failed', { jid: session.jid, error: err instanceof Error ? err.message : String(err) });
      }
    },
  };
}

/** Whether a delivery's address is at another domain (destination.ts); an unparseable one is nobody's. */
function isRemote(address: string, domain: string): boolean {
  const jid = parseJid(address);
  return jid !== undefined && destinationOf(jid, domain) === 'remote';
}
