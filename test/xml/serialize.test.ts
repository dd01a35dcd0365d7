import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { streamErrorElement } from '../../machines/conditions.js';
import { NS } from '../../machines/ns.js';
import { el, type XmlElement, type XmlNode } from '../../machines/xml.js';
import { StreamParser } from '../../runtime/xml/parser.js';
import { STREAM_CLOSE_TAG, serializeElement, serializeHeader } from '../../runtime/xml/serialize.js';

/** Parse `xml` as the only element of a stream with content namespace `ns`. */
function reparse(xml: string, ns: string = NS.CLIENT): XmlElement {
  const p = new StreamParser();
  const events = p.write(serializeHeader({ contentNamespace: ns }) + xml + STREAM_CLOSE_TAG);
  expect(events.map((e) => e.type)).toEqual(['HEADER', 'ELEMENT', 'STREAM_CLOSE']);
  return (events[1] as { element: XmlElement }).element;
}

describe('RFC 6120 §4.7 / §4.8.5: serializeHeader', () => {
  it('writes the XML declaration, both namespace declarations and the attributes present', () => {
    expect(serializeHeader({ contentNamespace: NS.CLIENT, from: 'im.example.com', to: 'juliet@im.example.com', id: 't7AMCin9', lang: 'en', version: '1.0' })).toBe(
      `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='im.example.com' to='juliet@im.example.com' id='t7AMCin9' xml:lang='en' version='1.0'>`,
    );
    // §4.8.4 interoperability note, XEP-0220 §2.1.1: a server stream also declares the dialback prefix.
    expect(serializeHeader({ contentNamespace: NS.SERVER })).toBe(
      `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback'>`,
    );
  });

  it("XEP-0220 examples: on a 'jabber:server' stream dialback elements carry the header's db: prefix; elsewhere they declare their namespace", () => {
    const result = el('result', NS.DIALBACK, { from: 'a.test', to: 'b.test' }, 'key');
    expect(serializeElement(result, NS.SERVER)).toBe(`<db:result from='a.test' to='b.test'>key</db:result>`);
    expect(serializeElement(result, NS.CLIENT)).toBe(`<result xmlns='jabber:server:dialback' from='a.test' to='b.test'>key</result>`);
  });

  it('escapes attribute values and parses back to the same header', () => {
    const header = { contentNamespace: NS.CLIENT, from: `a'b"c<d>&e`, id: 'x\ty\nz', lang: 'en', version: '1.0' };
    const xml = serializeHeader(header);
    expect(xml).toContain(`from='a&apos;b&quot;c&lt;d&gt;&amp;e'`);
    expect(new StreamParser().write(xml)).toEqual([{ type: 'HEADER', header }]);
  });

  it('STREAM_CLOSE_TAG closes the stream (§4.4)', () => {
    expect(STREAM_CLOSE_TAG).toBe('</stream:stream>');
  });
});

describe('RFC 6120 §4.8.5: serializeElement', () => {
  it('omits xmlns for the content namespace and declares it where it changes', () => {
    const msg = el('message', NS.CLIENT, { to: 'romeo@example.net' }, el('body', NS.CLIENT, {}, 'hi'), el('ping', NS.PING, {}, el('x', NS.PING)));
    expect(serializeElement(msg, NS.CLIENT)).toBe(`<message to='romeo@example.net'><body>hi</body><ping xmlns='urn:xmpp:ping'><x/></ping></message>`);
    expect(serializeElement(msg, NS.SERVER)).toBe(`<message xmlns='jabber:client' to='romeo@example.net'><body>hi</body><ping xmlns='urn:xmpp:ping'><x/></ping></message>`);
  });

  it('writes stream errors as <stream:error> with their conditions in the streams-errors namespace (§4.9.2)', () => {
    expect(serializeElement(streamErrorElement('not-well-formed', 'bad <xml>'), NS.CLIENT)).toBe(
      `<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>` +
        `<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>bad &lt;xml&gt;</text></stream:error>`,
    );
  });

  it('writes stream features with the stream prefix; children in the content namespace stay unprefixed', () => {
    const features = el('features', NS.STREAMS, {}, el('starttls', NS.TLS, {}, el('required', NS.TLS)), el('x', NS.CLIENT));
    expect(serializeElement(features, NS.CLIENT)).toBe(
      `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls><x/></stream:features>`,
    );
  });

  it('escapes text and attributes so that they parse back unchanged', () => {
    const tricky = `& < > " ' ]]> \r\n \t €😀`;
    const e = el('message', NS.CLIENT, { id: tricky }, el('body', NS.CLIENT, {}, tricky));
    const xml = serializeElement(e, NS.CLIENT);
    expect(xml).not.toContain(']]>');
    expect(reparse(xml)).toEqual(e);
  });

  it('replaces characters XML cannot carry by U+FFFD instead of writing ill-formed XML', () => {
    const e = el('message', NS.CLIENT, { id: 'a\u0000b' }, el('body', NS.CLIENT, {}, 'x\u0001\uD800\uFFFEy'));
    expect(reparse(serializeElement(e, NS.CLIENT))).toEqual(
      el('message', NS.CLIENT, { id: 'a\uFFFDb' }, el('body', NS.CLIENT, {}, 'x\uFFFD\uFFFD\uFFFDy')),
    );
  });

  it('keeps prefixed attributes with their declarations, and xml:lang', () => {
    const e = el('item', 'urn:x', { 'xml:lang': 'de', 'p:a': '1', 'xmlns:p': 'urn:p' }, el('sub', 'urn:x', { 'p:b': '2', 'xmlns:p': 'urn:p' }));
    expect(reparse(serializeElement(e, NS.CLIENT))).toEqual(e);
  });

  it('undeclares the default namespace for an element in no namespace', () => {
    const e = el('a', 'urn:a', {}, el('b', ''));
    expect(serializeElement(e, NS.CLIENT)).toBe(`<a xmlns='urn:a'><b xmlns=''/></a>`);
    expect(reparse(serializeElement(e, NS.CLIENT))).toEqual(e);
  });

  it('refuses names that are not XML names and undeclared attribute prefixes', () => {
    expect(() => serializeElement(el('a b', NS.CLIENT), NS.CLIENT)).toThrow(/element name/);
    expect(() => serializeElement(el('a', NS.CLIENT, { 'x y': '1' }), NS.CLIENT)).toThrow(/attribute/);
    expect(() => serializeElement(el('a', NS.CLIENT, { 'p:x': '1' }), NS.CLIENT)).toThrow(/prefix/);
    expect(() => serializeElement(el('a', NS.CLIENT, { 'p:x': '1', 'xmlns:p': '' }), NS.CLIENT)).toThrow(/namespace declaration/);
  });
});

