/**
 * RFC 6121 §3 presence subscriptions on the server: the subscription machine
 * (machines/subscription) driven for local accounts. Each subscription stanza is one event
 * for one (user, contact) pair: outbound (§A.2) at the sender's side, inbound (§A.3) at the
 * recipient's; when both accounts are local the 'route' of one side is the inbound event of
 * the other, carried out at once. For each event the pair's machine is resumed from what is
 * stored (the roster item's subscription/ask/approved and the held request, the "Pending In"
 * note), the event sent, the new state stored, and the machine's commands turned into
 * deliveries in the order it emitted them.
 *
 * Choices where RFC 6121 leaves one (the machine's header lists its own):
 * - A subscription stanza to the user's own bare JID is dropped: an entity is implicitly
 *   subscribed to its own presence (§4.2.2), and the two sides of (user, user) would be one
 *   roster item.
 * - A subscription stanza 'to' a full JID counts for the bare JID (§3.1.1: requests are sent
 *   to bare JIDs; the machine is per bare pair), except that "subscribed", "unsubscribe" and
 *   "unsubscribed" to a full JID that is not connected are ignored (§8.5.3.2.2).
 * - To an account that does not exist: silently ignored (§8.5.1).
 * - A held request is redelivered to the resource that just became available only: the
 *   others got it when it arrived or when they became available (§3.1.3 rule 4 asks for
 *   delivery "whenever the contact creates an available resource").
 */
import { createActor } from 'xstate';
import { bare, formatJid, parseJid } from '../../machines/jid.js';
import { NS } from '../../machines/ns.js';
import {
  hasPendingIn,
  resumeSubscription,
  subscriptionAttribute,
  subscriptionEvent,
  subscriptionMachine,
  type SubscriptionCommand,
  type SubscriptionEvent,
  type SubscriptionStanza,
  type SubscriptionState,
} from '../../machines/subscription/index.js';
import { attr, el, withAttrs, type XmlElement } from '../../machines/xml.js';
import type { Modified, RosterItem } from '../store/roster.js';
import type { Delivery } from './delivery.js';
import type { PresenceHost } from './presence-host.js';
import { itemElement, rosterPushStanza } from './roster.js';

/** The presence logic this module sends through: local delivery or a remote route (presence.ts). */
export interface SubscriptionContext {
  readonly host: PresenceHost;
  /** Deliver locally or route remotely a stanza whose 'from' is set (presence.ts `routeTo`). */
  routeTo(stanza: XmlElement): Delivery[];
}

