/**
 * The serializer: elements and stream headers to the text written on the wire.
 *
 * Output is what the parser of this folder accepts (RFC 6120 §11.3 rule 1, §11.1 rule 1):
 * no comments, PIs or DTDs, only the predefined entities and character references.
 * Elements of the streams namespace are written with the 'stream' prefix our header
 * declared (§4.8.5: `<stream:features/>`, `<stream:error/>`); every other element is
 * unprefixed and declares `xmlns` only where it differs from the namespace in scope, so
 * content-namespace elements are never prefixed (§4.8.5).
 */
import { NS } from '../../machines/ns.js';
import type { StreamHeader } from '../../machines/protocol.js';
import type { XmlElement } from '../../machines/xml.js';
import { escapeAttr, escapeText, isNcName } from './escape.js';

/** §4.4: the closing tag of a stream. */
export const STREAM_CLOSE_TAG = '</stream:stream>';

/** Prefixes the reader of our stream has in scope, and their namespaces. */
type Scope = ReadonlyMap<string, string>;
const STREAM_SCOPE: Scope = new Map([['xml', NS.XML], ['stream', NS.STREAMS]]);
/** A 'jabber:server' header also declares 'db' (serializeHeader), so dialback elements are written `<db:result/>`. */
const SERVER_SCOPE: Scope = new Map([...STREAM_SCOPE, ['db', NS.DIALBACK]]);

/**
 * `element` as a first-level child of a stream whose default namespace is
 * `contentNamespace` (§4.8.2). Throws on names that are not XML names or on attribute
 * prefixes that are declared nowhere: those are programming errors, not peer input.
 */
export function serializeElement(element: XmlElement, contentNamespace: string): string {
  return write(element, contentNamespace, contentNamespace === NS.SERVER ? SERVER_SCOPE : STREAM_SCOPE);
}

function write(e: XmlElement, defaultNs: string, scope: Scope): string {
  if (!isNcName(e.name)) throw new Error(`cannot serialize element name '${e.name}': not an XML NCName`);
  let tag: string;
  let childDefault: string;
  let out: string;
  if (e.xmlns === NS.STREAMS) {
    tag = `stream:${e.name}`;
    childDefault = defaultNs;
    out = `<${tag}`;
  } else if (e.xmlns === NS.DIALBACK && scope.get('db') === NS.DIALBACK) {
    // XEP-0220 §2.1.1 examples, and the prefix some servers still look for (RFC 6120 §4.8.4 note).
    tag = `db:${e.name}`;
    childDefault = defaultNs;
    out = `<${tag}`;
  } else {
    tag = e.name;
    childDefault = e.xmlns;
    out = e.xmlns !== defaultNs ? `<${tag} xmlns='${escapeAttr(e.xmlns)}'` : `<${tag}`;
  }
  let inner = scope;
  const attrs = e.attrs;
  for (const name in attrs) {
    if (!Object.hasOwn(attrs, name)) continue;
    const value = attrs[name]!;
    if (name === 'xmlns' || name === 'xmlns:stream') continue; // the model's xmlns field / the header's prefix rule
    if (name.startsWith('xmlns:')) {
      const prefix = name.slice(6);
      // XML-NAMES §3: a prefix cannot be bound to the empty name (undeclared) in XML 1.0, nor be xml*.
      if (!isNcName(prefix) || prefix.toLowerCase().startsWith('xml') || value === '') {
        throw new Error(`cannot serialize namespace declaration ${name}='${value}'`);
      }
      if (inner === scope) inner = new Map(scope);
      (inner as Map<string, string>).set(prefix, value);
    }
    out += ` ${name}='${escapeAttr(value)}'`;
  }
  for (const name in attrs) {
    if (!Object.hasOwn(attrs, name)) continue;
    const colon = name.indexOf(':');
    const ok = colon === -1
      ? isNcName(name)
      : isNcName(name.slice(0, colon)) && isNcName(name.slice(colon + 1)) && (name.startsWith('xmlns:') || inner.has(name.slice(0, colon)));
    if (!ok) throw new Error(`cannot serialize attribute '${name}' on <${e.name}>: not a name, or its prefix is not declared`);
  }
  if (e.children.length === 0) return `${out}/>`;
  out += '>';
  for (const c of e.children) out += typeof c === 'string' ? escapeText(c) : write(c, childDefault, inner);
  return `${out}</${tag}>`;
}

/**
 * §4.7 / §4.8: `<?xml version='1.0'?><stream:stream xmlns=content xmlns:stream=streams ...>`
 * with from, to, id, xml:lang and version when present (§11.5: the XML declaration is sent).
 * A server-to-server header also declares `xmlns:db` (§4.8.4 interoperability note: "some
 * server implementations expect a declaration of the 'jabber:server:dialback' namespace",
 * XEP-0220 §2.1.1), whichever way the stream authenticates.
 */
export function serializeHeader(header: StreamHeader): string {
  let s = `<?xml version='1.0'?><stream:stream xmlns='${escapeAttr(header.contentNamespace)}' xmlns:stream='${NS.STREAMS}'`;
  if (header.contentNamespace === NS.SERVER) s += ` xmlns:db='${NS.DIALBACK}'`;
  const attrs: [string, string | undefined][] = [
    ['from', header.from], ['to', header.to], ['id', header.id], ['xml:lang', header.lang], ['version', header.version],
  ];
  for (const [name, value] of attrs) if (value !== undefined) s += ` ${name}='${escapeAttr(value)}'`;
  return `${s}>`;
}
