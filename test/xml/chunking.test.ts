import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { StreamParser, type ParserEvent } from '../../runtime/xml/parser.js';
import { HEADER, feedChunks, utf8 } from './helpers.js';

// A stream with multi-byte UTF-8 everywhere: 2-byte (é), 3-byte (€, 中) and 4-byte (😀, 𝄞) sequences,
// in text, attribute values and names, entities and CDATA that can be cut anywhere.
const STREAM =
  HEADER +
  `\n  <message to='jüliet@example.com' id='€1' type='chat'><body>Wherefore art thou, Romeo? 😀 中文 &amp; &#x1D11E; 𝄞</body>` +
  `<thread xmlns='urn:xmpp:thread'>é<![CDATA[<raw> & €]]>é</thread></message> ` +
  `<iq type='get' id='ü'><ping xmlns='urn:xmpp:ping'/></iq>\n` +
  `<presence><status xml:lang='de'>Grüße 😀</status><ñame xmlns='urn:x' ä='ö'/></presence></stream:stream>`;
const BYTES = utf8(STREAM);

const withoutKeepalives = (events: ParserEvent[]) => events.filter((e) => e.type !== 'KEEPALIVE');
const reference = new StreamParser().write(BYTES);

describe('RFC 6120 §11.6: incremental parsing is independent of how TCP cuts the bytes', () => {
  it('the reference parse is complete and correct', () => {
    expect(reference.map((e) => e.type)).toEqual(['HEADER', 'KEEPALIVE', 'ELEMENT', 'ELEMENT', 'ELEMENT', 'STREAM_CLOSE']);
    expect(JSON.stringify(reference)).toContain('Wherefore art thou, Romeo? 😀 中文 & 𝄞 𝄞');
    expect(JSON.stringify(reference)).toContain('é<raw> & €é');
  });

  it('a cut at every byte boundary (inside multi-byte characters too) gives identical events', () => {
    expect(BYTES.length).toBeGreaterThan(STREAM.length); // there are multi-byte characters to cut
    for (let cut = 1; cut < BYTES.length; cut++) {
      const events = feedChunks(new StreamParser(), BYTES, [cut]);
      expect(withoutKeepalives(events), `cut at ${cut}`).toEqual(withoutKeepalives(reference));
    }
  });

  it('one byte per write gives identical events', () => {
    const cuts = Array.from({ length: BYTES.length - 1 }, (_, i) => i + 1);
    const events = feedChunks(new StreamParser(), BYTES, cuts);
    expect(withoutKeepalives(events)).toEqual(withoutKeepalives(reference));
    // Whitespace spread over several writes is reported once per write that carried some.
    expect(events.filter((e) => e.type === 'KEEPALIVE').length).toBeGreaterThanOrEqual(4);
  });

  it('one UTF-16 code unit per string write gives identical events', () => {
    const p = new StreamParser();
    const events: ParserEvent[] = [];
    for (let i = 0; i < STREAM.length; i++) events.push(...p.write(STREAM[i]!));
    expect(withoutKeepalives(events)).toEqual(withoutKeepalives(reference));
  });

  test.prop([fc.uniqueArray(fc.integer({ min: 1, max: BYTES.length - 1 }), { maxLength: 12 })], { numRuns: 200 })(
    'random cuts give identical events',
    (cuts) => {
      const events = feedChunks(new StreamParser(), BYTES, [...cuts].sort((a, b) => a - b));
      expect(withoutKeepalives(events)).toEqual(withoutKeepalives(reference));
    },
  );

  it("a bare '&' is rejected even when the rest arrives later", () => {
    const p = new StreamParser();
    p.write(HEADER + '<message><body>a &');
    expect(p.write('am')).toEqual([]);
    expect(p.write(' b</body></message>')).toEqual([expect.objectContaining({ condition: 'not-well-formed' })]);
  });

  it('an error is found at the same point whatever the cuts', () => {
    const bad = utf8(HEADER + `<message><body>ok</body></message><message><body>é\u0001</body></message>`);
    for (let cut = 1; cut < bad.length; cut++) {
      const events = feedChunks(new StreamParser(), bad, [cut]);
      expect(events.map((e) => e.type), `cut at ${cut}`).toEqual(['HEADER', 'ELEMENT', 'PARSE_ERROR']);
    }
  });
});
