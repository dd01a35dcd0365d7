/**
 * The IQ requests the server answers itself: the one place where "what does the server say
 * to this get/set" is decided (RFC 6120 §10.3.3, §10.5.1, §10.5.3.2). Pure: the router
 * (router.ts) works out *who* is asked — the server's domain, or an account's bare JID on its
 * behalf — and turns the answer into a stanza; this module only picks the answer.
 *
 * What everyday clients (profanity, poezio, aioxmpp, Gajim) ask right after binding, answered
 * as Prosody does:
 * - RFC 6121 §2 roster get and set → the user's stored roster (roster.ts; the router pushes
 *   changes to the interested resources);
 * - RFC 3921 §3 session establishment (kept as a no-op by RFC 6121 Appendix E and
 *   draft-cridland-xmpp-session) → an empty result;
 * - XEP-0030 disco#info / disco#items on the domain and on a bare JID of ours (the user's own,
 *   or another account's under the XEP-0030 §8 rules, below);
 * - XEP-0199 ping.
 * Anything else is `<service-unavailable/>` (RFC 6120 §8.4, §10.3.3 rule 2).
 */
import type { StanzaErrorCondition } from '../../machines/conditions.js';
import { NS } from '../../machines/ns.js';
import { attr, el, type XmlElement } from '../../machines/xml.js';
import { rosterRequest, type RosterAccess, type RosterLimits, type RosterOutcome } from './roster.js';

/** Namespaces answered here beyond machines/ns.ts (kept local: machines/ is edited elsewhere). */
export const IQ_NS = {
  /** RFC 6121 §2.1 roster management. */
  ROSTER: 'jabber:iq:roster',
  /** RFC 3921 §3 session establishment (draft-cridland-xmpp-session: optional). */
  SESSION: 'urn:ietf:params:xml:ns:xmpp-session',
  /** XEP-0030 Service Discovery (items). */
  DISCO_ITEMS: 'http://jabber.org/protocol/disco#items',
} as const;

/**
 * XEP-0030 features of the server's domain: what `answerIq` really answers (for the roster:
 * the user's own, RFC 6121 §2.1.3, the one a client asks the server for). Roster versioning is
 * not among them: RFC 6121 §2.6.1 advertises it as a stream feature (startup.ts), not here.
 */
export const SERVER_FEATURES = [NS.DISCO_INFO, IQ_NS.DISCO_ITEMS, NS.PING, IQ_NS.ROSTER, IQ_NS.SESSION] as const;

/** XEP-0030 features of an account's bare JID, answered by the server for the user itself. */
export const ACCOUNT_FEATURES = [NS.DISCO_INFO, IQ_NS.DISCO_ITEMS, NS.PING] as const;

/**
 * XEP-0030 features of an account's bare JID as another entity sees them: only what the server
 * answers there for others (disco#info, disco#items; a ping to another account's bare JID is
 * <service-unavailable/>, so ping is not claimed).
 */
export const CONTACT_FEATURES = [NS.DISCO_INFO, IQ_NS.DISCO_ITEMS] as const;

/** Who the IQ is addressed to, as the router resolved it. */
export type IqTarget =
  /** §10.5.1: the server's own domain. */
  | { readonly kind: 'server' }
  /**
   * §10.3.3 (no 'to') / §10.5.3.2 (a local bare JID): the server answers for the account.
   * `self`: the sender is that account (no 'to', or 'to' its own bare JID).
   * `presenceAuthorized` (another account only): the account exists and the sender may receive
   * its presence (XEP-0030 §8 rule 1.2), see presenceAuthorized().
   */
  | { readonly kind: 'account'; readonly self: boolean; readonly presenceAuthorized?: boolean };

/**
 * What the server answers: a result (with its payload, if any) or a stanza error. A roster
 * result also says what follows it (RFC 6121 §2.2 interest, §2.1.6 push, §2.5.2 side effects).
 */
