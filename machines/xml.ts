/**
 * The element model shared by the machines, the XML stream layer and the runtime.
 *
 * Elements are plain, immutable, JSON-serializable data so they can sit in machine
 * context, in simulator traces and in test fixtures. Names are namespace-resolved:
 * `name` is the local name and `xmlns` the namespace URI the element is qualified by,
 * whatever prefix the peer used on the wire. The serializer writes the streams
 * namespace with the 'stream' prefix (RFC 6120 §4.8.5) and everything else unprefixed,
 * declaring `xmlns` only where it differs from the parent's, which also satisfies
 * §4.8.5's rule that content-namespace elements are never prefixed.
 *
 * `attrs` holds attributes by their qualified name as written (e.g. 'xml:lang', 'to');
 * namespace declarations are not attributes here, except `xmlns:p` declarations that a
 * prefixed *attribute* needs, which the parser keeps so that serializing is lossless.
 */
import { NS } from './ns.js';

export interface XmlElement {
  readonly name: string;
  readonly xmlns: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlNode[];
}
export type XmlNode = XmlElement | string;

/** Attribute values; `undefined` entries are dropped so callers can pass optional ones. */
export type AttrsIn = Record<string, string | number | undefined>;

/** Build an element. Children that are `null`/`undefined`/`false` are skipped. */
export function el(
  name: string,
  xmlns: string,
  attrs: AttrsIn = {},
  ...children: (XmlNode | null | undefined | false)[]
): XmlElement {
  // Plain loops: this runs for every element the machines build (hot in the simulator).
  const clean: Record<string, string> = {};
  for (const k in attrs) {
    if (!Object.hasOwn(attrs, k)) continue;
    const v = attrs[k];
    if (v !== undefined) clean[k] = String(v);
  }
  const kept: XmlNode[] = [];
  for (const c of children) if (c !== null && c !== undefined && c !== false) kept.push(c);
  return { name, xmlns, attrs: clean, children: kept };
}

export function isElement(node: XmlNode | undefined): node is XmlElement {
  return typeof node === 'object' && node !== null;
}

/** True when `e` is `<name xmlns=ns>`. */
export function is(e: XmlElement | undefined, name: string, xmlns: string): e is XmlElement {
  return e !== undefined && e.name === name && e.xmlns === xmlns;
}

export function childElements(e: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of e.children) if (typeof c !== 'string') out.push(c);
  return out;
}

/** First child element with that name (and namespace, when given). */
export function child(e: XmlElement, name: string, xmlns?: string): XmlElement | undefined {
  for (const c of e.children) {
    if (typeof c !== 'string' && c.name === name && (xmlns === undefined || c.xmlns === xmlns)) return c;
  }
  return undefined;
}

/** Concatenated character data of the element's direct text children. */
export function text(e: XmlElement): string {
  let out = '';
  for (const c of e.children) if (typeof c === 'string') out += c;
  return out;
}

export function attr(e: XmlElement, name: string): string | undefined {
  return e.attrs[name];
}

/** A copy with some attributes replaced (`undefined` removes one). */
export function withAttrs(e: XmlElement, attrs: AttrsIn): XmlElement {
  const next: Record<string, string> = {};
  for (const k in e.attrs) if (Object.hasOwn(e.attrs, k)) next[k] = e.attrs[k]!;
  for (const k in attrs) {
    if (!Object.hasOwn(attrs, k)) continue;
    const v = attrs[k];
    if (v === undefined) delete next[k];
    else next[k] = String(v);
  }
  return { name: e.name, xmlns: e.xmlns, attrs: next, children: e.children };
}

/** RFC 6120 §8: the three stanza kinds, in the stream's content namespace. */
export type StanzaKind = 'message' | 'presence' | 'iq';
export function stanzaKind(e: XmlElement, contentNs: string = NS.CLIENT): StanzaKind | undefined {
  if (e.xmlns !== contentNs) return undefined;
  return e.name === 'message' || e.name === 'presence' || e.name === 'iq' ? e.name : undefined;
}
