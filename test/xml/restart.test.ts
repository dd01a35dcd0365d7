import { describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { el } from '../../machines/xml.js';
import { StreamParser } from '../../runtime/xml/parser.js';
import { HEADER, HEADER_EVENT, STREAM_ATTRS, utf8 } from './helpers.js';

const SUCCESS = `<success xmlns='${NS.SASL}'/>`;
const NEW_HEADER = `<stream:stream ${STREAM_ATTRS} to='example.com' version='1.0'>`;
const NEW_HEADER_EVENT = { type: 'HEADER', header: { contentNamespace: NS.CLIENT, to: 'example.com', version: '1.0' } };

describe('RFC 6120 §4.3.3: stream restart with pipelined input', () => {
  it('reset(event) re-parses what followed the event as a new stream', () => {
    const p = new StreamParser();
    p.write(HEADER);
    const events = p.write(`${SUCCESS}<?xml version='1.0'?>${NEW_HEADER}<iq type='set' id='b'/>`);
    // Before the reset the parser read the XML declaration inside the old stream: an error.
    expect(events.map((e) => e.type)).toEqual(['ELEMENT', 'PARSE_ERROR']);
    const after = p.reset(events[0]);
    expect(after).toEqual([NEW_HEADER_EVENT, { type: 'ELEMENT', element: el('iq', NS.CLIENT, { type: 'set', id: 'b' }) }]);
    // The new stream continues with later writes.
    expect(p.write(`<presence/></stream:stream>`)).toEqual([
      { type: 'ELEMENT', element: el('presence', NS.CLIENT) },
      { type: 'STREAM_CLOSE' },
    ]);
  });

  it('reset(event) with a header that is still incomplete waits for the rest', () => {
    const p = new StreamParser();
    p.write(HEADER);
    const events = p.write(utf8(`<presence/>${SUCCESS}<stream:stream ${STREAM_ATTRS} to='exa`));
    expect(events.map((e) => e.type)).toEqual(['ELEMENT', 'ELEMENT']);
    expect(p.reset(events[1])).toEqual([]);
    expect(p.write(`mple.com' version='1.0'>`)).toEqual([NEW_HEADER_EVENT]);
  });

  it('§4.9.3.22: an invalid byte pipelined behind the event still ends the new stream after reset(event)', () => {
    const p = new StreamParser();
    p.write(HEADER);
    const bytes = new Uint8Array([...utf8(`${SUCCESS}<?xml `), 0xff, ...utf8(`version='1.0'?>${NEW_HEADER}`)]);
    const events = p.write(bytes);
    expect(events[0]?.type).toBe('ELEMENT');
    // The new stream re-parses what preceded the invalid byte, then meets it again.
    expect(p.reset(events[0])).toEqual([expect.objectContaining({ type: 'PARSE_ERROR', condition: 'unsupported-encoding' })]);
    expect(p.write(`<presence/>`)).toEqual([]);
  });

  it('reset() after STARTTLS forgets an invalid byte: what follows belongs to TLS (§5.4.3.3)', () => {
    const p = new StreamParser();
    p.write(HEADER);
    p.write(new Uint8Array([...utf8(`<proceed xmlns='${NS.TLS}'/>`), 0xff]));
    expect(p.reset()).toEqual([]);
    expect(p.write(NEW_HEADER)).toEqual([NEW_HEADER_EVENT]);
  });

  it('reset(event) with nothing after the event expects a new header', () => {
    const p = new StreamParser();
    p.write(HEADER);
    const events = p.write(SUCCESS);
    expect(p.reset(events[0])).toEqual([]);
    expect(p.write('<presence/>')).toEqual([expect.objectContaining({ condition: 'invalid-namespace' })]);
  });

  it('reset(event) keeps a multi-byte character that was split by the cut', () => {
    const p = new StreamParser();
    p.write(HEADER);
    const bytes = utf8(`${SUCCESS}${NEW_HEADER}<message><body>€</body></message>`);
    const cut = bytes.length - `</body></message>`.length - 1; // inside the 3-byte '€'
    const events = p.write(bytes.subarray(0, cut));
    expect(p.reset(events[0])).toEqual([NEW_HEADER_EVENT]);
    expect(p.write(bytes.subarray(cut))).toEqual([{ type: 'ELEMENT', element: el('message', NS.CLIENT, {}, el('body', NS.CLIENT, {}, '€')) }]);
  });

  it('reset(event) works after a keepalive and from an event of an earlier write', () => {
    const p = new StreamParser();
    p.write(HEADER);
    const [success] = p.write(SUCCESS);
    const more = p.write(`  ${NEW_HEADER}`);
    // In the old stream a second header is refused; the restart makes it the new stream's header.
    expect(more).toEqual([{ type: 'KEEPALIVE' }, expect.objectContaining({ type: 'PARSE_ERROR', condition: 'bad-format' })]);
    expect(p.reset(success)).toEqual([NEW_HEADER_EVENT]);
  });

  it('reset(event) after later writes trimmed the keepalives behind it still finds the new header', () => {
    const p = new StreamParser();
    p.write(HEADER);
    const [success] = p.write(SUCCESS);
    expect(p.write('   ')).toEqual([{ type: 'KEEPALIVE' }]);
    expect(p.write(' ')).toEqual([{ type: 'KEEPALIVE' }]);
    p.write(`<stream:stream ${STREAM_ATTRS} version='1.0'`);
    expect(p.reset(success)).toEqual([]);
    expect(p.write('>')).toEqual([{ type: 'HEADER', header: { contentNamespace: NS.CLIENT, version: '1.0' } }]);
  });

  it('reset(event) with an event from another parser is a plain reset', () => {
    const other = new StreamParser().write(HEADER)[0]!;
    const p = new StreamParser();
    p.write(`${HEADER}<presence/>`);
    expect(p.reset(other)).toEqual([]);
    expect(p.write(HEADER)).toEqual([HEADER_EVENT]);
  });

  it('chained restarts: reset(event) on an event returned by reset()', () => {
    const p = new StreamParser();
    const first = p.write(`${HEADER}${SUCCESS}${NEW_HEADER}${SUCCESS}${NEW_HEADER}<presence/>`);
    // In each old stream the pipelined header is refused; each restart re-parses it as the new header.
    expect(first.map((e) => e.type)).toEqual(['HEADER', 'ELEMENT', 'PARSE_ERROR']);
    const second = p.reset(first[1]);
    expect(second).toEqual([NEW_HEADER_EVENT, { type: 'ELEMENT', element: el('success', NS.SASL) }, expect.objectContaining({ type: 'PARSE_ERROR' })]);
    const third = p.reset(second[1]);
    expect(third).toEqual([NEW_HEADER_EVENT, { type: 'ELEMENT', element: el('presence', NS.CLIENT) }]);
  });

  it('reset() drops everything received (§5.4.3.3: plaintext after <starttls/> is never parsed)', () => {
    const p = new StreamParser();
    const events = p.write(`${HEADER}<starttls xmlns='${NS.TLS}'/><message><body>injected</body></message>`);
    expect(events.map((e) => e.type)).toEqual(['HEADER', 'ELEMENT', 'ELEMENT']);
    expect(p.reset()).toEqual([]);
    expect(p.write(HEADER)).toEqual([HEADER_EVENT]);
  });

  it('reset() forgets a partial UTF-8 character (the bytes after it are a new byte stream)', () => {
    const p = new StreamParser();
    p.write(HEADER);
    p.write(Uint8Array.from([0x3c, 0x61, 0x3e, 0xe2, 0x82])); // <a> + 2 of 3 bytes of '€'
    p.reset();
    expect(p.write(utf8(HEADER))).toEqual([HEADER_EVENT]);
  });

  it('a reset parser accepts a new stream after a PARSE_ERROR or STREAM_CLOSE', () => {
    const p = new StreamParser();
    expect(p.write(`${HEADER}<!-- -->`).map((e) => e.type)).toEqual(['HEADER', 'PARSE_ERROR']);
    p.reset();
    expect(p.write(`${HEADER}</stream:stream>`)).toEqual([HEADER_EVENT, { type: 'STREAM_CLOSE' }]);
    p.reset();
    expect(p.write(HEADER)).toEqual([HEADER_EVENT]);
  });

  it('whitespace before a new stream header is skipped (§11.7)', () => {
    const p = new StreamParser();
    p.write(HEADER);
    const events = p.write(`${SUCCESS}\n ${NEW_HEADER}`);
    expect(p.reset(events[0])).toEqual([NEW_HEADER_EVENT]);
  });
});
