/**
 * Stanza re-scoping, RFC 6120 §4.8.3 implementation note: a stanza a client sent (content
 * namespace 'jabber:client') is routed to a peer server as 'jabber:server', and one a peer
 * server sent is delivered to a client as 'jabber:client' — "a server MUST NOT send stanzas
 * qualified by the 'jabber:server' namespace" to a client, nor 'jabber:client' ones to a
 * server. The rule covers the stanza and, by inheritance, its children in the content
 * namespace; it stops at an element of any other namespace, whose children keep theirs
 * (e.g. a <message/> quoted inside an extension for reporting purposes).
 */
import { NS } from '../ns.js';
import type { XmlElement, XmlNode } from '../xml.js';

type ContentNamespace = typeof NS.CLIENT | typeof NS.SERVER;

function rescopeElement(e: XmlElement, from: ContentNamespace, to: ContentNamespace): XmlElement {
  if (e.xmlns !== from) return e;
  let children: XmlNode[] | undefined;
  for (let i = 0; i < e.children.length; i++) {
    const c = e.children[i]!;
    if (typeof c === 'string') continue;
    const r = rescopeElement(c, from, to);
    if (r !== c) (children ??= [...e.children])[i] = r;
  }
  return { ...e, xmlns: to, children: children ?? e.children };
}

/** §4.8.3: a stanza from a client, as it goes to a peer server. */
export function toServerScope(stanza: XmlElement): XmlElement {
  return rescopeElement(stanza, NS.CLIENT, NS.SERVER);
}

/** §4.8.3: a stanza from a peer server, as it goes to a client. */
export function toClientScope(stanza: XmlElement): XmlElement {
  return rescopeElement(stanza, NS.SERVER, NS.CLIENT);
}
