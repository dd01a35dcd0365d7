/**
 * Stanza routing for the local domain, RFC 6120 §10 (with the error rules of §8.3).
 *
 * Pure: a stanza whose 'from' the stream machine already stamped (§8.1.2.1) goes in, the
 * list of deliveries comes out. What the router needs to know about accounts and sessions
 * comes through `RouterView`; it never touches sockets, so it is unit-tested without any.
 * Deliveries are returned in the order they must be written, and the host performs them
 * synchronously while it handles the sender's stanza, which gives §10.1 in-order delivery:
 * stanzas from one input stream reach each recipient in the order they were received,
 * whether addressed to the bare or to the full JID.
 *
 * Choices where §10 leaves one (each cited where it is made):
 * - no such user and "user exists, nothing connected" answer alike: `<service-unavailable/>`
 *   for messages and IQs, presence dropped (§10.5.3.1 option b, §10.5.3.2 option b), so a
 *   message cannot tell an absent account from an offline one (§10.2 point 2, §13.11);
 * - a full JID that is not connected is handled like the bare JID for messages (§10.5.4),
 *   presence to it is dropped, an IQ to it gets `<service-unavailable/>` — identical for
 *   existing and absent accounts, so no presence leak (§10.2 point 3, §13.10.2);
 * - with `RouterView.presence` (the server): presence, subscriptions and probes go to
 *   presence.ts (RFC 6121 §3, §4), and a message to a bare JID (or to a full JID that is not
 *   connected) to messages.ts (RFC 6121 §8.5.2 priorities, §8.5.3.2.1, offline storage); an
 *   existing account with nothing connected then stores `chat` and `normal` messages rather
 *   than answering `<service-unavailable/>` (RFC 6121 §8.5.2.2.1 (a));
 * - without it (the simulator): a message to a bare JID goes to every connected resource of
 *   the account (§10.5.3.2 asks for "at least one"), and presence without 'to' (§10.3.2) goes
 *   to the account's own resources that have a presence session (see selfBroadcast);
 * - an IQ to a bare JID is answered by the server on the account's behalf (§10.5.3.2) only
 *   when the account asks itself (§10.1 item 1, §10.3.3); from anyone else it gets
 *   `<service-unavailable/>`, the same answer an absent account gives, because without
 *   presence subscriptions (RFC 6121 §3, not here yet) nobody else is entitled to learn that
 *   it exists (§10.2). The one exception, a roster IQ (RFC 6121 §2.3.3 `<forbidden/>`), is
 *   given for existing and absent accounts alike, so it reveals nothing either.
 * - RFC 6121 §2.3.2 roster set: the result to the requesting resource first, then the roster
 *   pushes to every interested resource (§2.2) in bind order, the requester included when it
 *   is one — the order of the §2.3.2 text and examples. A resource is interested once it has
 *   sent a roster get (§2.2: "If a connected resource or available resource requests the
 *   roster"); a roster set alone does not make it one.
 *
 * What the server answers to the IQs it handles itself (ping, disco, roster, session) is
 * decided in one place, server-iq.ts; here only who is asked, how the answer is addressed and
 * who gets the roster pushes that follow it. The router changes no state of its own: what a
 * roster IQ changes (the stored roster, the interested flag) goes through `RouterView.roster`.
 */
import { stanzaErrorReply, type StanzaErrorCondition } from '../../machines/conditions.js';
import { bare, formatJid, parseJid, type Jid } from '../../machines/jid.js';
import { NS } from '../../machines/ns.js';
import { attr, childElements, el, withAttrs, type XmlElement } from '../../machines/xml.js';
import type { Delivery } from './delivery.js';
import { destinationOf } from './destination.js';
import { messageToAccount } from './messages.js';
import type { Presence } from './presence.js';
import type { PresenceHost } from './presence-host.js';
import { rosterPushStanza, type RosterAccess, type RosterLimits } from './roster.js';
import { answerIq, presenceAuthorized, type IqTarget } from './server-iq.js';

/** What the router may ask about the server's state. */
export interface RouterView {
  /** The FQDN this server is authoritative for (§10.5). */
  readonly domain: string;
  /** §10.5.3.1: is there a local account with this (prepared) localpart? */
  accountExists(localpart: string): boolean;
  /** Full JIDs of the account's connected (bound) resources, in bind order. */
  resources(bareJid: string): readonly string[];
  /** §10.5.3.2: has this connected resource sent initial presence (a "presence session")? */
  hasPresenceSession(fullJid: string): boolean;
  /** RFC 6121 §2: the rosters; a host without one answers roster IQs `<service-unavailable/>` (§2.2). */
  readonly roster?: RosterView;
  /**
   * RFC 6121 §3, §4, §8.5: presence subscriptions, presence and priority-based message
   * delivery (presence.ts, messages.ts). A host without it (the simulator) gets the RFC 6120
   * rules alone: presence among the account's own resources, messages to every resource.
   */
  readonly presence?: PresenceRouting;
  /**
   * §10.4: the server has server-to-server routes. A stanza for another domain then becomes a
   * delivery to its address (the host hands it to the route, which bounces it if it cannot
   * go, §10.4.3); without them it gets `<remote-server-not-found/>` at once.
   */
  readonly federated?: boolean;
}

