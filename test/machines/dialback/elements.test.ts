import { describe, expect, it } from 'vitest';
import {
  dialbackFeature,
  isDialbackElement,
  parseDialbackFeature,
  parseResult,
  parseVerify,
  resultAnswer,
  resultError,
  resultRequest,
  verifyAnswer,
  verifyError,
  verifyRequest,
  type DbResult,
  type DbVerify,
} from '../../../machines/dialback/elements.js';
import { DIALBACK_ERROR_CONDITIONS, dialbackErrorType, isDialbackErrorCondition } from '../../../machines/dialback/errors.js';
import { NS } from '../../../machines/ns.js';
import { el, type XmlElement } from '../../../machines/xml.js';
import { dialbackExamples, parseOne, trimmed, XEP_TEXT } from './xep.js';

function rebuildResult(v: DbResult): XmlElement {
  if (v.kind === 'request') return resultRequest(v.from, v.to, v.key);
  if (v.kind === 'error') return resultError(v.from, v.to, v.error.condition, v.error.text);
  return resultAnswer(v.from, v.to, v.kind);
}
function rebuildVerify(v: DbVerify): XmlElement {
  if (v.kind === 'request') return verifyRequest(v.from, v.to, v.id, v.key);
  if (v.kind === 'error') return verifyError(v.from, v.to, v.id, v.error.condition, v.error.text);
  return verifyAnswer(v.from, v.to, v.id, v.kind);
}

describe('dialback elements: the XEP-0220 examples (§2.1.1, §2.1.2, §2.2.1, §2.2.2)', () => {
  const examples = dialbackExamples();

  it('XEP-0220 §2: the XEP has sixteen dialback examples and every one parses', () => {
    expect(examples).toHaveLength(16);
    for (const x of examples) {
      const parsed = x.element.name === 'result' ? parseResult(x.element) : parseVerify(x.element);
      expect(parsed, x.caption).toMatchObject({ ok: true });
    }
  });

  it('XEP-0220 §2: each example is rebuilt exactly by the builders (round trip)', () => {
    for (const x of examples) {
      const rebuilt =
        x.element.name === 'result'
          ? (() => {
              const p = parseResult(x.element);
              if (!p.ok) throw new Error(p.reason);
              return rebuildResult(p.value);
            })()
          : (() => {
              const p = parseVerify(x.element);
              if (!p.ok) throw new Error(p.reason);
              return rebuildVerify(p.value);
            })();
      expect(rebuilt, x.caption).toEqual(trimmed(x.element));
    }
  });

  it('XEP-0220 §2.1.1: Example 1 is a request with the key; Examples 2-4 a valid, an invalid and an error verdict', () => {
    const [step1, valid, invalid, error] = examples.map((x) => parseResult(x.element));
    expect(step1).toEqual({
      ok: true,
      value: { kind: 'request', from: 'capulet.example', to: 'montague.example', key: 'b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3' },
    });
    expect(valid).toEqual({ ok: true, value: { kind: 'valid', from: 'montague.example', to: 'capulet.example' } });
    expect(invalid).toEqual({ ok: true, value: { kind: 'invalid', from: 'montague.example', to: 'capulet.example' } });
    expect(error).toEqual({
      ok: true,
      value: { kind: 'error', from: 'montague.example', to: 'capulet.example', error: { condition: 'item-not-found', type: 'cancel' } },
    });
  });

  it("XEP-0220 §2.1.2: Example 5 is a verification request whose 'id' is the Stream ID", () => {
    const step2 = examples.find((x) => x.caption.startsWith('Receiving Server Sends Verification Request'))!;
    expect(parseVerify(step2.element)).toEqual({
      ok: true,
      value: { kind: 'request', from: 'capulet.example', to: 'montague.example', id: '417GAF25', key: '225cc5aa6a071133249d25fef42ae516fc7a86c523aa1c6980a7f73e784c972d' },
    });
  });

  it('XEP-0220 §2.5: a dialback error keeps its <text/> through a round trip', () => {
    const e = resultError('montague.example', 'capulet.example', 'remote-server-timeout', 'no answer');
    const p = parseResult(e);
    expect(p).toEqual({
      ok: true,
      value: { kind: 'error', from: 'montague.example', to: 'capulet.example', error: { condition: 'remote-server-timeout', type: 'wait', text: 'no answer' } },
    });
    if (p.ok) expect(rebuildResult(p.value)).toEqual(e);
  });

  it("XEP-0220 §6.1 (mixed content): a verdict that echoes the key and an 'id', as Prosody 0.12 sends Step 4, is the verdict", () => {
    // Seen on the wire from Prosody 0.12.3 (test/s2s/interop-prosody.test.ts).
    const prosody = "<db:result type='valid' to='c.test' id='3fdca96a-a790-4631-8380-58e1afceaae0' from='b.test'>73ec9bbd0cdaecd8aa7ee12b7b0c7a365031a42b5da39808dedbfc286d546f3e</db:result>";
    expect(parseResult(parseOne(prosody))).toEqual({ ok: true, value: { kind: 'valid', from: 'b.test', to: 'c.test' } });
    expect(parseVerify(parseOne("<db:verify from='b.test' to='c.test' id='i1' type='invalid'>k</db:verify>"))).toEqual({
      ok: true,
      value: { kind: 'invalid', from: 'b.test', to: 'c.test', id: 'i1' },
    });
  });

  it("XEP-0220 §2.1: domains are prepared: upper case and a trailing dot become the domain's canonical form", () => {
    expect(parseResult(parseOne("<db:result from='Capulet.Example.' to='MONTAGUE.example'>k</db:result>"))).toEqual({
      ok: true,
      value: { kind: 'request', from: 'capulet.example', to: 'montague.example', key: 'k' },
    });
  });
});

