import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Utf8Input, scanUtf8 } from '../../runtime/xml/decoder.js';

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
function strictValid(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

// Bytes biased towards UTF-8 edge cases: lead bytes, continuation bytes, E0/ED/F0/F4 boundaries.
const edgeBytes = fc.array(
  fc.oneof(
    fc.integer({ min: 0, max: 255 }),
    fc.constantFrom(0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xee, 0xef, 0xf0, 0xf4, 0xf5, 0xfe, 0xff),
  ),
  { maxLength: 24 },
).map((a) => Uint8Array.from(a));

describe('RFC 6120 §11.6: UTF-8 decoding', () => {
  test.prop([fc.oneof(fc.uint8Array({ maxLength: 32 }), edgeBytes)], { numRuns: 2000 })(
    'scanUtf8 accepts exactly what a strict decoder accepts (RFC 3629)',
    (bytes) => {
      const r = scanUtf8(bytes, 0);
      expect(r.end === bytes.length).toBe(strictValid(bytes));
      if (r.end < bytes.length) {
        expect(strictValid(bytes.subarray(0, r.end))).toBe(true);
        // incomplete ⇔ the rest is a valid sequence cut short by the end of the data
        const rest = bytes.subarray(r.end);
        let restIsPrefix = true;
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(rest, { stream: true });
        } catch {
          restIsPrefix = false;
        }
        expect(r.incomplete).toBe(restIsPrefix && rest.length < 4);
      }
    },
  );

  test.prop([fc.string({ unit: 'grapheme', maxLength: 40 }), fc.array(fc.nat(200), { maxLength: 6 })])(
    'decoding in any chunks gives the same text (characters split across chunks are joined)',
    (s, cuts) => {
      const bytes = new TextEncoder().encode(s);
      const input = new Utf8Input();
      let text = '';
      let at = 0;
      for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b).concat(bytes.length)) {
        const r = input.decode(bytes.subarray(at, cut));
        expect(r.error).toBeUndefined();
        text += r.text;
        at = cut;
      }
      expect(text).toBe(s);
    },
  );

  it('reports the valid text before an invalid byte, then the error', () => {
    const r = new Utf8Input().decode(Uint8Array.from([0x61, 0xe2, 0x82, 0xac, 0x62, 0xff, 0x63]));
    expect(r.text).toBe('a€b');
    expect(r.error).toMatch(/0xff/);
  });

  it('an invalid sequence split across chunks is found when its second byte arrives', () => {
    const input = new Utf8Input();
    expect(input.decode(Uint8Array.from([0x61, 0xe0]))).toEqual({ text: 'a' });
    const r = input.decode(Uint8Array.from([0x80, 0x80])); // E0 80 80: overlong
    expect(r.text).toBe('');
    expect(r.error).toBeDefined();
  });

  it('keeps U+FEFF as a character (§11.6: not a byte order mark)', () => {
    expect(new Utf8Input().decode(Uint8Array.from([0xef, 0xbb, 0xbf, 0x3c]))).toEqual({ text: '\uFEFF<' });
  });
});
