/**
 * The session registry: which full JIDs are bound right now (RFC 6120 §7), by account.
 * It answers the machine's `queryResource` (§7.7.2) and gives the router its view (§10.5).
 */
import { bare, formatJid, parseJid } from '../../machines/jid.js';

/** A bound stream as the registry sees it. */
export interface RegisteredSession {
  /** The full JID bound to the stream (§7.6.1 / §7.7.1). */
  readonly jid: string;
  /** §10.5.3.2: initial presence was sent and not yet withdrawn. */
  presence: boolean;
  /** RFC 6121 §2.2: the resource requested the roster in this session (an "interested resource"). */
  rosterInterested?: boolean;
  /** RFC 6121 §4: this stream's presence (presence.ts); a host without presence logic leaves it out. */
  readonly resourcePresence?: import('./presence-host.js').ResourcePresence;
  /** Write a routed stanza to this session (ROUTE_IN). */
  routeIn(stanza: import('../../machines/xml.js').XmlElement): void;
  /** §7.7.2.2 override: another stream took this full JID; end this one with `<conflict/>`. */
  replaced(): void;
}

export class SessionRegistry {
  /** bare JID → resourcepart → session; Maps keep bind order. */
  private readonly byAccount = new Map<string, Map<string, RegisteredSession>>();
  /**
   * The same sessions by their `jid` text, so that `get` for a JID we handed out (a routing
   * target) skips RFC 7622 parsing. Holds only sessions that are bound right now.
   */
  private readonly byJid = new Map<string, RegisteredSession>();
  private count = 0;

  /** Number of bound sessions. */
  get size(): number {
    return this.count;
  }

  /** §7.7.2: is `resource` bound for the account, and how many resources does it have? */
  status(bareJid: string, resource: string): { inUse: boolean; boundCount: number } {
    const resources = this.byAccount.get(bareJid);
    return { inUse: resources?.has(resource) ?? false, boundCount: resources?.size ?? 0 };
  }

  /** Register `session` under its full JID; returns the session it displaced (override policy), if any. */
  bind(session: RegisteredSession): RegisteredSession | undefined {
    const { bareJid, resource } = split(session.jid);
    let resources = this.byAccount.get(bareJid);
    if (!resources) {
      resources = new Map();
      this.byAccount.set(bareJid, resources);
    }
    const previous = resources.get(resource);
    if (previous === session) return undefined;
    if (previous === undefined) this.count++;
    // delete + set: the newest binding goes to the end of the bind order.
    resources.delete(resource);
    resources.set(resource, session);
    if (previous !== undefined && this.byJid.get(previous.jid) === previous) this.byJid.delete(previous.jid);
    this.byJid.set(session.jid, session);
    return previous;
  }

  /** Remove `session` (only if it is still the one bound to its JID: a replaced session must not unbind its successor). */
  unbind(session: RegisteredSession): boolean {
    const { bareJid, resource } = split(session.jid);
    const resources = this.byAccount.get(bareJid);
    if (resources?.get(resource) !== session) return false;
    resources.delete(resource);
    if (this.byJid.get(session.jid) === session) this.byJid.delete(session.jid);
    this.count--;
    if (resources.size === 0) this.byAccount.delete(bareJid);
    return true;
  }

  /** The session bound to `fullJid` (undefined for anything else, a bare JID included). */
  get(fullJid: string): RegisteredSession | undefined {
    const exact = this.byJid.get(fullJid);
    if (exact !== undefined) return exact;
    const jid = parseJid(fullJid);
    if (jid === undefined || jid.resource === undefined) return undefined;
    return this.byAccount.get(formatJid(bare(jid)))?.get(jid.resource);
  }

  /** Full JIDs of the account's bound resources, in bind order. */
  resources(bareJid: string): string[] {
    const resources = this.byAccount.get(bareJid);
    return resources === undefined ? [] : Array.from(resources.values(), (s) => s.jid);
  }

  all(): RegisteredSession[] {
    return [...this.byAccount.values()].flatMap((m) => [...m.values()]);
  }
}

function split(fullJid: string): { bareJid: string; resource: string } {
  const jid = parseJid(fullJid);
  if (jid === undefined || jid.resource === undefined) throw new Error(`not a full JID: ${fullJid}`);
  return { bareJid: formatJid(bare(jid)), resource: jid.resource };
}
