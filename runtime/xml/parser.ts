/**
 * The incremental parser of an incoming XML stream (RFC 6120 §4, §11).
 *
 * Bytes in, transport events out: HEADER for the peer's stream header (§4.2, namespaces
 * and prefix already checked, §4.8), ELEMENT for every complete top-level child,
 * KEEPALIVE for whitespace between them (§4.6.1, §11.7), STREAM_CLOSE for
 * `</stream:stream>` (§4.4) and one PARSE_ERROR carrying the stream error condition to
 * send (§4.9.3) for anything else; after a PARSE_ERROR or STREAM_CLOSE the parser emits
 * nothing until `reset()`.
 *
 * It is a purpose-built scanner for the XML that §11 allows, not a general XML parser:
 * a state machine over the decoded text that checks well-formedness and Namespaces in XML
 * as the characters arrive (§11.3), refuses what §11.1 prohibits (comments, processing
 * instructions, DTDs, entities other than the five predefined) the moment it is
 * recognised, and enforces the size limits of §13.12 while the data is still arriving.
 * Every state resumes where the last chunk ended, so the work is linear in the input
 * however TCP cuts it, and the first fault in the input is the one reported, whatever the
 * chunking. Runs of character data and attribute values are scanned in bulk (one regular
 * expression finds the next character that matters), which is where most bytes are.
 *
 * For a stream restart (§4.3.3) the parser keeps the text received since the last event,
 * so `reset(event)` can re-parse what the peer pipelined behind the element that caused it.
 */
import type { StreamErrorCondition } from '../../machines/conditions.js';
import { NS } from '../../machines/ns.js';
import type { ElementEvent, HeaderEvent, KeepaliveEvent, ParseErrorEvent, StreamCloseEvent } from '../../machines/protocol.js';
import type { XmlElement, XmlNode } from '../../machines/xml.js';
import { hasQNameShape, isChar, isNameChar, isNameStart, isSpace, NOT_A_CHAR, predefinedEntity } from './chars.js';
import { XmlDeclarationReader } from './declaration.js';
import { Utf8Input } from './decoder.js';
import { readStreamHeader } from './header.js';
import { resolveTag, ROOT_SCOPE, type Scope } from './names.js';
import { resolveParserOptions, type ResolvedParserOptions, type StreamParserOptions } from './options.js';

export type { StreamParserOptions } from './options.js';
export type ParserEvent = HeaderEvent | ElementEvent | KeepaliveEvent | StreamCloseEvent | ParseErrorEvent;

/** start: nothing of this stream yet; prolog: before the header completed; open: inside the stream. */
type Mode = 'start' | 'prolog' | 'open' | 'closed' | 'failed';

// Scanner states: where the next character goes.
const TOP = 0; // between top-level units (or before the header): whitespace or '<'
const TEXT = 1; // character data inside an element
const LT = 2; // after '<'
const START_NAME = 3; // element name of a start tag
const TAG = 4; // inside a start tag, between attributes
const ATTR_NAME = 5;
const ATTR_EQ = 6; // after an attribute name, before '='
const ATTR_QUOTE = 7; // after '=', before the opening quote
const ATTR_VALUE = 8;
const EMPTY_GT = 9; // after the '/' of '/>'
const END_NAME = 10; // element name of an end tag
const END_TAIL = 11; // after an end tag's name, before '>'
const REF = 12; // after '&', before ';'
const BANG = 13; // after '<!': comment, CDATA section or DOCTYPE
const CDATA = 14;
const PI_TARGET = 15; // after '<?'
const XML_DECL = 16; // after '<?xml ', before '?>'

