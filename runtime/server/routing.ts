/**
 * The server's side of §10 routing: the pure decision of ./router.ts applied to the live
 * sessions, in order, while the sender's stanza is being handled (§10.1).
 */
import { stanzaErrorReply } from '../../machines/conditions.js';
import { childElements, type XmlElement } from '../../machines/xml.js';
import type { AccountStore } from '../store/accounts.js';
import type { RosterStore } from '../store/roster.js';
import type { Logger } from './logger.js';
import type { RegisteredSession, SessionRegistry } from './registry.js';
import { presenceSessionChange, route, type Delivery, type RouterView } from './router.js';

export function stanzaRouter(
  domain: string,
  accounts: AccountStore,
  rosters: RosterStore,
  registry: SessionRegistry,
  logger: Logger,
): (stanza: XmlElement, from: RegisteredSession) => void {
  // Built once: a literal per stanza would allocate the object and its closures every time.
  const view: RouterView = {
    domain,
    accountExists: (local) => accounts.exists(local),
    resources: (bareJid) => registry.resources(bareJid),
    hasPresenceSession: (full) => registry.get(full)?.presence ?? false,
    roster: {
      store: rosters,
      isInterested: (full) => registry.get(full)?.rosterInterested ?? false,
      requested: (full) => {
        const session = registry.get(full);
        if (session !== undefined) session.rosterInterested = true;
      },
    },
  };
  const routeStanza = (stanza: XmlElement, from: RegisteredSession): void => {
    const presence = presenceSessionChange(stanza);
    if (presence !== undefined) from.presence = presence;
    let deliveries: Delivery[];
    try {
      deliveries = route(stanza, view, from.jid);
    } catch (err) {
      // The store failed: §8.3.3.6 internal-server-error, so that an IQ is still answered (§8.2.3).
      logger.error('route.failed', { error: err instanceof Error ? err.message : String(err) });
      const type = stanza.attrs['type'];
      deliveries = type === 'error' || type === 'result' ? [] : [{ to: from.jid, stanza: stanzaErrorReply(stanza, 'internal-server-error') }];
    }
    if (logger.enabled?.('debug') ?? true) {
      logger.debug('stanza.routed', { kind: stanza.name, from: stanza.attrs['from'], to: stanza.attrs['to'], deliveries: deliveries.length });
    }
    // What clients ask for that the server refuses (e.g. an IQ payload it does not support):
    // one info record each, so an operator sees what real clients miss.
    const refused = deliveries.find((d) => d.to === from.jid && d.stanza.attrs['type'] === 'error' && d.stanza !== stanza);
    if (refused !== undefined && stanza.attrs['type'] !== 'error') {
      const payload = stanza.name === 'iq' ? childElements(stanza)[0] : undefined;
      const error = childElements(refused.stanza).find((c) => c.name === 'error');
      logger.info('stanza.refused', {
        kind: stanza.name,
        type: stanza.attrs['type'],
        to: stanza.attrs['to'],
        payload: payload && `{${payload.xmlns}}${payload.name}`,
        condition: error && childElements(error)[0]?.name,
      });
    }
    // §10.1: performed now, in order, while the sender's stanza is being handled.
    for (const d of deliveries) registry.get(d.to)?.routeIn(d.stanza);
  };
  return routeStanza;
}
