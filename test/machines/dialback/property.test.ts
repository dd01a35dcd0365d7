/**
 * Properties of the parsers over generated input: any element, however malformed, gives a
 * value or a reason (never an exception), and whatever the builders make parses back to
 * what they were given.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { parseResult, parseVerify, resultAnswer, resultError, resultRequest, verifyAnswer, verifyRequest } from '../../../machines/dialback/elements.js';
import { DIALBACK_ERROR_CONDITIONS } from '../../../machines/dialback/errors.js';
import { DialbackSecret, keysEqual } from '../../../machines/dialback/key.js';
import { NS } from '../../../machines/ns.js';
import type { XmlElement, XmlNode } from '../../../machines/xml.js';

const NAMESPACES = [NS.DIALBACK, NS.SERVER, NS.STANZAS, NS.CLIENT, 'urn:other'];
const NAMES = ['result', 'verify', 'error', 'item-not-found', 'forbidden', 'text', 'x'];
const VALUES = ['', ' ', 'capulet.example', 'a@b.example', 'b.example/r', 'valid', 'invalid', 'error', 'cancel', 'wait', '417GAF25', 'x y'];

const attrsArb = fc.dictionary(fc.constantFrom('from', 'to', 'id', 'type', 'xml:lang'), fc.oneof(fc.constantFrom(...VALUES), fc.string()), { maxKeys: 5 });

const elementArb: fc.Arbitrary<XmlElement> = fc.letrec<{ element: XmlElement; node: XmlNode }>((tie) => ({
  element: fc.record({
    name: fc.constantFrom(...NAMES),
    xmlns: fc.constantFrom(...NAMESPACES),
    attrs: attrsArb,
    children: fc.array(tie('node'), { maxLength: 3 }),
  }),
  node: fc.oneof({ depthSize: 'small' }, fc.string({ maxLength: 8 }), tie('element')),
})).element;

const domainArb = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){1,2}$/);
const keyArb = fc.stringMatching(/^[0-9a-f]{1,64}$/);
const idArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/);

describe('dialback parsers over generated input (XEP-0220 §2.1, §6.1)', () => {
  test.prop([elementArb], { numRuns: 500 })('XEP-0220 §2.1: parsers never throw; a failure always has a reason', (e) => {
    for (const parse of [parseResult, parseVerify]) {
      const p = parse({ ...e, name: parse === parseResult ? 'result' : 'verify', xmlns: NS.DIALBACK });
      if (!p.ok) expect(p.reason.length).toBeGreaterThan(0);
      expect(() => parse(e)).not.toThrow();
    }
  });

  test.prop([domainArb, domainArb, keyArb, idArb, fc.constantFrom(...Object.keys(DIALBACK_ERROR_CONDITIONS))])(
    'XEP-0220 §2.1.1, §2.1.2, §2.5: what the builders make parses back to their arguments',
    (from, to, key, id, condition) => {
      expect(parseResult(resultRequest(from, to, key))).toEqual({ ok: true, value: { kind: 'request', from, to, key } });
      expect(parseResult(resultAnswer(from, to, 'valid'))).toEqual({ ok: true, value: { kind: 'valid', from, to } });
      expect(parseVerify(verifyRequest(from, to, id, key))).toEqual({ ok: true, value: { kind: 'request', from, to, id, key } });
      expect(parseVerify(verifyAnswer(from, to, id, 'invalid'))).toEqual({ ok: true, value: { kind: 'invalid', from, to, id } });
      const err = parseResult(resultError(from, to, condition as keyof typeof DIALBACK_ERROR_CONDITIONS));
      expect(err.ok && err.value.kind === 'error' && err.value.error.condition).toBe(condition);
    },
  );

  test.prop([fc.string({ minLength: 1 }), domainArb, domainArb, idArb, idArb])(
    'XEP-0220 §2.2.2: a key verifies only for the stream ID it was made for',
    (secret, receiving, originating, id, other) => {
      const s = new DialbackSecret(secret);
      const k = s.key(receiving, originating, id);
      expect(keysEqual(k, s.key(receiving, originating, id))).toBe(true);
      expect(keysEqual(k, s.key(receiving, originating, other))).toBe(id === other);
    },
  );
});
