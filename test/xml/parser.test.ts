import { describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { el } from '../../machines/xml.js';
import { StreamParser } from '../../runtime/xml/parser.js';
import { HEADER, HEADER_EVENT, STREAM_ATTRS, parse, parseInStream } from './helpers.js';

describe('RFC 6120 §4.2 / §4.7: stream header', () => {
  it('reports the header attributes and the content namespace', () => {
    const events = parse(
      `<?xml version='1.0' encoding='UTF-8'?><stream:stream ${STREAM_ATTRS} from='juliet@im.example.com' to='im.example.com' id='abc' version='1.0' xml:lang='en'>`,
    );
    expect(events).toEqual([
      {
        type: 'HEADER',
        header: { contentNamespace: NS.CLIENT, from: 'juliet@im.example.com', to: 'im.example.com', id: 'abc', version: '1.0', lang: 'en' },
      },
    ]);
  });

  it('accepts a header without XML declaration (§11.5 SHOULD) and jabber:server (§4.8.3)', () => {
    expect(parse(`<stream:stream xmlns='jabber:server' xmlns:stream='${NS.STREAMS}'>`)).toEqual([
      { type: 'HEADER', header: { contentNamespace: NS.SERVER } },
    ]);
  });

  it('leaves absent attributes out of the header', () => {
    const [ev] = parse(`<stream:stream ${STREAM_ATTRS}>`);
    expect(ev).toEqual({ type: 'HEADER', header: { contentNamespace: NS.CLIENT } });
  });

  it("§11.8: always XML 1.0, whatever version the declaration names; standalone='yes' is ignored (§11.5)", () => {
    const p = new StreamParser();
    expect(p.write(`<?xml version='1.1' standalone='yes'?><stream:stream ${STREAM_ATTRS}>`)).toEqual([
      { type: 'HEADER', header: { contentNamespace: NS.CLIENT } },
    ]);
    // &#x1; is a character in XML 1.1 only.
    expect(p.write(`<message><body>&#x1;</body></message>`)).toEqual([expect.objectContaining({ condition: 'not-well-formed' })]);
  });

  it('restricts content namespaces to the configured ones', () => {
    const events = new StreamParser({ contentNamespaces: [NS.SERVER] }).write(`<stream:stream ${STREAM_ATTRS}>`);
    expect(events).toEqual([expect.objectContaining({ type: 'PARSE_ERROR', condition: 'invalid-namespace' })]);
  });
});

describe('RFC 6120 §4.8 namespaces: top-level elements', () => {
  it('resolves names to local name + namespace whatever prefix the peer used', () => {
    const events = parseInStream(
      `<message to='romeo@example.net' type='chat' xml:lang='en'><body>hi</body><x:thread xmlns:x='urn:example:x'>t1</x:thread></message>`,
    );
    expect(events).toEqual([
      {
        type: 'ELEMENT',
        element: el('message', NS.CLIENT, { to: 'romeo@example.net', type: 'chat', 'xml:lang': 'en' },
          el('body', NS.CLIENT, {}, 'hi'),
          el('thread', 'urn:example:x', {}, 't1')),
      },
    ]);
  });

  it('keeps xmlns:p declarations only where a prefixed attribute needs them', () => {
    const events = parseInStream(`<iq xmlns:a='urn:a' type='get' id='1'><q xmlns='urn:q' a:x='1'><r a:y='2'/></q></iq>`);
    expect(events).toEqual([
      {
        type: 'ELEMENT',
        element: el('iq', NS.CLIENT, { type: 'get', id: '1' },
          el('q', 'urn:q', { 'a:x': '1', 'xmlns:a': 'urn:a' }, el('r', 'urn:q', { 'a:y': '2', 'xmlns:a': 'urn:a' }))),
      },
    ]);
  });

  it('reports stream-namespace elements as ELEMENT events (features, errors)', () => {
    const events = parseInStream(
      `<stream:features><starttls xmlns='${NS.TLS}'><required/></starttls></stream:features>` +
        `<stream:error><not-well-formed xmlns='${NS.STREAM_ERRORS}'/></stream:error>`,
    );
    expect(events).toEqual([
      { type: 'ELEMENT', element: el('features', NS.STREAMS, {}, el('starttls', NS.TLS, {}, el('required', NS.TLS))) },
      { type: 'ELEMENT', element: el('error', NS.STREAMS, {}, el('not-well-formed', NS.STREAM_ERRORS)) },
    ]);
  });

  it('decodes predefined entities, character references and CDATA sections', () => {
    const events = parseInStream(`<message><body>a&amp;b&lt;&gt;&quot;&apos;&#x20AC;&#8364;<![CDATA[<x>]]></body></message>`);
    expect(events).toEqual([{ type: 'ELEMENT', element: el('message', NS.CLIENT, {}, el('body', NS.CLIENT, {}, `a&b<>"'€€<x>`)) }]);
  });

  it('reports </stream:stream> as STREAM_CLOSE (§4.4) and nothing after it', () => {
    const p = new StreamParser();
    expect(p.write(HEADER)).toEqual([HEADER_EVENT]);
    expect(p.write(`<presence/></stream:stream>`)).toEqual([
      { type: 'ELEMENT', element: el('presence', NS.CLIENT) },
      { type: 'STREAM_CLOSE' },
    ]);
    expect(p.write('<message/>')).toEqual([]);
  });
});

describe('Namespaces in XML: declarations', () => {
  it('a namespace name wrapped in whitespace means the name inside (as the former parser read it)', () => {
    expect(parse(`<stream:stream xmlns=' jabber:client' xmlns:stream='\r\n${NS.STREAMS}\t'>`)).toEqual([
      { type: 'HEADER', header: { contentNamespace: NS.CLIENT } },
    ]);
  });

  it.each([
    [`<message xmlns:p=''/>`, 'an undeclared prefix (XML 1.0 has no undeclaring)'],
    [`<message xmlns:xml='urn:other'/>`, "'xml' bound to another namespace"],
    [`<message xmlns:xmlns='urn:other'/>`, "'xmlns' declared"],
    [`<message xmlns:p='http://www.w3.org/2000/xmlns/'/>`, 'the xmlns namespace bound to a prefix'],
    [`<xmlns:message/>`, "an element with the prefix 'xmlns'"],
    [`<message xmlns:a='urn:x' xmlns:b='urn:x' a:t='1' b:t='2'/>`, 'two attributes with one expanded name'],
    [`<message a:b:c='1'/>`, 'an attribute name that is not a QName'],
    [`<message xmlns:-='urn:x'/>`, 'a declared prefix that is not an NCName'],
    [`<message to='&a:b;'/>`, 'an entity name with a colon (section 6)'],
    [`<message><?a:b x?></message>`, 'a processing instruction target with a colon (section 6)'],
  ])('%s → not-well-formed (%s)', (stanza) => {
    expect(parseInStream(stanza)).toEqual([expect.objectContaining({ type: 'PARSE_ERROR', condition: 'not-well-formed' })]);
  });
});

describe('RFC 6120 §4.6.1 / §11.7: whitespace between top-level elements', () => {
  it('is one KEEPALIVE per write, not stored anywhere', () => {
    const p = new StreamParser();
    p.write(HEADER);
    expect(p.write(' ')).toEqual([{ type: 'KEEPALIVE' }]);
    expect(p.write('\n\t \r\n')).toEqual([{ type: 'KEEPALIVE' }]);
    expect(p.write(' <presence/> \n <presence/>  ')).toEqual([
      { type: 'KEEPALIVE' },
      { type: 'ELEMENT', element: el('presence', NS.CLIENT) },
      { type: 'ELEMENT', element: el('presence', NS.CLIENT) },
    ]);
  });

  it('inside an element is character data, not a keepalive', () => {
    expect(parseInStream(`<message>\n <body> x </body>\n</message>`)).toEqual([
      { type: 'ELEMENT', element: el('message', NS.CLIENT, {}, '\n ', el('body', NS.CLIENT, {}, ' x '), '\n') },
    ]);
  });
});

describe('RFC 6120 §4.9.3 / §11: rejected input, one PARSE_ERROR, then silence', () => {
  const inStream = (body: string) => HEADER + body;
  const cases: [string, string, string][] = [
    // [description, input, condition]
    ['§4.8.1 stream root in the wrong namespace', `<stream:stream xmlns='jabber:client' xmlns:stream='http://wrong.namespace.example.org/'>`, 'invalid-namespace'],
    ['§4.8.1 a non-stream element as root', `<message xmlns='jabber:client'/>`, 'invalid-namespace'],
    ['§4.8.1 a non-stream element without namespace as root', `<foo/>`, 'invalid-namespace'],
    ['§4.2 a streams-namespace element that is not <stream>', `<stream:features xmlns:stream='${NS.STREAMS}' xmlns='jabber:client'>`, 'bad-format'],
    ['§4.9.3.2 stream prefix other than "stream"', `<foobar:stream xmlns='jabber:client' xmlns:foobar='${NS.STREAMS}'>`, 'bad-namespace-prefix'],
    ['§4.8.2 prefix-free canonicalization (not supported)', `<stream xmlns='${NS.STREAMS}'>`, 'bad-namespace-prefix'],
    ['§4.9.3.2 undeclared stream prefix', `<stream:stream xmlns='jabber:client'>`, 'bad-namespace-prefix'],
    ['§4.8.2 no content namespace declared', `<stream:stream xmlns:stream='${NS.STREAMS}'>`, 'invalid-namespace'],
    ['§4.9.3.10 unsupported content namespace', `<stream:stream xmlns='jabber:component:accept' xmlns:stream='${NS.STREAMS}'>`, 'invalid-namespace'],
    ['§4.9.3.22 declared encoding other than UTF-8', `<?xml version='1.0' encoding='UTF-16'?><stream:stream ${STREAM_ATTRS}>`, 'unsupported-encoding'],
    ['§4.9.3.22 declared ISO-8859-1', `<?xml version='1.0' encoding='ISO-8859-1'?><stream:stream ${STREAM_ATTRS}>`, 'unsupported-encoding'],
    ["§11.5 standalone='no'", `<?xml version='1.0' standalone='no'?><stream:stream ${STREAM_ATTRS}>`, 'restricted-xml'],
    ['§11.1 DOCTYPE before the header', `<?xml version='1.0'?><!DOCTYPE stream:stream><stream:stream ${STREAM_ATTRS}>`, 'restricted-xml'],
    ['§11.1 DTD with internal subset', `<!DOCTYPE x [<!ENTITY a 'b'>]><stream:stream ${STREAM_ATTRS}>`, 'restricted-xml'],
    ['§11.1 processing instruction before the header', `<?xml version='1.0'?><?foo bar?><stream:stream ${STREAM_ATTRS}>`, 'restricted-xml'],
    ['§11.1 comment before the header', `<!-- hi --><stream:stream ${STREAM_ATTRS}>`, 'restricted-xml'],
    ['§11.1 comment inside a stanza', inStream(`<message><!--<subject/>--><body>x</body></message>`), 'restricted-xml'],
    ['§11.1 comment between stanzas', inStream(`<presence/><!-- x --><presence/>`), 'restricted-xml'],
    ['§11.1 processing instruction in the stream', inStream(`<message><?php echo 1 ?></message>`), 'restricted-xml'],
    ['§11.1 DOCTYPE inside the stream', inStream(`<!DOCTYPE foo>`), 'restricted-xml'],
    ['§11.1 undefined entity reference', inStream(`<message><body>&nbsp;</body></message>`), 'restricted-xml'],
    ['§11.1 undefined entity in an attribute', inStream(`<message to='&foo;'/>`), 'restricted-xml'],
    ['§11.5 XML declaration inside the stream', inStream(`<?xml version='1.0'?>`), 'not-well-formed'],
    ['§11.3 mismatched closing tag', inStream(`<message><body>x</message>`), 'not-well-formed'],
    ['§11.3 stray closing tag', inStream(`</message>`), 'not-well-formed'],
    ['§11.3 closing the stream inside a stanza', inStream(`<message></stream:stream>`), 'not-well-formed'],
    ['§11.3 unquoted attribute', inStream(`<message to=romeo/>`), 'not-well-formed'],
    ['§11.3 duplicate attribute', inStream(`<message to='a' to='b'/>`), 'not-well-formed'],
    ['§11.3 raw & in text', inStream(`<message><body>a & b</body></message>`), 'not-well-formed'],
    ['§11.3 "<" in an attribute value', inStream(`<message to='a<b'/>`), 'not-well-formed'],
    ['§11.3 control character', inStream(`<message><body>\u0001</body></message>`), 'not-well-formed'],
    ['§11.3 character reference to a non-Char', inStream(`<message><body>&#0;</body></message>`), 'not-well-formed'],
    ['§11.3 ]]> in character data', inStream(`<message><body>]]></body></message>`), 'not-well-formed'],
    ['§11.3 text before the header', `hello<stream:stream ${STREAM_ATTRS}>`, 'not-well-formed'],
    ['§11.6 U+FEFF before the header is a character, not a BOM', `\uFEFF<stream:stream ${STREAM_ATTRS}>`, 'not-well-formed'],
    ['§4.9.3.2 undeclared element prefix in a stanza', inStream(`<message><foo:body>x</foo:body></message>`), 'bad-namespace-prefix'],
    ['§4.9.3.2 undeclared attribute prefix', inStream(`<message foo:bar='1'/>`), 'bad-namespace-prefix'],
    ['§4.8.5 content namespace with a prefix', inStream(`<foo:message xmlns:foo='jabber:client'><foo:body>x</foo:body></foo:message>`), 'bad-namespace-prefix'],
    ['§11.7 character data between stanzas', inStream(`<presence/>hello`), 'bad-format'],
    ['§11.7 character data right after the header', inStream(`x`), 'bad-format'],
    ['§11.7 an entity reference at the top level', inStream(`&amp;`), 'bad-format'],
    ['§11.7 a CDATA section at the top level', inStream(`<presence/><![CDATA[x]]>`), 'bad-format'],
    // Not whitespace, even when it holds nothing else (the former saxes-based parser let it through).
    ['§11.7 an empty CDATA section at the top level', inStream(`<presence/><![CDATA[]]>`), 'bad-format'],
    ['§11.7 a whitespace-only CDATA section at the top level', inStream(`<![CDATA[ \n]]><presence/>`), 'bad-format'],
    ['§11.1 an unterminated comment is refused at "<!--"', inStream(`<message><!-- no end`), 'restricted-xml'],
    ['§11.1 a processing instruction is refused at its target', inStream(`<message><?php no end`), 'restricted-xml'],
    ['§11.3 a malformed processing instruction', inStream(`<message><?php<x/>`), 'not-well-formed'],
    ['§4.3.3 a new stream header inside the open stream', inStream(`<stream:stream ${STREAM_ATTRS}>`), 'bad-format'],
  ];

  for (const [name, input, condition] of cases) {
    it(`${name} → <${condition}/>`, () => {
      const p = new StreamParser();
      const events = p.write(input);
      const errors = events.filter((e) => e.type === 'PARSE_ERROR');
      expect(errors).toEqual([expect.objectContaining({ type: 'PARSE_ERROR', condition })]);
      expect(events[events.length - 1]).toBe(errors[0]);
      expect((errors[0] as { text?: string }).text).toBeTruthy();
      // After a PARSE_ERROR nothing more until reset.
      expect(p.write(`<presence/>`)).toEqual([]);
      expect(p.write(HEADER)).toEqual([]);
    });
  }

  it('the same input as bytes gives the same error', () => {
    for (const [, input, condition] of cases) {
      const events = new StreamParser().write(new TextEncoder().encode(input));
      expect(events[events.length - 1]).toEqual(expect.objectContaining({ condition }));
    }
  });

  it('§4.9.3.22: invalid UTF-8 → unsupported-encoding', () => {
    const p = new StreamParser();
    expect(p.write(HEADER)).toEqual([HEADER_EVENT]);
    const events = p.write(Uint8Array.from([0x3c, 0x61, 0xc3, 0x28, 0x2f, 0x3e])); // <a\xC3(/>
    expect(events).toEqual([expect.objectContaining({ type: 'PARSE_ERROR', condition: 'unsupported-encoding' })]);
  });

  it('§4.9.3.22: overlong UTF-8 and encoded surrogates → unsupported-encoding', () => {
    for (const bad of [[0xc0, 0xbc], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]) {
      const p = new StreamParser();
      p.write(HEADER);
      expect(p.write(Uint8Array.from(bad))).toEqual([expect.objectContaining({ condition: 'unsupported-encoding' })]);
    }
  });

  it('§11.6: a UTF-16 stream (with or without BOM) → unsupported-encoding', () => {
    const text = `<?xml version='1.0'?><stream:stream ${STREAM_ATTRS}>`;
    const le = Buffer.from(text, 'utf16le');
    const withBom = Buffer.concat([Buffer.from([0xff, 0xfe]), le]);
    const be = Buffer.from(le).swap16();
    const withBomBe = Buffer.concat([Buffer.from([0xfe, 0xff]), be]);
    for (const bytes of [le, withBom, be, withBomBe]) {
      expect(new StreamParser().write(bytes)).toEqual([expect.objectContaining({ type: 'PARSE_ERROR', condition: 'unsupported-encoding' })]);
    }
  });

  it('a mismatched closing tag yields no ELEMENT or STREAM_CLOSE for the element it popped', () => {
    expect(parseInStream(`<presence/><message></iq>`)).toEqual([
      { type: 'ELEMENT', element: el('presence', NS.CLIENT) },
      expect.objectContaining({ type: 'PARSE_ERROR', condition: 'not-well-formed' }),
    ]);
    expect(parseInStream(`</tream:stream>`)).toEqual([expect.objectContaining({ type: 'PARSE_ERROR', condition: 'not-well-formed' })]);
  });

  it('§4.9.3.22: elements before an invalid byte in the same chunk are still reported', () => {
    const p = new StreamParser();
    const bytes = new Uint8Array([...new TextEncoder().encode(`${HEADER}<presence/><message>`), 0xff]);
    expect(p.write(bytes)).toEqual([
      HEADER_EVENT,
      { type: 'ELEMENT', element: el('presence', NS.CLIENT) },
      expect.objectContaining({ type: 'PARSE_ERROR', condition: 'unsupported-encoding' }),
    ]);
  });

  it('events before the error are still reported', () => {
    expect(parseInStream(`<presence/><message><!-- x --></message>`)).toEqual([
      { type: 'ELEMENT', element: el('presence', NS.CLIENT) },
      expect.objectContaining({ type: 'PARSE_ERROR', condition: 'restricted-xml' }),
    ]);
  });
});
