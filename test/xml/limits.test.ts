import { describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { el } from '../../machines/xml.js';
import { StreamParser } from '../../runtime/xml/parser.js';
import { HEADER, HEADER_EVENT, STREAM_ATTRS, utf8 } from './helpers.js';

const policy = expect.objectContaining({ type: 'PARSE_ERROR', condition: 'policy-violation' });

describe('RFC 6120 §13.12 / §4.9.3.14: size limits end the stream while the data still arrives', () => {
  it('a stanza over maxStanzaBytes is refused before its closing tag arrives', () => {
    const p = new StreamParser({ maxStanzaBytes: 1000 });
    expect(p.write(HEADER)).toEqual([HEADER_EVENT]);
    expect(p.write(`<message to='juliet@example.com'><body>`)).toEqual([]);
    const events = [];
    let written = 0;
    while (events.length === 0 && written < 10_000) {
      events.push(...p.write('x'.repeat(100)));
      written += 100;
    }
    expect(events).toEqual([policy]);
    expect(written).toBeLessThanOrEqual(1000); // refused as soon as the limit was crossed, no closing tag needed
    expect(p.write('</body></message>')).toEqual([]);
  });

  it('the limit counts UTF-8 bytes, not characters', () => {
    const body = (s: string) => `<message><body>${s}</body></message>`;
    const overhead = utf8(body('')).length;
    const exact = new StreamParser({ maxStanzaBytes: overhead + 300 });
    exact.write(HEADER);
    expect(exact.write(body('€'.repeat(100)))).toEqual([{ type: 'ELEMENT', element: el('message', NS.CLIENT, {}, el('body', NS.CLIENT, {}, '€'.repeat(100))) }]);
    const over = new StreamParser({ maxStanzaBytes: overhead + 299 });
    over.write(HEADER);
    expect(over.write(body('€'.repeat(100)))).toEqual([policy]);
  });

  it('a huge chunk without any ">" is refused at the limit', () => {
    const p = new StreamParser();
    p.write(HEADER);
    expect(p.write(`<message><body>${'y'.repeat(300_000)}`)).toEqual([policy]);
  });

  it('a fault before the limit is reported as that fault, however the input is cut', () => {
    const input = `<message><body>a<<${'y'.repeat(2000)}`;
    const whole = new StreamParser({ maxStanzaBytes: 1000 });
    whole.write(HEADER);
    expect(whole.write(input)).toEqual([expect.objectContaining({ condition: 'not-well-formed' })]);
    const cut = new StreamParser({ maxStanzaBytes: 1000 });
    cut.write(HEADER);
    const events = [];
    for (let i = 0; i < input.length; i += 10) events.push(...cut.write(input.slice(i, i + 10)));
    expect(events).toEqual([expect.objectContaining({ condition: 'not-well-formed' })]);
  });

  it('the limit applies to each top-level element, not to the stream', () => {
    const p = new StreamParser({ maxStanzaBytes: 200 });
    p.write(HEADER);
    const stanza = `<message><body>${'z'.repeat(100)}</body></message>`;
    for (let i = 0; i < 50; i++) expect(p.write(stanza + ' ').map((e) => e.type)).toEqual(['ELEMENT', 'KEEPALIVE']);
  });

  it('a long attribute value counts (the start tag is not buffered unbounded)', () => {
    const p = new StreamParser({ maxStanzaBytes: 500 });
    p.write(HEADER);
    expect(p.write(`<message to='`)).toEqual([]);
    expect(p.write('a'.repeat(600))).toEqual([policy]);
  });

  it('a comment between stanzas is refused at "<!--", before its size could matter (§11.1)', () => {
    const p = new StreamParser({ maxStanzaBytes: 500 });
    p.write(HEADER);
    expect(p.write(`<!-`)).toEqual([]);
    expect(p.write(`-${'c'.repeat(600)}`)).toEqual([expect.objectContaining({ type: 'PARSE_ERROR', condition: 'restricted-xml' })]);
    expect(p.bufferedLength).toBeLessThan(700);
  });

  it('a stream header over maxHeaderBytes → policy-violation', () => {
    const p = new StreamParser({ maxHeaderBytes: 300 });
    expect(p.write(`<?xml version='1.0'?><stream:stream ${STREAM_ATTRS} to='`)).toEqual([]);
    expect(p.write('d'.repeat(400))).toEqual([policy]);
    expect(new StreamParser({ maxHeaderBytes: 300 }).write(HEADER)).toEqual([HEADER_EVENT]);
  });

  it('nesting deeper than maxDepth → policy-violation', () => {
    const nest = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
    const ok = new StreamParser({ maxDepth: 10 });
    ok.write(HEADER);
    expect(ok.write(nest(10)).map((e) => e.type)).toEqual(['ELEMENT']);
    const deep = new StreamParser({ maxDepth: 10 });
    deep.write(HEADER);
    expect(deep.write('<a>'.repeat(11))).toEqual([policy]);
    const deflt = new StreamParser();
    deflt.write(HEADER);
    expect(deflt.write('<a>'.repeat(65))).toEqual([policy]);
  });

  it('more attributes than maxAttributes → policy-violation', () => {
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}='${i}'`).join('');
    const ok = new StreamParser({ maxAttributes: 5 });
    ok.write(HEADER);
    expect(ok.write(`<presence${attrs(5)}/>`).map((e) => e.type)).toEqual(['ELEMENT']);
    const over = new StreamParser({ maxAttributes: 5 });
    over.write(HEADER);
    expect(over.write(`<presence${attrs(6)}/>`)).toEqual([policy]);
  });
});

describe('RFC 6120 §4.6.1: whitespace keepalives are reported, never accumulated', () => {
  it('1 MB of spaces in 1 KB chunks: one KEEPALIVE per chunk, buffer stays small', () => {
    const p = new StreamParser();
    p.write(HEADER);
    p.write('<presence/>');
    const chunk = utf8(' '.repeat(1024));
    let keepalives = 0;
    let maxBuffered = 0;
    for (let i = 0; i < 1024; i++) {
      const events = p.write(chunk);
      expect(events).toEqual([{ type: 'KEEPALIVE' }]);
      keepalives++;
      maxBuffered = Math.max(maxBuffered, p.bufferedLength);
    }
    expect(keepalives).toBe(1024);
    expect(maxBuffered).toBeLessThanOrEqual(2048);
    // The stream is intact afterwards.
    expect(p.write('<presence/>')).toEqual([{ type: 'ELEMENT', element: el('presence', NS.CLIENT) }]);
  });

  it('1 MB of spaces in one write is a single KEEPALIVE and is dropped', () => {
    const p = new StreamParser();
    p.write(HEADER);
    expect(p.write(' '.repeat(1 << 20))).toEqual([{ type: 'KEEPALIVE' }]);
    p.write('<presence/>');
    expect(p.bufferedLength).toBeLessThan(100);
  });

  it('whitespace after many stanzas leaves nothing buffered', () => {
    const p = new StreamParser();
    p.write(HEADER);
    for (let i = 0; i < 200; i++) p.write(`<message id='${i}'><body>${'m'.repeat(500)}</body></message>\n`);
    p.write(' ');
    expect(p.bufferedLength).toBeLessThanOrEqual(1);
  });

  it('whitespace before the stream header is not a keepalive', () => {
    expect(new StreamParser().write(`  \n${HEADER}`)).toEqual([HEADER_EVENT]);
  });
});
