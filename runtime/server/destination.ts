/**
 * The one place that decides whether an address is served here or elsewhere (RFC 6120 §10.4
 * vs §10.5): its domainpart is this server's domain, or it is not. Every route the server
 * takes (the router, presence broadcasts, subscription stanzas, probes) asks this function, so
 * that a server-to-server route (§10.4, not built yet) plugs in behind the 'remote' answer.
 */
import type { Jid } from '../../machines/jid.js';

export type Destination = 'local' | 'remote';

export function destinationOf(jid: Jid, domain: string): Destination {
  return jid.domain === domain ? 'local' : 'remote';
}