/** The presence logic and its view of the server. */
export interface PresenceRouting {
  readonly engine: Presence;
  readonly host: PresenceHost;
}

/** RFC 6121 §2: the roster store and the interested resources (§2.2). */
export interface RosterView {
  readonly store: RosterAccess;
  /** §2.3.3 server-configured limits (default: roster.ts DEFAULT_ROSTER_LIMITS). */
  readonly limits?: RosterLimits;
  /** §2.2: has this connected resource requested the roster in this session (an "interested resource")? */
  isInterested(fullJid: string): boolean;
  /** §2.2: this connected resource requested the roster; from now on it gets the roster pushes. */
  requested(fullJid: string): void;
}

export type { Delivery } from './delivery.js';

/** XEP-0030 features this server announces (§10.5.1: the server handles stanzas to its domain); see server-iq.ts. */
export { SERVER_FEATURES } from './server-iq.js';

/**
 * parseJid with a one-entry memory: a stream tends to send many stanzas in a row from the
 * same JID to the same JID, and parseJid (RFC 7622 preparation) is a pure function.
 */
function lastParsed(): (text: string) => Jid | undefined {
  let lastText: string | undefined;
  let lastJid: Jid | undefined;
  return (text) => {
    if (text !== lastText) {
      lastJid = parseJid(text);
      lastText = text;
    }
    return lastJid;
  };
}
const parseSender = lastParsed();
const parseTo = lastParsed();

/** §8.2.3: the IQ types. */
const IQ_TYPES = new Set(['get', 'set', 'result', 'error']);

/**
 * Route one stanza from the bound client `sender` (its full JID). `stanza.attrs.from` was
 * stamped by the machine (§8.1.2.1): the same full JID, or the bare JID for subscription
 * presence; errors and results always go back to the full JID of the stream.
 */
export function route(stanza: XmlElement, view: RouterView, sender: string = attr(stanza, 'from') ?? ''): Delivery[] {
  const senderJid = parseSender(sender);
  if (senderJid === undefined) return []; // cannot happen for a bound stream; nothing to answer to
  const senderFull = formatJid(senderJid);
  const senderBare = formatJid(bare(senderJid));
  const r = new Routing(stanza, senderFull, senderBare, senderJid.local ?? '', view);

  // §8.2.3: an IQ of no known type cannot be processed; a get/set that is not exactly one payload is malformed.
  if (stanza.name === 'iq') {
    const type = attr(stanza, 'type');
    if (type === undefined || !IQ_TYPES.has(type)) return r.fail('bad-request', view.domain);
    if ((type === 'get' || type === 'set') && (childElements(stanza).length !== 1 || attr(stanza, 'id') === undefined)) {
      return r.fail('bad-request', view.domain);
    }
  }

  const toText = attr(stanza, 'to');
  if (toText === undefined) {
    // §10.3: no 'to': handled on behalf of the sending account.
    if (stanza.name === 'message') return toAccount(r, bare(senderJid), senderBare); // §10.3.1
    if (stanza.name === 'presence') return view.presence ? view.presence.engine.fromClient(stanza, senderFull) : selfBroadcast(r, senderBare); // §10.3.2, RFC 6121 §4
    return r.accountIq(senderBare); // §10.3.3
  }

  const to = parseTo(toText);
  // §8.3.3.8 jid-malformed; §8.3.1 rule 2: the error's 'from' must not be the malformed JID, so it is our domain.
  if (to === undefined) return r.fail('jid-malformed', view.domain);
  // §10.4: another domain. Without server-to-server routes, resolution "fails" (§10.4.3).
  if (destinationOf(to, view.domain) === 'remote') {
    if (!view.federated) return r.fail('remote-server-not-found');
    // RFC 6121 §3.1.2, §4.6: the user's own subscription and directed-presence bookkeeping first; it routes the stanza on.
    if (stanza.name === 'presence' && view.presence) return view.presence.engine.fromClient(stanza, senderFull);
    return [{ to: toText, stanza }];
  }
  // §10.5.1 / §10.5.2: the server itself (domain, or domain/resource where no service lives).
  if (to.local === undefined) return to.resource === undefined ? r.serverStanza() : r.fail('service-unavailable');
  // RFC 6121 §3, §4.6, §4.3: subscriptions, directed presence and probes to a local account.
  if (stanza.name === 'presence' && view.presence) return view.presence.engine.fromClient(stanza, senderFull);
  return toAccount(r, to, senderBare);
}

