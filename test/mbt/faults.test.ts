/**
 * The input classes of mbt/faults.ts name the condition RFC 6120 requires for each one; the
 * model turns a malformed input into PARSE_ERROR with that condition. Our own XML layer
 * must agree row by row, or MBT against our server would test the table, not the server.
 */
import { describe, expect, it } from 'vitest';
import { HEADER_FAULT_NAMES, HEADER_FAULTS, LIMIT_CONDITION, LIMIT_FAULT_NAMES, LIMIT_FAULTS, MALFORMED_FAULT_NAMES, MALFORMED_FAULTS, overLimitBytes } from '../../mbt/faults.js';
import { StreamParser, type ParserEvent } from '../../runtime/xml/index.js';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.test' version='1.0'>";

function afterHeader(bytes: Uint8Array): ParserEvent[] {
  const parser = new StreamParser();
  const opened = parser.write(new TextEncoder().encode(HEADER));
  expect(opened.map((e) => e.type)).toEqual(['HEADER']);
  return parser.write(bytes);
}

describe('every malformed-input class ends in the condition its row names (RFC 6120 §11, §4.9.3)', () => {
  it.each(MALFORMED_FAULT_NAMES)('%s', (name) => {
    const fault = MALFORMED_FAULTS[name];
    const events = afterHeader(fault.bytes);
    const error = events.find((e) => e.type === 'PARSE_ERROR');
    expect(error, `events: ${JSON.stringify(events)}`).toMatchObject({ type: 'PARSE_ERROR', condition: fault.condition });
    expect(events.some((e) => e.type === 'ELEMENT')).toBe(false);
  });

  it('the classes cover each §11 restriction and every distinct condition once at least', () => {
    const conditions = new Set(MALFORMED_FAULT_NAMES.map((n) => MALFORMED_FAULTS[n].condition));
    expect([...conditions].sort()).toEqual(['bad-namespace-prefix', 'not-well-formed', 'restricted-xml', 'unsupported-encoding']);
    const restricted = MALFORMED_FAULT_NAMES.filter((n) => MALFORMED_FAULTS[n].condition === 'restricted-xml');
    expect(restricted.sort()).toEqual(['comment', 'dtd', 'entity-reference', 'processing-instruction']);
    expect(new Set(HEADER_FAULT_NAMES.map((n) => HEADER_FAULTS[n].condition)).size).toBe(HEADER_FAULT_NAMES.length);
  });
});

describe('each size limit crossed by one unit ends in policy-violation (RFC 6120 §13.12, §4.9.3.14)', () => {
  const limits = { maxStanzaBytes: 2048, maxDepth: 8, maxAttributes: 8 };
  it.each(LIMIT_FAULT_NAMES)('%s: one over fails, the limit itself passes', (name) => {
    const option = LIMIT_FAULTS[name].limit;
    const parse = (limit: number, at: number) => {
      const parser = new StreamParser({ ...limits, [option]: limit });
      parser.write(new TextEncoder().encode(HEADER));
      return parser.write(overLimitBytes(name, at));
    };
    expect(parse(limits[option], limits[option]).find((e) => e.type === 'PARSE_ERROR')).toMatchObject({ condition: LIMIT_CONDITION.condition });
    // The same bytes are accepted by a server whose limit is one higher: the class is exactly one over.
    expect(parse(limits[option] + 1, limits[option]).map((e) => e.type)).toEqual(['ELEMENT']);
  });
});