// ---------------------------------------------------------------------------
// Round trip: serialize → parse inside a stream → the same element.
// ---------------------------------------------------------------------------

const XML_CHAR = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
const xmlString = fc
  .string({ unit: fc.oneof(fc.constantFrom('&', '<', '>', '"', "'", ']]>', '\r', '\n', '\t', ' ', '€', '😀', 'é'), fc.string({ unit: 'binary', maxLength: 1 })), maxLength: 12 })
  .filter((s) => XML_CHAR.test(s));
const localName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_.-]{0,6}$/).filter((s) => !/^xml/i.test(s));
const namespace = fc.constantFrom(NS.CLIENT, NS.STREAMS, 'urn:a', 'urn:b:c', 'http://example.com/x?a=1&b=2', '');
const PREFIXES = { p: 'urn:prefix:p', q: "urn:prefix:q'&" } as const;

const attrsArb = fc
  .record({
    plain: fc.dictionary(localName, xmlString, { maxKeys: 3 }),
    prefixed: fc.array(fc.tuple(fc.constantFrom('p', 'q'), localName, xmlString), { maxLength: 2 }),
    lang: fc.option(fc.constantFrom('en', 'de-CH', ''), { nil: undefined }),
  })
  .map(({ plain, prefixed, lang }) => {
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(plain)) attrs[k] = v;
    for (const [prefix, name, value] of prefixed) {
      attrs[`${prefix}:${name}`] = value;
      attrs[`xmlns:${prefix}`] = PREFIXES[prefix as keyof typeof PREFIXES];
    }
    if (lang !== undefined) attrs['xml:lang'] = lang;
    return attrs;
  });

const { element: elementArb } = fc.letrec<{ element: XmlElement; node: XmlNode }>((tie) => ({
  element: fc.record({
    name: localName,
    xmlns: namespace,
    attrs: attrsArb,
    children: fc.array(tie('node'), { maxLength: 4, depthIdentifier: 'xml' }),
  }),
  node: fc.oneof({ depthSize: 'small', depthIdentifier: 'xml' }, xmlString, tie('element')),
}));

/** The parser's view: adjacent text merged, empty text dropped. */
function normalize(e: XmlElement): XmlElement {
  const children: XmlNode[] = [];
  for (const c of e.children) {
    if (typeof c !== 'string') children.push(normalize(c));
    else if (c !== '') {
      const last = children[children.length - 1];
      if (typeof last === 'string') children[children.length - 1] = last + c;
      else children.push(c);
    }
  }
  return { ...e, children };
}

describe('serializeElement ∘ parse is the identity', () => {
  test.prop([elementArb, fc.constantFrom(NS.CLIENT, NS.SERVER)], { numRuns: 300 })(
    'random elements (escaping, unicode, namespaces, prefixed attributes) survive a round trip',
    (element, contentNs) => {
      const xml = serializeElement(element, contentNs);
      expect(reparse(xml, contentNs)).toEqual(normalize(element));
    },
  );

  test.prop([fc.array(elementArb, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 8 })], { numRuns: 100 })(
    'a stream of random elements cut at random byte positions parses to the same elements',
    (elements, rawCuts) => {
      const bytes = new TextEncoder().encode(
        serializeHeader({ contentNamespace: NS.CLIENT }) + elements.map((e) => serializeElement(e, NS.CLIENT)).join(' ') + STREAM_CLOSE_TAG,
      );
      const cuts = [...new Set(rawCuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
      const p = new StreamParser();
      const events = [];
      let at = 0;
      for (const cut of [...cuts, bytes.length]) {
        events.push(...p.write(bytes.subarray(at, cut)));
        at = cut;
      }
      const parsed = events.filter((e) => e.type === 'ELEMENT').map((e) => (e as { element: XmlElement }).element);
      expect(parsed).toEqual(elements.map(normalize));
      expect(events[events.length - 1]).toEqual({ type: 'STREAM_CLOSE' });
    },
  );
});
