/**
 * Dialback keys against the XEP's own worked examples, read from spec/xep-0220.xml itself so
 * the assertion is the published value, not a copy of it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DialbackSecret, dialbackKey, keysEqual } from '../../../machines/dialback/key.js';

const XEP = readFileSync(new URL('../../../spec/xep-0220.xml', import.meta.url), 'utf8');

/** Each `key = HMAC-SHA256( SHA256('secret'), { 'a', ' ', 'b', ' ', 'id' } ) = hex` block of the XEP. */
function workedExamples(): { secret: string; receiving: string; originating: string; streamId: string; key: string }[] {
  const re = /key = HMAC-SHA256\(\s*SHA256\('([^']+)'\),\s*\{ '([^']+)', ' ', '([^']+)', ' ', '([^']+)' \}\s*\)\s*= ([0-9a-f]{64})/g;
  return [...XEP.matchAll(re)].map((m) => ({ secret: m[1]!, receiving: m[2]!, originating: m[3]!, streamId: m[4]!, key: m[5]! }));
}

describe('dialback key generation (XEP-0220 §2.1.1, §2.2.2, XEP-0185)', () => {
  it('XEP-0220 §2.1.1 and §2.2.2: both worked examples of the XEP give the published key', () => {
    const examples = workedExamples();
    expect(examples).toHaveLength(2);
    expect(examples[0]).toEqual({
      secret: 's3cr3tf0rd14lb4ck',
      receiving: 'montague.example',
      originating: 'capulet.example',
      streamId: 'D60000229F',
      key: 'b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3',
    });
    for (const x of examples) {
      expect(dialbackKey(x.secret, x.receiving, x.originating, x.streamId)).toBe(x.key);
      expect(new DialbackSecret(x.secret).key(x.receiving, x.originating, x.streamId)).toBe(x.key);
    }
  });

  it('XEP-0220 §2.1.1: the key is the one Example 1 sends, and changes with each input', () => {
    const s = new DialbackSecret('s3cr3tf0rd14lb4ck');
    const k = s.key('montague.example', 'capulet.example', 'D60000229F');
    expect(XEP).toContain(`>\n        ${k}\n      </db:result>`);
    expect(s.key('capulet.example', 'montague.example', 'D60000229F')).not.toBe(k);
    expect(s.key('montague.example', 'capulet.example', 'D60000229G')).not.toBe(k);
    expect(new DialbackSecret('another').key('montague.example', 'capulet.example', 'D60000229F')).not.toBe(k);
  });

  it('XEP-0220 §2.2.2: keysEqual accepts the same key only', () => {
    const k = dialbackKey('d14lb4ck43v3r', 'capulet.example', 'montague.example', '417GAF25');
    expect(keysEqual(k, k)).toBe(true);
    expect(keysEqual(k.toUpperCase(), k)).toBe(false);
    expect(keysEqual(k.slice(0, -1), k)).toBe(false);
    expect(keysEqual(`${k}0`, k)).toBe(false);
    expect(keysEqual('', k)).toBe(false);
  });

  it('the secret never shows: JSON, string conversion and object keys hide it', () => {
    const s = new DialbackSecret('s3cr3tf0rd14lb4ck');
    expect(JSON.stringify({ s })).toBe('{"s":"[dialback secret]"}');
    expect(String(s)).toBe('[dialback secret]');
    expect(Object.keys(s)).toEqual([]);
    expect(JSON.stringify({ s })).not.toContain('s3cr3t');
    expect(() => new DialbackSecret('')).toThrow();
  });
});