describe('dialback stream feature (XEP-0220 §2.4.2)', () => {
  it('XEP-0220 §2.4.2: the builder gives the feature of the XEP example, and the example parses as errors supported', () => {
    const m = /<!\[CDATA\[\s*(<stream:features>[\s\S]*?<\/stream:features>)/.exec(XEP_TEXT)!;
    const features = parseOne(m[1]!);
    expect(trimmed(features).children).toEqual([dialbackFeature()]);
    expect(parseDialbackFeature(features)).toEqual({ advertised: true, errors: true });
  });

  it('XEP-0220 §2.4.2: without <errors/> the feature is advertised but error handling is not; without it nothing is', () => {
    expect(parseDialbackFeature(el('features', NS.STREAMS, {}, el('dialback', NS.DIALBACK_FEATURES)))).toEqual({ advertised: true, errors: false });
    expect(parseDialbackFeature(el('features', NS.STREAMS, {}, el('starttls', NS.TLS)))).toEqual({ advertised: false, errors: false });
    // <errors/> in another namespace is not the sub-feature.
    expect(parseDialbackFeature(el('features', NS.STREAMS, {}, el('dialback', NS.DIALBACK_FEATURES, {}, el('errors', 'urn:other'))))).toEqual({
      advertised: true,
      errors: false,
    });
  });
});

describe('dialback error conditions (XEP-0220 §2.5)', () => {
  it('XEP-0220 §2.5: the table lists the nine conditions of the XEP, each with its step', () => {
    const rows = [...XEP_TEXT.matchAll(/<tr>\s*<td>&(\w+);<\/td>[\s\S]*?<td>Step ([\d or]+)<\/td>/g)].map((m) => m[2]!.split(' or ').map(Number));
    expect(Object.keys(DIALBACK_ERROR_CONDITIONS)).toHaveLength(rows.length);
    expect(Object.values(DIALBACK_ERROR_CONDITIONS).map((c) => c.steps)).toEqual(rows);
  });

  it('XEP-0220 §2.5: any stanza error condition is accepted, remote-connection-failed too, nothing else', () => {
    for (const c of Object.keys(DIALBACK_ERROR_CONDITIONS)) expect(isDialbackErrorCondition(c)).toBe(true);
    expect(isDialbackErrorCondition('service-unavailable')).toBe(true);
    expect(isDialbackErrorCondition('host-unknown')).toBe(false);
    expect(isDialbackErrorCondition('toString')).toBe(false);
    expect(dialbackErrorType('remote-connection-failed')).toBe('cancel');
    expect(dialbackErrorType('item-not-found')).toBe('cancel');
    expect(dialbackErrorType('remote-server-timeout')).toBe('wait');
  });
});

const STANZAS = `xmlns='${NS.STANZAS}'`;

/** [description, element XML, reason]: one per rejection reason of the parsers. */
const MALFORMED_RESULTS: readonly [string, string, string][] = [
  ["no 'from'", "<db:result to='montague.example'>k</db:result>", "'from' is missing"],
  ["'from' a full JID", "<db:result from='juliet@capulet.example' to='montague.example'>k</db:result>", "'from' is not a domain name"],
  ["'from' with a resource", "<db:result from='capulet.example/r' to='montague.example'>k</db:result>", "'from' is not a domain name"],
  ["'from' empty", "<db:result from='' to='montague.example'>k</db:result>", "'from' is not a domain name"],
  ["no 'to'", "<db:result from='capulet.example'>k</db:result>", "'to' is missing"],
  ["'to' with a space", "<db:result from='capulet.example' to='montague example'>k</db:result>", "'to' is not a domain name"],
  ['a request without a key', "<db:result from='capulet.example' to='montague.example'>  </db:result>", 'the key is missing'],
  ['a request with a child element', "<db:result from='capulet.example' to='montague.example'>k<x/></db:result>", 'a request carries only the key'],
  ['a key with inner whitespace', "<db:result from='capulet.example' to='montague.example'>ab cd</db:result>", 'the key is not a dialback key'],
  ['a key longer than 1023 characters', `<db:result from='capulet.example' to='montague.example'>${'a'.repeat(1024)}</db:result>`, 'the key is not a dialback key'],
  ['an unknown type', "<db:result from='capulet.example' to='montague.example' type='maybe'/>", "unknown type 'maybe'"],
  ["type='invalid' with a child", "<db:result from='capulet.example' to='montague.example' type='invalid'><x/></db:result>", "type='invalid' must be empty"],
  ["type='error' without <error/>", "<db:result from='capulet.example' to='montague.example' type='error'/>", "type='error' needs exactly one <error/>"],
  [
    "type='error' with two <error/>",
    `<db:result from='capulet.example' to='montague.example' type='error'><error type='cancel'><gone ${STANZAS}/></error><error type='cancel'><gone ${STANZAS}/></error></db:result>`,
    "type='error' needs exactly one <error/>",
  ],
  [
    "type='error' with a key",
    `<db:result from='capulet.example' to='montague.example' type='error'>k<error type='cancel'><gone ${STANZAS}/></error></db:result>`,
    "type='error' carries no key",
  ],
  [
    '<error/> in the dialback namespace',
    `<db:result from='capulet.example' to='montague.example' type='error'><db:error type='cancel'><gone ${STANZAS}/></db:error></db:result>`,
    "type='error' needs an <error/> qualified by 'jabber:server'",
  ],
  [
    "<error/> without 'type'",
    `<db:result from='capulet.example' to='montague.example' type='error'><error><gone ${STANZAS}/></error></db:result>`,
    "<error/> has no valid 'type'",
  ],
  [
    "<error/> with an unknown 'type'",
    `<db:result from='capulet.example' to='montague.example' type='error'><error type='later'><gone ${STANZAS}/></error></db:result>`,
    "<error/> has no valid 'type'",
  ],
  [
    '<error/> without a condition',
    `<db:result from='capulet.example' to='montague.example' type='error'><error type='cancel'><text ${STANZAS}>why</text></error></db:result>`,
    '<error/> has no stanza error condition',
  ],
  [
    '<error/> with an undefined condition',
    `<db:result from='capulet.example' to='montague.example' type='error'><error type='cancel'><host-unknown ${STANZAS}/></error></db:result>`,
    "unknown stanza error condition 'host-unknown'",
  ],
  [
    '<error/> with two conditions',
    `<db:result from='capulet.example' to='montague.example' type='error'><error type='cancel'><gone ${STANZAS}/><forbidden ${STANZAS}/></error></db:result>`,
    '<error/> has more than one condition',
  ],
];

const MALFORMED_VERIFIES: readonly [string, string, string][] = [
  ["no 'id'", "<db:verify from='capulet.example' to='montague.example'>k</db:verify>", "'id' is missing"],
  ["an empty 'id'", "<db:verify from='capulet.example' to='montague.example' id=''>k</db:verify>", "'id' is not a stream ID"],
  ["an 'id' with a space", "<db:verify from='capulet.example' to='montague.example' id='a b'>k</db:verify>", "'id' is not a stream ID"],
  ["no 'from'", "<db:verify to='montague.example' id='417GAF25'>k</db:verify>", "'from' is missing"],
  ['no key', "<db:verify from='capulet.example' to='montague.example' id='417GAF25'/>", 'the key is missing'],
  ['an unknown type', "<db:verify from='capulet.example' to='montague.example' id='417GAF25' type='yes'/>", "unknown type 'yes'"],
];

describe('dialback elements: strict parsers reject malformed input with a reason, never throw (XEP-0220 §2.1, §6.1)', () => {
  it.each(MALFORMED_RESULTS)('XEP-0220 §2.1.1 <db:result/> with %s', (_, xml, reason) => {
    expect(parseResult(parseOne(xml))).toEqual({ ok: false, reason });
  });

  it.each(MALFORMED_VERIFIES)('XEP-0220 §2.1.2 <db:verify/> with %s', (_, xml, reason) => {
    expect(parseVerify(parseOne(xml))).toEqual({ ok: false, reason });
  });

  it('XEP-0220 §2.1: an element of another name or namespace is not taken for a dialback element', () => {
    expect(isDialbackElement(el('result', NS.DIALBACK))).toBe(true);
    expect(isDialbackElement(el('verify', NS.DIALBACK))).toBe(true);
    expect(isDialbackElement(el('result', NS.SERVER))).toBe(false);
    expect(isDialbackElement(el('error', NS.DIALBACK))).toBe(false);
    expect(parseResult(el('verify', NS.DIALBACK))).toEqual({ ok: false, reason: 'not a <db:result/>' });
    expect(parseResult(el('result', NS.SERVER))).toEqual({ ok: false, reason: 'not a <db:result/>' });
    expect(parseVerify(el('result', NS.DIALBACK))).toEqual({ ok: false, reason: 'not a <db:verify/>' });
  });

  it("XEP-0220 §2.5: an application-specific condition beside the stanza condition is ignored", () => {
    const e = parseOne(`<db:result from='montague.example' to='capulet.example' type='error'><error type='cancel'><item-not-found ${STANZAS}/><x xmlns='urn:xmpp:dialback:errors'/></error></db:result>`);
    expect(parseResult(e)).toMatchObject({ ok: true, value: { kind: 'error', error: { condition: 'item-not-found' } } });
  });
});
