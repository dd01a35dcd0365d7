import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { decodeSaslData, encodeSaslData } from '../../machines/sasl/index.js';

describe('RFC 6120 §6.4.2 / §13.9.1: SASL data encoding', () => {
  test.prop([fc.uint8Array({ maxLength: 300 })])('decode(encode(x)) = x for any bytes', (data) => {
    const t = encodeSaslData(data);
    expect(decodeSaslData(t)).toEqual(data);
    expect(t).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
  });

  test.prop([fc.string({ maxLength: 80 })])('any text either decodes to bytes that re-encode to it, or is rejected', (t) => {
    const d = decodeSaslData(t);
    if (d === undefined) return;
    if (t === '' || t === '=') expect(d.byteLength).toBe(0);
    else expect(encodeSaslData(d)).toBe(t);
  });

  it('empty data is sent as a single "=" (§6.4.2) and both "=" and no text decode to empty', () => {
    expect(encodeSaslData(new Uint8Array(0))).toBe('=');
    expect(decodeSaslData('=')).toEqual(new Uint8Array(0));
    expect(decodeSaslData('')).toEqual(new Uint8Array(0));
  });

  it('encodes with standard alphabet and padding', () => {
    expect(encodeSaslData(new Uint8Array([0xfb, 0xff]))).toBe('+/8=');
    expect(encodeSaslData(new TextEncoder().encode('user'))).toBe('dXNlcg==');
  });

  it.each([
    ['characters outside the alphabet', 'dXNl*g=='],
    ['URL-safe alphabet', '-_8='],
    ['whitespace inside', 'dXNl cg=='],
    ['line break inside', 'dXNl\ncg=='],
    ['leading whitespace', ' dXNlcg=='],
    ['trailing newline', 'dXNlcg==\n'],
    ['pad in the middle (§13.9.1 "BBBB=CCC")', 'BBBB=CCC'],
    ['pad at the start (§13.9.1 "=AAA")', '=AAA'],
    ['missing padding', 'dXNlcg'],
    ['too much padding', 'dXNlcg==='],
    ['length not a multiple of four', 'dXNlc'],
    ['non-zero padding bits (§13.9.1)', 'dXNlch=='],
    ['non-zero padding bits, one pad', 'QUJ='],
    ['two "="', '=='],
  ])('rejects %s', (_why, t) => {
    expect(decodeSaslData(t)).toBeUndefined();
  });
});
