import { NS } from '../../machines/ns.js';
import { StreamParser, type ParserEvent, type StreamParserOptions } from '../../runtime/xml/parser.js';

export const STREAM_ATTRS = `xmlns='${NS.CLIENT}' xmlns:stream='${NS.STREAMS}'`;
/** A client's initial stream header (RFC 6120 §4.7) with XML declaration. */
export const HEADER = `<?xml version='1.0'?><stream:stream ${STREAM_ATTRS} to='example.com' version='1.0' xml:lang='en'>`;
export const HEADER_EVENT: ParserEvent = {
  type: 'HEADER',
  header: { contentNamespace: NS.CLIENT, to: 'example.com', version: '1.0', lang: 'en' },
};

/** Parse `input` in one write on a fresh parser. */
export function parse(input: string | Uint8Array, opts?: StreamParserOptions): ParserEvent[] {
  return new StreamParser(opts).write(input);
}

/** Parse `input` after a valid header; returns the events after the HEADER. */
export function parseInStream(body: string, opts?: StreamParserOptions): ParserEvent[] {
  const events = parse(HEADER + body, opts);
  if (events[0]?.type !== 'HEADER') throw new Error(`header rejected: ${JSON.stringify(events[0])}`);
  return events.slice(1);
}

export function lastEvent(events: readonly ParserEvent[]): ParserEvent | undefined {
  return events[events.length - 1];
}

/** Feed `bytes` in the given chunk sizes, concatenating all events. */
export function feedChunks(parser: StreamParser, bytes: Uint8Array, cuts: readonly number[]): ParserEvent[] {
  const out: ParserEvent[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...parser.write(bytes.subarray(at, cut)));
    at = cut;
  }
  return out;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