export type IqAnswer =
  | { readonly kind: 'result'; readonly payload?: XmlElement; readonly roster?: Omit<Extract<RosterOutcome, { kind: 'result' }>, 'kind' | 'payload'> }
  | { readonly kind: 'error'; readonly condition: StanzaErrorCondition };

/** RFC 6121 §2: the account's roster, for a roster IQ the account sends itself. */
export interface AccountRoster {
  /** The account's localpart (the store's user name). */
  readonly username: string;
  readonly store: RosterAccess;
  readonly limits?: RosterLimits;
}

const result = (payload?: XmlElement): IqAnswer => (payload === undefined ? { kind: 'result' } : { kind: 'result', payload });
const error = (condition: StanzaErrorCondition): IqAnswer => ({ kind: 'error', condition });
const is = (payload: XmlElement, name: string, xmlns: string) => payload.name === name && payload.xmlns === xmlns;

/**
 * The answer to an IQ get/set (results and errors never reach here: §8.2.3, §10.3.3 rule 3)
 * whose single payload (§8.2.3, checked by the router) is `payload`; `roster`: the sender's own
 * roster, given by the router when the account asks itself.
 */
export function answerIq(type: 'get' | 'set', payload: XmlElement, target: IqTarget, roster?: AccountRoster): IqAnswer {
  if (is(payload, 'query', IQ_NS.ROSTER)) return rosterIq(type, payload, target, roster);
  if (target.kind === 'account' && !target.self) return contactIq(type, payload, target.presenceAuthorized === true);
  // XEP-0199 §4.3 client-to-server ping (to the domain, or to the server on the account's behalf): an empty result.
  if (type === 'get' && is(payload, 'ping', NS.PING)) return result();
  // RFC 3921 §3: a session request is answered with an empty result. Since RFC 6121 the session
  // is established by binding (Appendix E); the request is a no-op kept for older clients,
  // which may address it to the domain (RFC 3921 example) or send it without 'to'.
  if (type === 'set' && is(payload, 'session', IQ_NS.SESSION)) return result();
  if (type === 'get' && is(payload, 'query', NS.DISCO_INFO)) {
    // XEP-0030 §3.1: we publish no nodes; a request for one is item-not-found.
    if (attr(payload, 'node') !== undefined) return error('item-not-found');
    const identity =
      target.kind === 'server'
        ? el('identity', NS.DISCO_INFO, { category: 'server', type: 'im', name: 'xmpp-statekit' })
        : el('identity', NS.DISCO_INFO, { category: 'account', type: 'registered' }); // XEP-0030 registry
    const features = (target.kind === 'server' ? SERVER_FEATURES : ACCOUNT_FEATURES).map((v) =>
      el('feature', NS.DISCO_INFO, { var: v }),
    );
    return result(el('query', NS.DISCO_INFO, {}, identity, ...features));
  }
  if (type === 'get' && is(payload, 'query', IQ_NS.DISCO_ITEMS)) {
    // XEP-0030 §4.1: no items (no components, no nodes) — an empty result; a node is item-not-found.
    if (attr(payload, 'node') !== undefined) return error('item-not-found');
    return result(el('query', IQ_NS.DISCO_ITEMS));
  }
  return error('service-unavailable'); // RFC 6120 §8.4 / §10.3.3 rule 2: a payload we do not understand
}

/**
 * An IQ to another account's bare JID, answered by the server on its behalf (RFC 6120
 * §10.5.3.2; XEP-0030 §3.1: the server "MUST reply on behalf of the hosted account"). XEP-0030
 * §8 guards it against directory harvesting:
 * - disco#info: <service-unavailable/> when the account does not exist or the sender is not
 *   authorized to receive its presence (rule 1); otherwise identity account/registered (§3.1)
 *   and CONTACT_FEATURES. A node on an existing account's JID is item-not-found (we publish
 *   none), which tells the authorized sender nothing it may not know.
 * - disco#items: an empty result for everyone, node or not. Rule 2 makes it MUST for absent
 *   accounts and unauthorized senders; for an authorized one §4.1 says the items SHOULD include
 *   the available resources. Choice: empty there too, since the sender learns those resources
 *   from their presence anyway and one answer for all reveals nothing.
 * - everything else: the <service-unavailable/> an absent account gives (RFC 6120 §10.2, §8.4).
 */
