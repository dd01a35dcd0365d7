/**
 * IQ semantics on the client side (RFC 6120 §8.2.3, §8.4): every IQ get/set the client
 * receives gets exactly one answer. The application registers handlers by payload
 * (namespace and local name of the one child element, §8.2.3 rule 6); a request nobody
 * handles is answered `<service-unavailable/>` (§8.4: "the entity ... MUST return a
 * <service-unavailable/> error"), a handler that throws gets `<internal-server-error/>`
 * unless it threw a StanzaError naming another condition.
 */
import { stanzaErrorReply, type StanzaErrorCondition } from '../../machines/conditions.js';
import { NS } from '../../machines/ns.js';
import { childElements, el, type XmlElement } from '../../machines/xml.js';

/** Return the result payload (or nothing for an empty result); throw StanzaError to refuse. */
export type IqHandler = (iq: XmlElement) => XmlElement | undefined | void | Promise<XmlElement | undefined | void>;

/** Thrown by an IqHandler (or rejected from `iq()`): a stanza error with its defined condition (§8.3.3). */
export class StanzaError extends Error {
  constructor(
    readonly condition: StanzaErrorCondition | string,
    readonly stanza?: XmlElement,
    readonly text?: string,
  ) {
    super(`stanza error <${condition}/>${text ? `: ${text}` : ''} (RFC 6120 §8.3.3)`);
    this.name = 'StanzaError';
  }
}

const key = (xmlns: string, name: string): string => `${name} ${xmlns}`;

export function isIqRequest(e: XmlElement): boolean {
  return e.name === 'iq' && e.xmlns === NS.CLIENT && (e.attrs['type'] === 'get' || e.attrs['type'] === 'set');
}

export function isIqResponse(e: XmlElement): boolean {
  return e.name === 'iq' && e.xmlns === NS.CLIENT && (e.attrs['type'] === 'result' || e.attrs['type'] === 'error');
}

/** The condition inside a type='error' stanza (§8.3.2), if any. */
export function stanzaErrorCondition(e: XmlElement): { condition: string; text?: string } | undefined {
  const error = childElements(e).find((c) => c.name === 'error');
  if (!error) return undefined;
  const parts = childElements(error).filter((c) => c.xmlns === NS.STANZAS);
  const condition = parts.find((c) => c.name !== 'text')?.name ?? 'undefined-condition';
  const textEl = parts.find((c) => c.name === 'text');
  const text = textEl?.children.filter((c): c is string => typeof c === 'string').join('');
  return { condition, ...(text ? { text } : {}) };
}

export class IqHandlers {
  private readonly handlers = new Map<string, IqHandler>();

  set(xmlns: string, name: string, handler: IqHandler): void {
    this.handlers.set(key(xmlns, name), handler);
  }

  delete(xmlns: string, name: string): void {
    this.handlers.delete(key(xmlns, name));
  }

  /** The reply to an IQ get/set (§8.2.3: same id, to = the requester). */
  async answer(iq: XmlElement): Promise<XmlElement> {
    const payload = childElements(iq);
    // §8.2.3 rule 6: a get/set carries exactly one payload element; else bad-request.
    if (payload.length !== 1) return errorReply(iq, 'bad-request');
    const handler = this.handlers.get(key(payload[0]!.xmlns, payload[0]!.name));
    if (!handler) return errorReply(iq, 'service-unavailable');
    try {
      const result = await handler(iq);
      return el('iq', NS.CLIENT, { type: 'result', id: iq.attrs['id'], to: iq.attrs['from'] }, result ?? null);
    } catch (err) {
      if (err instanceof StanzaError) return errorReply(iq, err.condition as StanzaErrorCondition, err.text);
      return errorReply(iq, 'internal-server-error');
    }
  }
}

/** §8.3.1 error reply; 'from' left to the server to stamp (§8.1.2.1). */
function errorReply(iq: XmlElement, condition: StanzaErrorCondition, text?: string): XmlElement {
  const reply = stanzaErrorReply(iq, condition, text !== undefined ? { text } : {});
  const { from: _from, ...attrs } = reply.attrs;
  return { ...reply, attrs };
}