/** The characters that end a bulk run in each state. */
const TEXT_STOP = /[<&\]\r]/g;
const VALUE_STOP_APOS = /['<&\t\n\r]/g;
const VALUE_STOP_QUOT = /["<&\t\n\r]/g;
const CDATA_STOP = /[\]\r]/g;
const CHAR_REF = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/;

interface OpenElement {
  readonly qname: string;
  readonly scope: Scope;
  readonly element: { readonly name: string; readonly xmlns: string; readonly attrs: Record<string, string>; readonly children: XmlNode[] };
}

/** Index of the next match of `re` in `text` at or after `from`, or `end`. */
function nextStop(re: RegExp, text: string, from: number, end: number): number {
  re.lastIndex = from;
  const m = re.exec(text);
  return m === null || m.index > end ? end : m.index;
}

/** How many characters of `text` from `from` (before `end`) fit in `room` UTF-8 bytes, never splitting a surrogate pair. */
function charsFitting(text: string, from: number, end: number, room: number): number {
  let bytes = 0;
  let i = from;
  while (i < end) {
    const c = text.charCodeAt(i);
    const high = c >= 0xd800 && c <= 0xdbff && i + 1 < end;
    const len = c < 0x80 ? 1 : c < 0x800 ? 2 : high ? 4 : 3;
    if (bytes + len > room) break;
    bytes += len;
    i += high ? 2 : 1;
  }
  return i - from;
}

const byteLength = (text: string, from: number, to: number): number =>
  from === 0 && to === text.length ? Buffer.byteLength(text, 'utf8') : Buffer.byteLength(text.slice(from, to), 'utf8');

export class StreamParser {
  private readonly limits: ResolvedParserOptions;
  /** The smaller unit limit: before the stream is open, a write that cannot reach it needs no byte counting. */
  private readonly minLimit: number;
  private input = new Utf8Input();
  /** A high surrogate that ended the last string write, waiting for its pair. */
  private pendingHigh = '';
  private mode: Mode = 'start';
  private state = TOP;

  // The stream and the elements open inside it.
  private rootQName = '';
  private rootScope: Scope = ROOT_SCOPE;
  private contentNamespace = '';
  private stack: OpenElement[] = [];

  // The construct being read; each is kept across chunks.
  private name = '';
  private raw: string[] = [];
  private attrName = '';
  private value = '';
  private quote = 0;
  private spaceBefore = false;
  private text = '';
  private ref = '';
  private refReturn = TEXT;
  private markup = '';
  /** Consecutive ']' just read: ']]>' may not appear in character data and ends a CDATA section. */
  private brackets = 0;
  /** A CR ended the last chunk: a LF first in the next one is part of that line end (XML section 2.11). */
  private skipLf = false;
  /** The next '<' is the first thing in the stream, where an XML declaration may stand (§11.5). */
  private declAllowed = false;
  private piAtStart = false;
  private declaration: XmlDeclarationReader | undefined;

  // Units (the prologue, each top-level element) and their size limits.
  private inUnit = false;
  /** UTF-8 bytes of the current unit in earlier writes. */
  private unitBytes = 0;
  /** Where the current unit's text starts in the text being scanned (0 when it began earlier). */
  private unitSeg = 0;
  /** Stop scanning at unit boundaries (only while a write could cross a limit). */
  private watch = false;
  private hit = false;

  // Offsets, in decoded text since construction.
  /** Offset of the first character of the text being scanned. */
  private base = 0;
  /** Offset of the next character to be received. */
  private offset = 0;
  /** Where the last event ended (or top-level whitespace): text before it is never needed again. */
  private boundary = 0;
  /** Decoded text from `tailStart` to `offset`, kept only for `reset(event)`. */
  private tail = '';
  private tailStart = 0;
  private readonly ends = new WeakMap<ParserEvent, number>();
  /** Bytes that were not UTF-8 ended the decoded text here: a restart that re-parses up to it must fail there again. */
  private encodingError: { readonly at: number; readonly text: string } | undefined;

  private out: ParserEvent[] = [];
  private keepaliveReported = false;

  constructor(opts?: StreamParserOptions) {
    this.limits = resolveParserOptions(opts);
    this.minLimit = Math.min(this.limits.maxStanzaBytes, this.limits.maxHeaderBytes);
  }

  /**
   * Decoded characters held for a possible `reset(event)`: the unit being received (at
   * most the size limits) plus the last chunk. Whitespace keepalives never add to it.
   */
  get bufferedLength(): number {
    return this.tail.length;
  }

  /** Parse the next bytes (or already decoded text) from the peer. */
  write(chunk: Uint8Array | string): ParserEvent[] {
    this.out = [];
    this.keepaliveReported = false;
    if (!this.live()) return this.out;
    const decoded = this.input.decode(chunk);
    let text = decoded.text;
    if (typeof chunk === 'string') {
      // A string write may end inside a surrogate pair; the pair is one character.
      if (this.pendingHigh !== '') text = this.pendingHigh + text;
      const last = text.charCodeAt(text.length - 1);
      this.pendingHigh = last >= 0xd800 && last <= 0xdbff ? text.slice(-1) : '';
      if (this.pendingHigh !== '') text = text.slice(0, -1);
    }
    if (this.tailStart !== this.boundary) {
      this.tail = this.tail.slice(this.boundary - this.tailStart);
      this.tailStart = this.boundary;
    }
    this.tail += text;
    this.run(text);
    // §4.9.3.22: the text before an invalid byte was parsed like any other; now the error.
    if (decoded.error !== undefined) {
      this.encodingError = { at: this.offset, text: decoded.error };
      if (this.live()) this.fail('unsupported-encoding', decoded.error);
    }
    return this.out;
  }

  /**
   * Start over: the next input must be a new stream header.
   *
   * Without an argument (STARTTLS, RFC 6120 §5.4.3.3) everything received so far is
   * dropped, the byte decoder included, since the bytes that follow belong to the TLS
   * layer. With `after` (a §4.3.3 restart, e.g. after SASL `<success/>`) the input that
   * followed that event is parsed again as the start of the new stream, because the peer
   * may have pipelined its new header behind it; the events of that input are returned.
   * `after` should be an event of the latest `write` or `reset` (as the SessionDriver
   * does); an event this parser never emitted is treated like no argument, but the byte
   * decoder is kept.
   */
  reset(after?: ParserEvent): ParserEvent[] {
    this.out = [];
    this.keepaliveReported = false;
    const known = after === undefined ? undefined : this.ends.get(after);
    if (known === undefined) {
      if (after === undefined) {
        this.input = new Utf8Input();
        this.pendingHigh = '';
        this.encodingError = undefined;
      }
      this.newStream(this.offset);
      return this.out;
    }
    // Text before `tailStart` is gone; for an event older than that it was whitespace or
    // units already reported, so the new stream starts with what is still held.
    const end = Math.max(known, this.tailStart);
    const rest = this.tail.slice(end - this.tailStart);
    this.newStream(end);
    this.tail = rest;
    this.run(rest);
    // The invalid bytes still follow the re-parsed text: the new stream ends there too (§4.9.3.22).
    if (this.encodingError !== undefined && this.encodingError.at >= end && this.live()) this.fail('unsupported-encoding', this.encodingError.text);
    return this.out;
  }

  private newStream(at: number): void {
    this.mode = 'start';
    this.state = TOP;
    this.rootQName = '';
    this.rootScope = ROOT_SCOPE;
    this.contentNamespace = '';
    this.stack = [];
    this.name = '';
    this.raw = [];
    this.attrName = '';
    this.value = '';
    this.text = '';
    this.ref = '';
    this.markup = '';
    this.brackets = 0;
    this.skipLf = false;
    this.declAllowed = false;
    this.declaration = undefined;
    this.inUnit = false;
    this.unitBytes = 0;
    this.offset = at;
    this.boundary = at;
    this.tail = '';
    this.tailStart = at;
  }

  private live(): boolean {
    return this.mode === 'start' || this.mode === 'prolog' || this.mode === 'open';
  }

  /**
   * Scan one write's text. Where a size limit could be crossed in it, the current unit is
   * scanned in windows that surely fit (a third of the room left, in characters: no
   * character takes more than three bytes per UTF-16 unit), its bytes counted after each:
   * so it gets exactly the characters that fit its limit, and if it has not ended by then
   * it is refused (§4.9.3.14, §13.12) after what fitted was checked like any input. Each
   * character is scanned and counted once, however the input is chunked.
   */
  private run(text: string): void {
    const n = text.length;
    this.base = this.offset;
    this.unitSeg = 0;
    let i = 0;
    while (i < n && this.live()) {
      let end = n;
      if (this.mode !== 'open') {
        // §11.6: a NUL before the header means UTF-16 or UTF-32 without byte order mark.
        const nul = text.indexOf('\u0000', i);
        if (nul !== -1) end = nul;
        if (i === end) {
          this.fail('unsupported-encoding', 'the stream is not UTF-8 (RFC 6120 §11.6)');
          break;
        }
      }
      // Once the stream is open every unit is a stanza; before, the next one may be either.
      const surelyFits = this.mode === 'open' ? this.limits.maxStanzaBytes : this.minLimit;
      if (this.unitBytes + 3 * (end - i) <= surelyFits) {
        this.watch = false;
        i = this.scan(text, i, end);
        continue;
      }
      this.watch = true;
      if (!this.inUnit) {
        i = this.scan(text, i, end); // to the start of the next unit
        continue;
      }
      const limit = this.mode === 'open' ? this.limits.maxStanzaBytes : this.limits.maxHeaderBytes;
      const room = limit - this.unitBytes;
      let window: number;
      if (room >= 6) {
        window = Math.min(end, i + Math.floor(room / 3));
        const last = text.charCodeAt(window - 1);
        if (window < end && last >= 0xd800 && last <= 0xdbff) window--; // a surrogate pair stays whole (the window keeps 1 char or more)
      } else {
        window = i + charsFitting(text, i, end, room); // the last few bytes, counted exactly
      }
      if (window === i) {
        this.fail('policy-violation', this.mode === 'open' ? `top-level element larger than ${limit} bytes` : `stream header larger than ${limit} bytes`);
        break;
      }
      i = this.scan(text, i, window);
      if (this.inUnit && this.live()) {
        this.unitBytes += byteLength(text, this.unitSeg, i);
        this.unitSeg = i;
      }
    }
    this.watch = false;
    if (this.inUnit && this.live()) this.unitBytes += byteLength(text, this.unitSeg, n);
    this.offset = this.base + n;
  }

  /** Run the state machine over text[from, end); returns where it stopped. */
  private scan(text: string, from: number, end: number): number {
    let i = from;
    while (i < end && this.live()) {
      switch (this.state) {
        case TOP: i = this.top(text, i, end); break;
        case TEXT: i = this.charData(text, i, end); break;
        case LT: i = this.afterLt(text, i); break;
        case START_NAME: i = this.startName(text, i, end); break;
        case TAG: i = this.inTag(text, i, end); break;
        case ATTR_NAME: i = this.attributeName(text, i, end); break;
        case ATTR_EQ: i = this.expect(text, i, end, 0x3d /* = */, ATTR_QUOTE, 'an attribute without a value'); break;
        case ATTR_QUOTE: i = this.openQuote(text, i, end); break;
        case ATTR_VALUE: i = this.attributeValue(text, i, end); break;
        case EMPTY_GT: i = this.emptyTagEnd(text, i); break;
        case END_NAME: i = this.endName(text, i, end); break;
        case END_TAIL: i = this.expect(text, i, end, 0x3e /* > */, END_TAIL, 'a malformed closing tag'); break;
        case REF: i = this.reference(text, i, end); break;
        case BANG: i = this.bang(text, i, end); break;
        case CDATA: i = this.cdata(text, i, end); break;
        case PI_TARGET: i = this.piTarget(text, i, end); break;
        case XML_DECL: i = this.xmlDecl(text, i, end); break;
      }
      if (this.hit) {
        this.hit = false;
        return i;
      }
    }
    return i;
  }

  // ---------------------------------------------------------------------------
  // States
  // ---------------------------------------------------------------------------

  /** Between units: whitespace (a keepalive once the stream is open, §4.6.1), then '<'. */
  private top(text: string, i: number, end: number): number {
    let j = i;
    while (j < end && isSpace(text.charCodeAt(j))) j++;
    if (j > i && !this.inUnit) {
      this.boundary = this.base + j; // never held: §11.7 whitespace between elements
      if (this.mode === 'open' && !this.keepaliveReported) {
        this.keepaliveReported = true;
        this.emit({ type: 'KEEPALIVE' }, j);
      }
    }
    if (j === end) return j;
    const c = text.charCodeAt(j);
    if (!this.inUnit) {
      if (this.mode === 'start') {
        // §11.6: U+FEFF is a character (zero width no-break space), here character data before the root element.
        if (c === 0xfeff) return this.fail('not-well-formed', 'U+FEFF before the stream header; a byte order mark is not allowed (RFC 6120 §11.6)');
        this.mode = 'prolog';
        this.declAllowed = true;
      }
      this.startUnit(j);
      if (this.hit) return j;
    }
    if (c !== 0x3c /* < */) {
      // Character data directly inside <stream:stream> is well-formed XML but no XMPP
      // construct: only whitespace may separate first-level elements (§11.7), so this
      // is XML that "cannot be processed", §4.9.3.1 bad-format.
      if (this.mode === 'open') return this.fail('bad-format', 'character data between top-level elements of the stream (RFC 6120 §11.7)');
      return this.fail('not-well-formed', 'character data before the stream header');
    }
    this.state = LT;
    return j + 1;
  }

  private afterLt(text: string, i: number): number {
    const c = text.charCodeAt(i);
    this.piAtStart = this.declAllowed;
    this.declAllowed = false;
    if (c === 0x2f /* / */) {
      if (this.mode !== 'open') return this.fail('not-well-formed', 'a closing tag before the stream header');
      this.name = '';
      this.state = END_NAME;
      return i + 1;
    }
    if (c === 0x21 /* ! */) {
      this.markup = '';
      this.state = BANG;
      return i + 1;
    }
    if (c === 0x3f /* ? */) {
      this.markup = '';
      this.state = PI_TARGET;
      return i + 1;
    }
    if (!isNameStart(c)) return this.fail('not-well-formed', "'<' not followed by a name");
    this.name = '';
    this.raw = [];
    this.spaceBefore = false;
    this.state = START_NAME;
    return i;
  }

  private startName(text: string, i: number, end: number): number {
    const j = this.nameEnd(text, i, end);
    this.name += text.slice(i, j);
    if (j === end) return j;
    if (!this.validName(this.name)) return j;
    const c = text.charCodeAt(j);
    if (isSpace(c)) {
      this.spaceBefore = true;
      this.state = TAG;
      return j + 1;
    }
    if (c === 0x3e /* > */) return this.startTagEnd(j + 1, false);
    if (c === 0x2f /* / */) {
      this.state = EMPTY_GT;
      return j + 1;
    }
    return this.fail('not-well-formed', `unexpected '${text[j]}' in the name of <${this.name}>`);
  }

  private inTag(text: string, i: number, end: number): number {
    while (i < end) {
      const c = text.charCodeAt(i);
      if (isSpace(c)) {
        this.spaceBefore = true;
        i++;
      } else if (c === 0x3e /* > */) {
        return this.startTagEnd(i + 1, false);
      } else if (c === 0x2f /* / */) {
        this.state = EMPTY_GT;
        return i + 1;
      } else if (isNameStart(c) && this.spaceBefore) {
        this.attrName = '';
        this.state = ATTR_NAME;
        return i;
      } else {
        return this.fail('not-well-formed', `unexpected '${text[i]}' in the start tag <${this.name}>`);
      }
    }
    return i;
  }

  private attributeName(text: string, i: number, end: number): number {
    const j = this.nameEnd(text, i, end);
    this.attrName += text.slice(i, j);
    if (j === end) return j;
    const name = this.attrName;
    if (!this.validName(name)) return j;
    for (let k = 0; k < this.raw.length; k += 2) {
      if (this.raw[k] === name) return this.fail('not-well-formed', `duplicate attribute '${name}' on <${this.name}>`);
    }
    const c = text.charCodeAt(j);
    if (c === 0x3d /* = */) this.state = ATTR_QUOTE;
    else if (isSpace(c)) this.state = ATTR_EQ;
    else return this.fail('not-well-formed', `attribute '${name}' without a value`);
    return j + 1;
  }

  /** Optional whitespace, then `want`; the state after it is `next`. */
  private expect(text: string, i: number, end: number, want: number, next: number, what: string): number {
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    if (i === end) return i;
    if (text.charCodeAt(i) !== want) return this.fail('not-well-formed', what);
    if (this.state === END_TAIL) return this.endTagEnd(i + 1);
    this.state = next;
    return i + 1;
  }

  private openQuote(text: string, i: number, end: number): number {
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    if (i === end) return i;
    const c = text.charCodeAt(i);
    if (c !== 0x27 && c !== 0x22) return this.fail('not-well-formed', `the value of '${this.attrName}' is not quoted`);
    this.quote = c;
    this.value = '';
    this.state = ATTR_VALUE;
    return i + 1;
  }

  /** XML section 3.3.3: references replaced, each literal whitespace character (a line end counts once) becomes a space. */
  private attributeValue(text: string, i: number, end: number): number {
    i = this.afterCr(text, i);
    const stops = this.quote === 0x27 ? VALUE_STOP_APOS : VALUE_STOP_QUOT;
    while (i < end) {
      const j = nextStop(stops, text, i, end);
      if (j > i && !this.appendChars(text, i, j, false)) return j;
      if (j === end) return end;
      const c = text.charCodeAt(j);
      if (c === this.quote) {
        this.raw.push(this.attrName, this.value);
        // §13.12: the attribute limit counts namespace declarations too. The stream header
        // is bounded by maxHeaderBytes instead (it carries up to seven attributes of its own).
        if (this.mode === 'open' && this.raw.length / 2 > this.limits.maxAttributes) {
          return this.fail('policy-violation', `more than ${this.limits.maxAttributes} attributes on one element`);
        }
        this.spaceBefore = false;
        this.state = TAG;
        return j + 1;
      }
      if (c === 0x3c /* < */) return this.fail('not-well-formed', `'<' in the value of '${this.attrName}'`);
      if (c === 0x26 /* & */) return this.startReference(ATTR_VALUE, j + 1);
      this.value += ' ';
      i = c === 0x0d ? this.crAt(text, j + 1, end) : j + 1;
    }
    return i;
  }

  private emptyTagEnd(text: string, i: number): number {
    if (text.charCodeAt(i) !== 0x3e) return this.fail('not-well-formed', `'/' not followed by '>' in <${this.name}>`);
    return this.startTagEnd(i + 1, true);
  }

  private endName(text: string, i: number, end: number): number {
    const j = this.nameEnd(text, i, end);
    this.name += text.slice(i, j);
    if (j === end) return j;
    if (this.name === '') return this.fail('not-well-formed', "'</' not followed by a name");
    if (!this.validName(this.name)) return j;
    const c = text.charCodeAt(j);
    if (c === 0x3e /* > */) return this.endTagEnd(j + 1);
    if (!isSpace(c)) return this.fail('not-well-formed', `unexpected '${text[j]}' in the closing tag </${this.name}>`);
    this.state = END_TAIL;
    return j + 1;
  }

  private charData(text: string, i: number, end: number): number {
    i = this.afterCr(text, i);
    while (i < end) {
      if (this.brackets >= 2 && text.charCodeAt(i) === 0x3e) return this.fail('not-well-formed', "']]>' in character data");
      const j = nextStop(TEXT_STOP, text, i, end);
      if (j > i) {
        if (!this.appendChars(text, i, j, true)) return j;
        this.brackets = 0;
      }
      if (j === end) return end;
      const c = text.charCodeAt(j);
      if (c === 0x3c /* < */) {
        this.flushText();
        this.brackets = 0; // ']]>' counts within one run of character data only
        this.state = LT;
        return j + 1;
      }
      if (c === 0x26 /* & */) {
        this.brackets = 0;
        return this.startReference(TEXT, j + 1);
      }
      if (c === 0x5d /* ] */) {
        this.text += ']';
        this.brackets++;
        i = j + 1;
      } else {
        this.text += '\n'; // XML section 2.11: CR LF and a lone CR are one LF
        this.brackets = 0;
        i = this.crAt(text, j + 1, end);
      }
    }
    return i;
  }

  private startReference(returnTo: number, i: number): number {
    this.ref = '';
    this.refReturn = returnTo;
    this.state = REF;
    return i;
  }

  /** `&name;` (only the five predefined, §11.1: any other is §4.9.3.18 restricted-xml) or a character reference `&#N;` / `&#xH;`. */
  private reference(text: string, i: number, end: number): number {
    let j = i;
    while (j < end) {
      const c = text.charCodeAt(j);
      if (c === 0x3b /* ; */) break;
      if (!isNameChar(c) && !(c === 0x23 /* # */ && j === i && this.ref === '')) {
        return this.fail('not-well-formed', "'&' that does not start an entity or character reference");
      }
      j++;
    }
    this.ref += text.slice(i, j);
    if (j === end) return j;
    const ref = this.ref;
    let replacement: string | undefined;
    if (ref.charCodeAt(0) === 0x23) {
      const m = CHAR_REF.exec(ref);
      const digits = m === null ? '' : (m[1] ?? m[2]!).replace(/^0+(?=.)/, '');
      const cp = digits.length > 8 ? -1 : m === null ? -1 : parseInt(digits, m[1] !== undefined ? 16 : 10);
      if (!isChar(cp)) return this.fail('not-well-formed', `&${ref}; is not a reference to an XML character`);
      replacement = String.fromCodePoint(cp);
    } else {
      // Namespaces in XML, section 6: no entity name contains a colon.
      if (ref === '' || !isNameStart(ref.charCodeAt(0)) || ref.includes(':')) return this.fail('not-well-formed', `'&${ref};' is not a reference`);
      replacement = predefinedEntity(ref);
      if (replacement === undefined) {
        return this.fail('restricted-xml', 'entity references other than the predefined ones are prohibited (RFC 6120 §11.1)');
      }
    }
    if (this.refReturn === TEXT) this.text += replacement;
    else this.value += replacement;
    this.state = this.refReturn;
    return j + 1;
  }

  /** After '<!': only a CDATA section is XML that §11 allows; comments and DTDs are prohibited (§11.1, §4.9.3.18 restricted-xml). */
  private bang(text: string, i: number, end: number): number {
    while (i < end) {
      this.markup += text[i];
      i++;
      const m = this.markup;
      if (m === '--') return this.fail('restricted-xml', 'XML comments are prohibited (RFC 6120 §11.1)');
      if (m === 'DOCTYPE') return this.fail('restricted-xml', 'DTDs are prohibited (RFC 6120 §11.1)');
      if (m === '[CDATA[') {
        if (this.mode !== 'open') return this.fail('not-well-formed', 'a CDATA section before the stream header');
        if (this.stack.length === 0) return this.fail('bad-format', 'a CDATA section between top-level elements of the stream (RFC 6120 §11.7)');
        this.brackets = 0;
        this.state = CDATA;
        return i;
      }
      if (!'--'.startsWith(m) && !'DOCTYPE'.startsWith(m) && !'[CDATA['.startsWith(m)) {
        return this.fail('not-well-formed', "'<!' not followed by a CDATA section");
      }
    }
    return i;
  }

  private cdata(text: string, i: number, end: number): number {
    i = this.afterCr(text, i);
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c === 0x5d /* ] */) {
        this.brackets++;
        i++;
        continue;
      }
      if (c === 0x3e /* > */ && this.brackets >= 2) {
        this.text += ']'.repeat(this.brackets - 2);
        this.brackets = 0;
        this.state = TEXT;
        return i + 1;
      }
      if (this.brackets > 0) {
        this.text += ']'.repeat(this.brackets);
        this.brackets = 0;
      }
      if (c === 0x0d) {
        this.text += '\n';
        i = this.crAt(text, i + 1, end);
        continue;
      }
      const j = nextStop(CDATA_STOP, text, i, end);
      if (!this.appendChars(text, i, j, true)) return j;
      i = j;
    }
    return i;
  }

  /**
   * After '<?': an XML declaration where one may stand (§11.5), else a processing
   * instruction, prohibited (§11.1, §4.9.3.18); judged where the target name ends.
   */
  private piTarget(text: string, i: number, end: number): number {
    let j = i;
    while (j < end && (this.markup === '' && j === i ? isNameStart(text.charCodeAt(j)) : isNameChar(text.charCodeAt(j)))) j++;
    this.markup += text.slice(i, j);
    if (j === end) return j;
    const target = this.markup;
    const c = text.charCodeAt(j);
    if (target === '') return this.fail('not-well-formed', "'<?' not followed by a target name");
    if (target === 'xml' && this.piAtStart && (isSpace(c) || c === 0x3f /* ? */)) {
      this.declaration = new XmlDeclarationReader(c === 0x3f);
      this.state = XML_DECL;
      return j + 1;
    }
    if (target.toLowerCase() === 'xml') {
      return this.fail('not-well-formed', this.piAtStart ? 'a malformed XML declaration' : 'an XML declaration after the start of the stream (RFC 6120 §11.5)');
    }
    // Namespaces in XML, section 6: no processing instruction target contains a colon.
    if ((!isSpace(c) && c !== 0x3f /* ? */) || target.includes(':')) return this.fail('not-well-formed', `a malformed processing instruction '<?${target}'`);
    return this.fail('restricted-xml', 'processing instructions are prohibited (RFC 6120 §11.1)');
  }

  private xmlDecl(text: string, i: number, end: number): number {
    const step = this.declaration!.read(text, i, end);
    if (step.kind === 'more') return end;
    if (step.kind === 'error') return this.fail(step.condition, step.text);
    this.declaration = undefined;
    this.state = TOP;
    return step.next;
  }

  // ---------------------------------------------------------------------------
  // Tags
  // ---------------------------------------------------------------------------

  private startTagEnd(next: number, empty: boolean): number {
    const parentScope = this.stack.length > 0 ? this.stack[this.stack.length - 1]!.scope : this.rootScope;
    const tag = resolveTag(this.name, this.raw, parentScope);
    if ('condition' in tag) return this.fail(tag.condition, tag.text);
    if (this.mode !== 'open') {
      const result = readStreamHeader(this.name, tag, this.limits.contentNamespaces);
      if (!result.ok) return this.fail(result.condition, result.text);
      this.rootQName = this.name;
      this.rootScope = tag.scope;
      this.contentNamespace = result.header.contentNamespace;
      this.mode = 'open';
      this.emit({ type: 'HEADER', header: result.header }, next);
      this.endUnit();
      this.state = TOP;
      if (empty) this.closeStream(next);
      return next;
    }
    if (this.stack.length === 0 && tag.uri === NS.STREAMS && tag.local === 'stream') {
      // A second header inside the open stream: the peer restarted where no restart
      // (§4.3.3) was due. It could never complete as an element; refuse it now.
      return this.fail('bad-format', 'a stream header inside the open stream (RFC 6120 §4.3.3)');
    }
    if (this.stack.length + 1 > this.limits.maxDepth) return this.fail('policy-violation', `elements nested deeper than ${this.limits.maxDepth}`);
    // §4.8.5: elements qualified by the content namespace (jabber:client/jabber:server) MUST NOT be prefixed.
    if (tag.prefix !== '' && tag.uri === this.contentNamespace) {
      return this.fail('bad-namespace-prefix', `element <${this.name}> uses a prefix for the content namespace (RFC 6120 §4.8.5)`);
    }
    this.stack.push({ qname: this.name, scope: tag.scope, element: { name: tag.local, xmlns: tag.uri, attrs: tag.attrs, children: [] } });
    if (empty) return this.closeElement(next);
    this.state = TEXT;
    return next;
  }

  private endTagEnd(next: number): number {
    const open = this.stack[this.stack.length - 1];
    if (open === undefined) {
      if (this.name === this.rootQName) return this.closeStream(next);
      return this.fail('not-well-formed', `closing tag </${this.name}> with no element open`);
    }
    if (this.name !== open.qname) return this.fail('not-well-formed', `closing tag </${this.name}> for <${open.qname}>`);
    return this.closeElement(next);
  }

  private closeElement(next: number): number {
    const done = this.stack.pop()!.element as XmlElement;
    const parent = this.stack[this.stack.length - 1];
    if (parent !== undefined) {
      parent.element.children.push(done);
      this.state = TEXT;
      return next;
    }
    this.emit({ type: 'ELEMENT', element: done }, next);
    this.endUnit();
    this.state = TOP;
    return next;
  }

  /** §4.4: the peer closed its stream. */
  private closeStream(next: number): number {
    this.mode = 'closed';
    this.emit({ type: 'STREAM_CLOSE' }, next);
    this.endUnit();
    return next;
  }

  // ---------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------

  /** End of a run of NameChar from `i`. */
  private nameEnd(text: string, i: number, end: number): number {
    while (i < end && isNameChar(text.charCodeAt(i))) i++;
    return i;
  }

  /**
   * A complete name is made of characters (no lone surrogates) and has the shape of a
   * QName (one colon at most, between two parts); that its parts are NCNames is judged
   * with the namespaces, at the end of the tag (names.ts), as the former parser did.
   */
  private validName(name: string): boolean {
    if (!NOT_A_CHAR.test(name) && hasQNameShape(name)) return true;
    this.fail('not-well-formed', `'${name}' is not a qualified name`);
    return false;
  }

  /** Append text[i, j) to character data or the attribute value, if it is all XML characters. */
  private appendChars(text: string, i: number, j: number, toText: boolean): boolean {
    const run = text.slice(i, j);
    if (NOT_A_CHAR.test(run)) {
      this.fail('not-well-formed', 'a character that XML does not allow (RFC 6120 §11.3)');
      return false;
    }
    if (toText) this.text += run;
    else this.value += run;
    return true;
  }

  /** Just after a CR at `i - 1`: skip the LF of a CR LF, or remember to skip it at the next chunk. */
  private crAt(text: string, i: number, end: number): number {
    if (i < end) return text.charCodeAt(i) === 0x0a ? i + 1 : i;
    this.skipLf = true;
    return i;
  }

  private afterCr(text: string, i: number): number {
    if (!this.skipLf) return i;
    this.skipLf = false;
    return text.charCodeAt(i) === 0x0a ? i + 1 : i;
  }

  /** Character data read so far goes into the innermost element, merged with text before it. */
  private flushText(): void {
    if (this.text === '') return;
    const children = this.stack[this.stack.length - 1]!.element.children;
    const last = children.length - 1;
    const prev = children[last];
    if (typeof prev === 'string') children[last] = prev + this.text;
    else children.push(this.text);
    this.text = '';
  }

  private startUnit(at: number): void {
    this.inUnit = true;
    this.unitBytes = 0;
    this.unitSeg = at;
    if (this.watch) this.hit = true;
  }

  private endUnit(): void {
    this.inUnit = false;
    this.unitBytes = 0;
    if (this.watch) this.hit = true;
  }

  private emit(event: ParserEvent, next: number): void {
    const end = this.base + next;
    this.ends.set(event, end);
    this.boundary = end;
    this.out.push(event);
  }

  /**
   * Report `condition` and go silent; returns a position past any input, so the scan stops.
   * Whatever breaks XML or Namespaces in XML without a more specific condition is
   * §4.9.3.13 not-well-formed (§11.3).
   */
  private fail(condition: StreamErrorCondition, text: string): number {
    this.mode = 'failed';
    this.stack = [];
    const event: ParseErrorEvent = { type: 'PARSE_ERROR', condition, text };
    this.ends.set(event, this.offset);
    this.out.push(event);
    return Number.MAX_SAFE_INTEGER;
  }
}