export const SUBSCRIPTION_TYPES: ReadonlySet<string> = new Set<SubscriptionStanza>(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed']);

const localpart = (bareJid: string): string => bareJid.slice(0, bareJid.indexOf('@'));

/** The pair's machine after `event`, from the stored state; its commands in emission order. */
function runPair(user: string, contact: string, host: PresenceHost, event: SubscriptionEvent) {
  const item = host.rosters.item(localpart(user), contact);
  const pendingIn = host.requests.has(localpart(user), contact);
  const snapshot = resumeSubscription({ user, contact }, { ...(item ?? {}), pendingIn });
  const actor = createActor(subscriptionMachine, { input: { user, contact }, snapshot });
  const commands: SubscriptionCommand[] = [];
  actor.on('*', (c) => commands.push(c as SubscriptionCommand));
  actor.start();
  actor.send(event);
  const after = actor.getSnapshot();
  actor.stop();
  return { item, pendingIn, state: after.value as SubscriptionState, approved: after.context.approved, commands };
}

/**
 * Send `event` to the (user, contact) machine and carry out what it says. `stanza`: the
 * subscription stanza that caused it (kept as the held request, passed on by 'route' and
 * 'deliver'); `newResource`: for AVAILABLE, the resource that just became available.
 */
function step(ctx: SubscriptionContext, user: string, contact: string, event: SubscriptionEvent, stanza?: XmlElement, newResource?: string): Delivery[] {
  const { host } = ctx;
  const username = localpart(user);
  const run = runPair(user, contact, host, event);

  // Store the new state first: the pushes carry the item as stored, and the other side reads it.
  const attrs = subscriptionAttribute(run.state, run.approved);
  const pushed = run.commands.some((c) => c.type === 'rosterPush');
  const was = run.item;
  const changed = was === undefined
    ? attrs.subscription !== 'none' || attrs.ask !== undefined || attrs.approved === true
    : was.subscription !== attrs.subscription || was.ask !== attrs.ask || was.approved !== (attrs.approved === true);
  let modified: Modified<RosterItem> | undefined;
  if (pushed || changed) {
    modified = host.rosters.setSubscription(username, contact, { subscription: attrs.subscription, ...(attrs.ask ? { ask: attrs.ask } : {}), approved: attrs.approved === true });
  }
  // §A.1 "Pending In": the held request is the note (§3.1.3 rule 4).
  const pendingIn = hasPendingIn(run.state);
  if (pendingIn && !run.pendingIn && stanza !== undefined) host.requests.hold(username, contact, stanza, host.now());
  if (!pendingIn && run.pendingIn) host.requests.forget(username, contact);

  const out: Delivery[] = [];
  for (const c of run.commands) out.push(...perform(ctx, c, stanza, modified, newResource));
  return out;
}

/** One machine command as deliveries (machines/subscription/types.ts says what each means). */
function perform(ctx: SubscriptionContext, c: SubscriptionCommand, stanza: XmlElement | undefined, modified: Modified<RosterItem> | undefined, newResource: string | undefined): Delivery[] {
  const { host } = ctx;
  switch (c.type) {
    case 'route': {
      // The user's own stanza is passed on with its id and children; the server's own (an
      // auto-reply, the resent request) is a bare stanza. 'from' the user's bare JID (§3 Implementation Note).
      const own = !c.onBehalf && stanza !== undefined ? withAttrs(stanza, { from: c.from, to: c.to }) : el('presence', NS.CLIENT, { from: c.from, to: c.to, type: c.presence });
      return ctx.routeTo(own);
    }
    case 'deliver': {
      if (stanza === undefined) return [];
      const recipients = host.resources(c.to).filter((full) => (c.recipients === 'available' ? host.resource(full)?.available !== undefined : host.isInterested(full)));
      return recipients.map((full) => ({ to: full, stanza }));
    }
    case 'redeliverRequest': {
      const held = host.requests.get(localpart(c.to), c.from);
      if (held === undefined) return [];
      const to = newResource !== undefined ? [newResource] : host.resources(c.to).filter((full) => host.resource(full)?.available !== undefined);
      return to.map((full) => ({ to: full, stanza: held }));
    }
    case 'forgetRequest':
      return []; // done in step(): the note follows the state
    case 'rosterPush': {
      if (modified === undefined) return [];
      // §2.1.6: to the user's interested resources, the item as stored (name and groups included).
      const push = { item: itemElement(modified.item), version: modified.version };
      return host.resources(c.to).filter((full) => host.isInterested(full)).map((full) => ({ to: full, stanza: rosterPushStanza(push, full) }));
    }
    case 'sendPresence': {
      // §3.1.5 / §3.2.2 / §3.3.3: from each of the user's available resources to the contact.
      const out: Delivery[] = [];
      for (const full of host.resources(c.from)) {
        const current = host.resource(full)?.available;
        if (current === undefined) continue;
        const p = c.presence === 'current' ? withAttrs(current, { to: c.to }) : el('presence', NS.CLIENT, { from: full, to: c.to, type: 'unavailable' });
        out.push(...ctx.routeTo(p));
      }
      return out;
    }
  }
}

/**
 * §3 outbound: a subscription stanza from one of the user's resources, 'to' stamped local or
 * remote alike ('from' is the user's bare JID, RFC 6120 §8.1.2.1). The contact's side, when
 * local, follows through `routeTo`.
 */
export function outbound(ctx: SubscriptionContext, stanza: XmlElement, userBare: string): Delivery[] {
  const to = parseJid(attr(stanza, 'to') ?? '');
  if (to === undefined) return [];
  const contact = formatJid(bare(to));
  if (contact === userBare) return []; // see header: implicitly subscribed to itself
  const type = attr(stanza, 'type') as SubscriptionStanza;
  return step(ctx, userBare, contact, subscriptionEvent('out', type), withAttrs(stanza, { from: userBare, to: contact }));
}

/** §3 inbound: a subscription stanza for a local account, 'from' the contact (bare, stamped by its server). */
export function inbound(ctx: SubscriptionContext, stanza: XmlElement): Delivery[] {
  const { host } = ctx;
  const to = parseJid(attr(stanza, 'to') ?? '');
  const from = parseJid(attr(stanza, 'from') ?? '');
  if (to === undefined || from === undefined || to.local === undefined) return [];
  const user = formatJid(bare(to));
  const contact = formatJid(bare(from));
  if (user === contact) return [];
  if (!host.accountExists(to.local)) return []; // §8.5.1: silently ignored
  const type = attr(stanza, 'type') as SubscriptionStanza;
  // §8.5.3.2.2: to a full JID that is not connected, only "subscribe" counts.
  if (to.resource !== undefined && type !== 'subscribe' && !host.resources(user).includes(formatJid(to))) return [];
  return step(ctx, user, contact, subscriptionEvent('in', type), withAttrs(stanza, { from: contact }));
}

/**
 * §3.1.3 rule 4 / §3.1.2: `newResource` of `userBare` became available: every pair with a
 * request pending either way gets AVAILABLE (held requests redelivered, unanswered ones resent).
 */
export function available(ctx: SubscriptionContext, userBare: string, newResource: string): Delivery[] {
  const { host } = ctx;
  const username = localpart(userBare);
  const pairs = new Set<string>();
  for (const item of host.rosters.get(username).items) if (item.ask === 'subscribe') pairs.add(item.jid);
  for (const held of host.requests.list(username)) pairs.add(held.contact);
  const out: Delivery[] = [];
  for (const contact of pairs) out.push(...step(ctx, userBare, contact, { type: 'AVAILABLE' }, undefined, newResource));
  return out;
}
