import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { StreamParser, type ParserEvent } from '../../runtime/xml/parser.js';
import { HEADER, feedChunks, utf8 } from './helpers.js';

// "Bad input gets a clear error and loses nothing": whatever arrives, the parser returns
// events (never throws, never loops), reports at most one PARSE_ERROR, last, and then stays silent.

const VALID = utf8(
  HEADER +
    `<message to='a@b' id='1'><body>x &amp; y €😀</body><x xmlns='urn:x' xmlns:p='urn:p' p:a='1'/></message> ` +
    `<iq type='get' id='2'><query xmlns='jabber:iq:roster'/></iq><presence/></stream:stream>`,
);

function checkInvariants(events: ParserEvent[]): void {
  const errors = events.filter((e) => e.type === 'PARSE_ERROR');
  expect(errors.length).toBeLessThanOrEqual(1);
  if (errors.length === 1) expect(events[events.length - 1]).toBe(errors[0]);
  const closes = events.filter((e) => e.type === 'STREAM_CLOSE');
  expect(closes.length).toBeLessThanOrEqual(1);
  if (closes.length === 1) expect(events[events.length - 1]).toBe(closes[0]);
  const headers = events.filter((e) => e.type === 'HEADER');
  expect(headers.length).toBeLessThanOrEqual(1);
  if (headers.length === 1) expect(events[0]).toBe(headers[0]);
}

function feedAll(bytes: Uint8Array, cuts: number[]): ParserEvent[] {
  const p = new StreamParser({ maxStanzaBytes: 4096 });
  const events = feedChunks(p, bytes, cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b));
  const terminal = events.some((e) => e.type === 'PARSE_ERROR' || e.type === 'STREAM_CLOSE');
  if (terminal) expect(p.write(VALID)).toEqual([]);
  return events;
}

describe('robustness: arbitrary input never crashes the parser', () => {
  test.prop([fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(400), { maxLength: 5 })], { numRuns: 300 })(
    'random bytes after a valid header',
    (junk, cuts) => {
      const bytes = new Uint8Array([...utf8(HEADER), ...junk]);
      checkInvariants(feedAll(bytes, cuts));
    },
  );

  test.prop([fc.string({ unit: fc.constantFrom('<', '>', '/', '&', ';', '=', "'", '"', ' ', 'a', ':', '!', '?', '-', '[', ']', '#', 'x', '\u0000', '€'), maxLength: 200 })], { numRuns: 300 })(
    'random XML-ish text after a valid header',
    (junk) => {
      checkInvariants(feedAll(utf8(HEADER + junk), []));
    },
  );

  test.prop(
    [
      fc.array(
        fc.record({ at: fc.nat(VALID.length), kind: fc.constantFrom('delete', 'insert', 'flip'), byte: fc.integer({ min: 0, max: 255 }) }),
        { minLength: 1, maxLength: 4 },
      ),
      fc.array(fc.nat(VALID.length), { maxLength: 6 }),
    ],
    { numRuns: 400 },
  )('mutations of a valid stream (deleted, inserted, changed bytes), cut anywhere', (mutations, cuts) => {
    const bytes = [...VALID];
    for (const m of mutations) {
      const at = Math.min(m.at, bytes.length - 1);
      if (m.kind === 'delete') bytes.splice(at, 1);
      else if (m.kind === 'insert') bytes.splice(at, 0, m.byte);
      else bytes[at] = m.byte;
    }
    const input = Uint8Array.from(bytes);
    const whole = feedAll(input, []);
    checkInvariants(whole);
    // Cutting the input differently changes nothing but the number of keepalives.
    const strip = (events: ParserEvent[]) => events.filter((e) => e.type !== 'KEEPALIVE').map((e) => (e.type === 'PARSE_ERROR' ? e.condition : e));
    expect(strip(feedAll(input, cuts))).toEqual(strip(whole));
  });
});
