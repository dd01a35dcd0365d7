/**
 * Resource binding, client side (§7): the bind request and the reading of its reply.
 */
import { bare, bareJid, formatJid, parseJid } from '../jid.js';
import { NS } from '../ns.js';
import type { RandomBytes } from '../protocol.js';
import { attr, child, childElements, el, text, type XmlElement } from '../xml.js';

/** A fresh IQ 'id' (§8.2.3: REQUIRED, unique enough to correlate the reply). */
export function newStanzaId(prefix: string, random: RandomBytes): string {
  return `${prefix}-${Buffer.from(random(6)).toString('hex')}`;
}

/**
 * §7.6.1: `<iq type='set'><bind/></iq>` asks for a server-generated resourcepart;
 * §7.7.1: `<bind><resource>r</resource></bind>` submits one.
 */
export function bindRequest(id: string, resource: string | undefined): XmlElement {
  return el('iq', NS.CLIENT, { id, type: 'set' }, el('bind', NS.BIND, {}, resource !== undefined && el('resource', NS.BIND, {}, resource)));
}

export type BindReply =
  /** §7.6.1 / §7.7.1: the full JID the server bound (it may differ from the one asked for). */
  | { readonly kind: 'bound'; readonly jid: string }
  /** A result that does not carry a usable full JID for our account. */
  | { readonly kind: 'invalid'; readonly reason: string }
  /** §7.6.2 / §7.7.2: the stanza error condition (and its text, if any). */
  | { readonly kind: 'error'; readonly condition: string; readonly text?: string };

/**
 * The reply to our bind IQ `id`, or undefined when `iq` is not one (§8.2.3: a reply is a
 * result or error IQ with the request's 'id').
 *
 * A result must hold `<bind><jid>full JID</jid></bind>` (§7.6.1 MUST) whose bare part is our
 * account (or the authorization identity we asked for, §6.3.8): the server may pick the
 * resourcepart (§7.6.1, §7.7.2.2 #1), not the account.
 */
export function readBindReply(iq: XmlElement, id: string | undefined, accounts: readonly string[]): BindReply | undefined {
  if (id === undefined || iq.name !== 'iq' || iq.xmlns !== NS.CLIENT || attr(iq, 'id') !== id) return undefined;
  const type = attr(iq, 'type');
  if (type === 'error') {
    const error = child(iq, 'error', NS.CLIENT);
    const condition = error && childElements(error).find((c) => c.xmlns === NS.STANZAS && c.name !== 'text');
    const t = error && child(error, 'text', NS.STANZAS);
    return { kind: 'error', condition: condition?.name ?? 'undefined-condition', ...(t !== undefined ? { text: text(t) } : {}) };
  }
  if (type !== 'result') return undefined;
  const bind = child(iq, 'bind', NS.BIND);
  const jidEl = bind && child(bind, 'jid', NS.BIND);
  if (jidEl === undefined) return { kind: 'invalid', reason: 'bind result without <jid/> (RFC 6120 §7.6.1)' };
  const jid = parseJid(text(jidEl).trim());
  if (jid === undefined || jid.local === undefined || jid.resource === undefined) {
    return { kind: 'invalid', reason: 'bind result is not a full JID (RFC 6120 §7.6.1)' };
  }
  if (!accounts.includes(formatJid(bare(jid)))) return { kind: 'invalid', reason: 'bind result names another account (RFC 6120 §7.6.1)' };
  return { kind: 'bound', jid: formatJid(jid) };
}

/** The bare JIDs a bind result may name: our account, and the authzid when we asked for one. */
export function bindableAccounts(username: string, domain: string, authzid: string | undefined): string[] {
  const own = bareJid(`${username}@${domain}`);
  const authz = authzid !== undefined && authzid !== '' ? bareJid(authzid) : undefined;
  return [own, authz].filter((j): j is string => j !== undefined);
}