/**
 * §10.5: a stanza a peer server delivered on an authenticated stream ('from' at the remote
 * domain, 'to' at ours, both checked by the stream machine, §8.1.1.2, §8.1.2.2), re-scoped to
 * 'jabber:client' (§4.8.3). Presence is inbound presence for a local account (RFC 6121 §3, §4,
 * §8.5); messages and IQs follow the same §10.5 rules as a local sender's, with the sender's
 * address at the remote domain (errors and results go back there).
 */
export function routeInbound(stanza: XmlElement, view: RouterView): Delivery[] {
  if (stanza.name === 'presence' && view.presence) return view.presence.engine.routeTo(stanza);
  return route(stanza, view);
}

/**
 * §10.3.2: presence without 'to' is broadcast to the entities subscribed to the sender. With
 * no presence subscriptions yet (RFC 6121 §3; rosters store the state, nothing sets it) the only
 * such entity is the account itself: its
 * resources that have a presence session get it (RFC 6121 §4.2.2 and §4.5.2 do the same for
 * the user's own resources; the sender's flag was updated before routing, so available
 * presence comes back to the sender and unavailable presence goes to the others only).
 * Other presence types without 'to' (subscription management, probes) concern subscriptions: none yet.
 */
function selfBroadcast(r: Routing, senderBare: string): Delivery[] {
  const type = attr(r.stanza, 'type');
  if (type !== undefined && type !== 'unavailable') return [];
  return r.view
    .resources(senderBare)
    .filter((full) => r.view.hasPresenceSession(full))
    .map((full) => ({ to: full, stanza: r.stanza }));
}

/** §10.5.3 / §10.5.4: to an address at a local account. */
function toAccount(r: Routing, to: Jid, senderBare: string): Delivery[] {
  const { view, stanza } = r;
  const bareTo = formatJid(bare(to));
  const kind = stanza.name;
  // §10.5.3.2: an IQ to another account's bare JID is answered by the server (see header), before
  // the existence check so that existing and absent accounts get the same answer (§10.2).
  if (kind === 'iq' && to.resource === undefined && bareTo !== senderBare) {
    // XEP-0030 §8: what another entity may learn of the account depends on its presence authorization.
    return r.accountIq(bareTo, false, presenceAuthorized(view.accountExists(to.local!), view.roster?.store, to.local!, senderBare));
  }
  // §10.5.3.1 no such user. Same answers as for an existing account with nothing connected (see below).
  if (!view.accountExists(to.local!)) return kind === 'presence' ? [] : r.fail('service-unavailable');

  if (to.resource !== undefined) {
    const full = formatJid(to);
    // §10.5.4: a connected resource that exactly matches: deliver there (any kind, results and errors too).
    if (view.resources(bareTo).includes(full)) return [{ to: full, stanza }];
    // §10.5.4: no exact match. Message: as if to the bare JID. Presence: dropped. IQ: service-unavailable.
    if (kind === 'presence') return [];
    if (kind === 'iq') return r.fail('service-unavailable');
  }

  const resources = view.resources(bareTo);
  // RFC 6121 §8.5.2 / §8.5.3.2.1: by type and priority, offline storage (messages.ts).
  if (kind === 'message' && view.presence) return messageToAccount(stanza, to, r.senderFull, view.presence.host, (c) => r.fail(c));
  if (kind === 'message') {
    // §10.5.3.2: deliver to the connected resources; none → service-unavailable (option b, no offline storage).
    return resources.length > 0 ? resources.map((full) => ({ to: full, stanza })) : r.fail('service-unavailable');
  }
  if (kind === 'presence') {
    // §10.5.3.2: to the resources with a presence session; otherwise ignored.
    return resources.filter((full) => view.hasPresenceSession(full)).map((full) => ({ to: full, stanza }));
  }
  // §10.5.3.2: "handle it directly on behalf of the intended recipient" — here the account itself (others: above).
  return r.accountIq(bareTo);
}

/** One stanza's routing: the error replies and the server's own IQ handling. */
class Routing {
  constructor(
    readonly stanza: XmlElement,
    readonly senderFull: string,
    private readonly senderBare: string,
    /** The sending account's localpart (bound clients always have one). */
    private readonly senderLocal: string,
    readonly view: RouterView,
  ) {}

