/**
 * The XEP-0220 examples, read from spec/xep-0220.xml and parsed by the project's own stream
 * parser on a 'jabber:server' stream that declares the 'db' prefix (XEP-0220 §2.4.1), so the
 * tests check our parsers and builders against the published XML, not against copies of it.
 */
import { readFileSync } from 'node:fs';
import { NS } from '../../../machines/ns.js';
import type { XmlElement, XmlNode } from '../../../machines/xml.js';
import { StreamParser } from '../../../runtime/xml/parser.js';

export const XEP_TEXT = readFileSync(new URL('../../../spec/xep-0220.xml', import.meta.url), 'utf8');

const HEADER = `<?xml version='1.0'?><stream:stream xmlns='${NS.SERVER}' xmlns:db='${NS.DIALBACK}' xmlns:stream='${NS.STREAMS}' from='capulet.example' to='montague.example' version='1.0'>`;

/** Parse top-level elements as a peer would send them on a server-to-server stream. */
export function parseElements(xml: string): XmlElement[] {
  const events = new StreamParser().write(HEADER + xml);
  const out: XmlElement[] = [];
  for (const e of events) {
    if (e.type === 'ELEMENT') out.push(e.element);
    else if (e.type !== 'HEADER' && e.type !== 'KEEPALIVE') throw new Error(`parser said ${JSON.stringify(e)}`);
  }
  return out;
}

export function parseOne(xml: string): XmlElement {
  const [e, ...rest] = parseElements(xml);
  if (e === undefined || rest.length > 0) throw new Error(`expected one element in ${xml}`);
  return e;
}

export interface XepExample {
  readonly caption: string;
  readonly element: XmlElement;
}

/** Every `<example/>` of the XEP whose body is a `<db:result/>` or `<db:verify/>`, in document order. */
export function dialbackExamples(): XepExample[] {
  const re = /<example caption="([^"]+)"><!\[CDATA\[([\s\S]*?)\]\]><\/example>/g;
  return [...XEP_TEXT.matchAll(re)]
    .filter((m) => /<db:(result|verify)/.test(m[2]!))
    .map((m) => ({ caption: m[1]!, element: parseOne(m[2]!.replace(/^\s*(send|recv):/, '')) }));
}

/** The element without whitespace-only text: what the XEP's pretty-printing adds. */
export function trimmed(e: XmlElement): XmlElement {
  const children: XmlNode[] = [];
  for (const c of e.children) {
    if (typeof c !== 'string') children.push(trimmed(c));
    else if (c.trim() !== '') children.push(c.trim());
  }
  return { ...e, children };
}
