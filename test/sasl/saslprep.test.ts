/** RFC 4013 SASLprep, with the examples of RFC 4013 §3. */
import { describe, expect, it } from 'vitest';
import { saslprep } from '../../machines/sasl/index.js';

describe('RFC 4013 SASLprep', () => {
  it.each([
    ['I\u00ADX', 'IX', 'SOFT HYPHEN mapped to nothing'],
    ['user', 'user', 'no transformation'],
    ['USER', 'USER', 'case preserved'],
    ['\u00AA', 'a', 'output is NFKC, input in ISO 8859-1'],
    ['\u2168', 'IX', 'output is NFKC, will match 1st example'],
  ])('§3 example: %j → %j (%s)', (input, output) => {
    expect(saslprep(input)).toBe(output);
  });

  it.each([
    ['\u0007', 'prohibited character (C.2.1)'],
    ['\u0627\u0031', 'bidi check (RFC 3454 §6): RandALCat string must end with RandALCat'],
  ])('§3 example: %j → error (%s)', (input) => {
    expect(saslprep(input)).toBeUndefined();
  });

  it('§2.1 maps non-ASCII spaces to SPACE', () => {
    expect(saslprep('a\u00A0b\u3000c')).toBe('a b c');
  });

  it('NFKC differs from NFC (RFC 5802 §3 informative note: U+00BD, U+00B4)', () => {
    expect(saslprep('\u00BD')).toBe('1\u20442');
    expect(saslprep('\u00B4')).toBe(' \u0301');
  });

  it.each([
    ['\u0085', 'C.2.2 non-ASCII control'],
    ['\u200E', 'C.8 LEFT-TO-RIGHT MARK'],
    ['\uE000', 'C.3 private use'],
    ['\uFDD0', 'C.4 non-character'],
    ['\uD800', 'C.5 lone surrogate'],
    ['\uFFFD', 'C.6 REPLACEMENT CHARACTER'],
    ['\u2FF0', 'C.7 ideographic description character'],
    ['\u{E0041}', 'C.9 tagging character'],
    ['a\u0000b', 'NUL'],
  ])('§2.3 prohibits %j (%s)', (ch) => {
    expect(saslprep(`x${ch}`)).toBeUndefined();
  });

  it('bidi: an all-RandALCat string is accepted, a mixed one is not', () => {
    expect(saslprep('\u05D0\u05D1')).toBe('\u05D0\u05D1');
    expect(saslprep('\u05D0a\u05D1')).toBeUndefined();
  });

  it('RFC 3454 §7: unassigned code points are allowed in queries, not in stored strings', () => {
    expect(saslprep('a\u0378')).toBe('a\u0378');
    expect(saslprep('a\u0378', { storedString: true })).toBeUndefined();
  });
});