function contactIq(type: 'get' | 'set', payload: XmlElement, authorized: boolean): IqAnswer {
  if (type === 'get' && is(payload, 'query', IQ_NS.DISCO_ITEMS)) return result(el('query', IQ_NS.DISCO_ITEMS));
  if (type === 'get' && is(payload, 'query', NS.DISCO_INFO) && authorized) {
    if (attr(payload, 'node') !== undefined) return error('item-not-found');
    const identity = el('identity', NS.DISCO_INFO, { category: 'account', type: 'registered' });
    return result(el('query', NS.DISCO_INFO, {}, identity, ...CONTACT_FEATURES.map((v) => el('feature', NS.DISCO_INFO, { var: v }))));
  }
  return error('service-unavailable');
}

/**
 * XEP-0030 §8 rule 1.2: may `requesterBare` receive the presence of the local account `localpart`,
 * "via a presence subscription of type 'both' or 'from'"? Read as the account's roster item for
 * the requester having 'from' or 'both' (the requester is subscribed to the account: RFC 6121
 * §2.1.2.5), as Prosody reads it. False for an absent account or a host without rosters.
 */
export function presenceAuthorized(exists: boolean, store: RosterAccess | undefined, localpart: string, requesterBare: string): boolean {
  if (!exists || store === undefined) return false;
  const item = store.get(localpart).items.find((i) => i.jid === requesterBare);
  return item !== undefined && (item.subscription === 'from' || item.subscription === 'both');
}

/**
 * RFC 6121 §2 roster IQs.
 *
 * - Only the user may read or change its roster. RFC 6121 §2.3.3 (also applied to updates by
 *   §2.4.3 and to deletes by §2.5.3): "The server MUST return a <forbidden/> stanza error to the
 *   client if the sender of the roster set is not authorized to update the roster (where
 *   typically only an authenticated resource of the account itself is authorized)". The RFC has
 *   no such sentence for a roster get, but a roster is just as private to read (§2.1.3 defines
 *   the get as "sent from client to server" about the user's own roster), so a get to another
 *   account's bare JID is refused the same way. (The 'from' rule of §2.1.6 — a client MUST
 *   ignore a roster push whose 'from' is not its own bare JID — is the client's side of the
 *   same rule and does not apply to the server.) Openfire answers the same way. The router asks
 *   us before it checks that the account exists, so an absent account gets the same
 *   <forbidden/>: the answer does not reveal which accounts exist (RFC 6120 §10.2, §13.11).
 * - Roster to the server's domain: not a roster of anyone → <service-unavailable/> (as Prosody,
 *   which serves rosters for the user's own JID only).
 * - Get or set from the user (no 'to', or to its own bare JID): RFC 6121 §2.2 - §2.6, decided in
 *   roster.ts against the stored roster (the server always has one). A host that keeps no
 *   rosters (the simulator) passes none and gets RFC 6121 §2.2's answer for a server that does
 *   not support the roster namespace, <service-unavailable/>.
 */
function rosterIq(type: 'get' | 'set', query: XmlElement, target: IqTarget, roster: AccountRoster | undefined): IqAnswer {
  if (target.kind === 'server') return error('service-unavailable');
  if (!target.self) return error('forbidden');
  if (roster === undefined) return error('service-unavailable');
  const outcome = rosterRequest(type, query, roster.username, roster.store, roster.limits);
  if (outcome.kind === 'error') return outcome;
  const { kind: _kind, payload, ...then } = outcome;
  return { kind: 'result', ...(payload !== undefined ? { payload } : {}), roster: then };
}