  /**
   * An error back to the sender (§8.3.1). Never in answer to an error (§8.3.1, "never answer an
   * error with an error"); for an IQ result, whose sender expects no reply, nothing either
   * (§8.2.3: results are not answered; §10.3.3 rule 3 ignores unmatched ones).
   */
  fail(condition: StanzaErrorCondition, from?: string): Delivery[] {
    const type = attr(this.stanza, 'type');
    if (type === 'error' || (this.stanza.name === 'iq' && type === 'result')) return [];
    let reply = stanzaErrorReply(this.stanza, condition, from !== undefined ? { from } : {});
    // §8.3.1 rule 3: an IQ error always has an 'id' (empty when the request had none).
    if (this.stanza.name === 'iq' && attr(this.stanza, 'id') === undefined) reply = withAttrs(reply, { id: '' });
    return [{ to: this.senderFull, stanza: reply }];
  }

  private reply(from: string | undefined, ...payload: XmlElement[]): Delivery[] {
    const result = el('iq', NS.CLIENT, { id: attr(this.stanza, 'id'), to: this.senderFull, from, type: 'result' }, ...payload);
    return [{ to: this.senderFull, stanza: result }];
  }

  /** §10.5.1: a stanza to the server's domain. */
  serverStanza(): Delivery[] {
    const kind = this.stanza.name;
    if (kind === 'presence') return []; // directed presence to the server: nothing to do with it
    if (kind === 'message') return this.fail('service-unavailable'); // §10.5.1 (b): the server takes no messages
    // §10.3.3 rule 3 for results/errors (our own pings are consumed by the machine).
    return this.answer({ kind: 'server' }, this.view.domain);
  }

  /**
   * §10.3.3 / §10.5.3.2: an IQ handled for the account `bareJid`, answering as that bare JID
   * (§10.3.3 rule 1: "responding as if the server were the bare JID of the sending entity");
   * `self`: asked by the account itself.
   */
  accountIq(bareJid: string, self = true, presenceAuthorized = false): Delivery[] {
    return this.answer(self ? { kind: 'account', self } : { kind: 'account', self, presenceAuthorized }, attr(this.stanza, 'to') === undefined ? undefined : bareJid);
  }

  /**
   * The answer of server-iq.ts, as a result from `from` or an error (§8.3.1); nothing for results
   * and errors. For a roster IQ the account sends itself, what follows the result (RFC 6121 §2.2
   * interest, §2.1.6 pushes) is carried out here.
   */
  private answer(target: IqTarget, from: string | undefined): Delivery[] {
    const type = attr(this.stanza, 'type');
    if (type !== 'get' && type !== 'set') return []; // §10.3.3 rule 3: no associated request
    const roster = this.view.roster;
    const own = target.kind === 'account' && target.self && roster !== undefined;
    const account = own ? { username: this.senderLocal, store: roster.store, ...(roster.limits ? { limits: roster.limits } : {}) } : undefined;
    const answer = answerIq(type, childElements(this.stanza)[0]!, target, account);
    if (answer.kind === 'error') return this.fail(answer.condition);
    const result = el('iq', NS.CLIENT, { id: attr(this.stanza, 'id'), to: this.senderFull, from, type: 'result' }, answer.payload);
    const out: Delivery[] = [{ to: this.senderFull, stanza: result }];
    if (answer.roster === undefined || roster === undefined) return out;
    // RFC 6121 §2.2: the requester is an interested resource from now on.
    if (answer.roster.interested) roster.requested(this.senderFull);
    // RFC 6121 §2.6.3: interim pushes follow the empty result, to the requester alone.
    for (const interim of answer.roster.interimPushes ?? []) {
      out.push({ to: this.senderFull, stanza: rosterPushStanza(interim, this.senderFull, attr(this.stanza, 'id')) });
    }
    // RFC 6121 §2.3.2 / §2.4.2 / §2.5.2: after the result, a push to every interested resource.
    const push = answer.roster.push;
    if (push !== undefined) {
      for (const full of this.view.resources(this.senderBare)) {
        if (roster.isInterested(full)) out.push({ to: full, stanza: rosterPushStanza(push, full) });
      }
    }
    // RFC 6121 §2.5.2 hook: answer.roster.subscriptionEffects (unsubscribe / unsubscribed to the
    // removed contact) are for the presence-subscription logic (RFC 6121 §3), not sent here yet.
    return out;
  }
}

/**
 * §10.3.2 / §10.5.3.2: a presence stanza without 'to' starts (available) or ends
 * ('unavailable') the sender's presence session; undefined when the stanza does not change it.
 */
export function presenceSessionChange(stanza: XmlElement): boolean | undefined {
  if (stanza.name !== 'presence' || attr(stanza, 'to') !== undefined) return undefined;
  const type = attr(stanza, 'type');
  if (type === undefined) return true;
  if (type === 'unavailable') return false;
  return undefined;
}
