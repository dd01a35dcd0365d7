/**
 * Stanzas kept in the store as the XML a client would read (serialized as children of a
 * 'jabber:client' stream, RFC 6120 §4.8.2) and read back with the project's own stream parser,
 * so what is stored is exactly what is later written to the wire, and readable in the file.
 */
import { NS } from '../../machines/ns.js';
import type { XmlElement } from '../../machines/xml.js';
import { StreamParser } from '../xml/parser.js';
import { serializeElement } from '../xml/serialize.js';

const HEADER = `<stream:stream xmlns='${NS.CLIENT}' xmlns:stream='${NS.STREAMS}' version='1.0'>`;

export function stanzaToText(stanza: XmlElement): string {
  return serializeElement(stanza, NS.CLIENT);
}

/** The one stanza in `text`; throws (naming what the parser said) when the stored text is not one. */
export function stanzaFromText(text: string): XmlElement {
  const elements: XmlElement[] = [];
  for (const e of new StreamParser().write(HEADER + text)) {
    if (e.type === 'ELEMENT') elements.push(e.element);
    else if (e.type !== 'HEADER' && e.type !== 'KEEPALIVE') throw new Error(`stored stanza unreadable: ${e.type}`);
  }
  if (elements.length !== 1) throw new Error(`stored stanza unreadable: ${elements.length} elements`);
  return elements[0]!;
}
