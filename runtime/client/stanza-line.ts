/**
 * One line typed by a user, read as exactly one XML element with the project's stream
 * parser (the same §11 restrictions as the wire: no DTD, no processing instructions...),
 * in the 'jabber:client' namespace like a stanza on the stream.
 */
import { NS } from '../../machines/ns.js';
import type { XmlElement } from '../../machines/xml.js';
import { StreamParser, STREAM_CLOSE_TAG } from '../xml/index.js';

const HEADER = `<?xml version='1.0'?><stream:stream xmlns='${NS.CLIENT}' xmlns:stream='${NS.STREAMS}' version='1.0'>`;

export type StanzaLine = { readonly ok: true; readonly element: XmlElement } | { readonly ok: false; readonly error: string };

export function parseStanzaLine(line: string): StanzaLine {
  if (line.includes(STREAM_CLOSE_TAG)) return { ok: false, error: 'a closing stream tag is not a stanza (type /quit to close the stream)' };
  const parser = new StreamParser();
  // The line inside a stream of its own, closed right after it: an unclosed element or
  // stray text shows up as a parse error instead of waiting for more input.
  const events = [...parser.write(HEADER), ...parser.write(line), ...parser.write(STREAM_CLOSE_TAG)];
  const elements: XmlElement[] = [];
  for (const e of events) {
    if (e.type === 'PARSE_ERROR') return { ok: false, error: `not a well-formed XML element: <${e.condition}/>${e.text ? ` ${e.text}` : ''}` };
    if (e.type === 'ELEMENT') elements.push(e.element);
  }
  if (!events.some((e) => e.type === 'STREAM_CLOSE')) return { ok: false, error: 'incomplete element: write one whole XML element on a line' };
  if (elements.length !== 1) return { ok: false, error: `${elements.length} elements on the line: write exactly one` };
  return { ok: true, element: elements[0]! };
}
