/**
 * TEST ORACLE — not used by the runtime.
 *
 * This is the former saxes-based `StreamParser` of runtime/xml/parser.ts (with
 * `readStreamHeader` of runtime/xml/header.ts copied in, since that file's input type
 * changes with the hand-written scanner), kept verbatim apart from import paths and the
 * class name so that test/xml/differential.test.ts can compare the new parser with it.
 * Do not fix bugs here: its behaviour *is* the reference; a deliberate deviation of the
 * new parser belongs in the differential test as a documented exception.
 *
 * The original description follows.
 *
 * The incremental parser of an incoming XML stream (RFC 6120 §4, §11).
 *
 * Bytes in, transport events out: HEADER for the peer's stream header (§4.2, namespaces
 * and prefix already checked, §4.8), ELEMENT for every complete top-level child,
 * KEEPALIVE for whitespace between them (§4.6.1, §11.7), STREAM_CLOSE for
 * `</stream:stream>` (§4.4) and one PARSE_ERROR carrying the stream error condition to
 * send (§4.9.3) for anything else; after a PARSE_ERROR or STREAM_CLOSE the parser emits
 * nothing until `reset()`.
 *
 * saxes checks XML and namespace well-formedness; this class adds the restrictions of
 * §11.1 (no comments, processing instructions, DTDs or non-predefined entities), the
 * stream rules of §4.8, size limits (§13.12) and the bookkeeping that lets a stream
 * restart (§4.3.3) re-parse input the peer pipelined behind the element that caused it.
 *
 * How input reaches saxes: text is fed in pieces that end at a '>', because every event
 * that ends a top-level unit (header, element, stream close) fires on a '>' (and a piece
 * never reaches past the first '>' that could end one). After such a
 * piece saxes holds no pending input, so this class knows exactly where each event ended
 * (for `reset(event)`) and consumes whitespace between top-level elements itself: it is
 * reported as KEEPALIVE and never stored, however much of it arrives.
 */
import { SaxesParser, type SaxesTagNS, type XMLDecl } from 'saxes';
import type { StreamErrorCondition } from '../../../machines/conditions.js';
import { NS } from '../../../machines/ns.js';
import type { ElementEvent, HeaderEvent, KeepaliveEvent, ParseErrorEvent, StreamCloseEvent, StreamHeader } from '../../../machines/protocol.js';
import type { XmlElement, XmlNode } from '../../../machines/xml.js';
import { Utf8Input } from '../../../runtime/xml/decoder.js';
import { resolveParserOptions, type ResolvedParserOptions, type StreamParserOptions } from '../../../runtime/xml/options.js';

export type { StreamParserOptions } from '../../../runtime/xml/options.js';
export type ParserEvent = HeaderEvent | ElementEvent | KeepaliveEvent | StreamCloseEvent | ParseErrorEvent;

/** start: nothing of this stream parsed yet; prolog: before the header completed; open: inside the stream. */
type Mode = 'start' | 'prolog' | 'open' | 'closed' | 'failed';

interface OpenElement {
  readonly name: string;
  readonly xmlns: string;
  readonly attrs: Record<string, string>;
  readonly children: XmlNode[];
}

/** Thrown out of saxes callbacks to stop parsing at the first violation. */
class ParseAbort extends Error {
  constructor(readonly condition: StreamErrorCondition, readonly detail: string) {
    super(detail);
  }
}

type Sax = SaxesParser<{ xmlns: true; position: false; forceXMLVersion: true; defaultXMLVersion: '1.0' }>;

/** saxes 6's internal state number while reading an entity reference (saxes.js `S_ENTITY`). */
const SAXES_S_ENTITY = 14;

/** XML `S` production: space, tab, CR, LF. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** The longest prefix of `s` whose UTF-8 encoding fits in `maxBytes`. */
function prefixOfBytes(s: string, maxBytes: number): string {
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.codePointAt(i)!;
    const len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (bytes + len > maxBytes) break;
    bytes += len;
    i += c > 0xffff ? 2 : 1;
  }
  return s.slice(0, i);
}

// ---------------------------------------------------------------------------
// readStreamHeader, copied from runtime/xml/header.ts
// ---------------------------------------------------------------------------

/**
 * RFC 6120 §4.2 / §4.7 / §4.8: checking the root element of an incoming stream and
 * reading the stream header from it.
 */
type HeaderResult =
  | { readonly ok: true; readonly header: StreamHeader }
  | { readonly ok: false; readonly condition: StreamErrorCondition; readonly text: string };

const reject = (condition: StreamErrorCondition, text: string): HeaderResult => ({ ok: false, condition, text });

/** The stream header carried by the root start tag `tag`, or the stream error it deserves. */
function readStreamHeader(tag: SaxesTagNS, contentNamespaces: readonly string[]): HeaderResult {
  // §4.8.1: the root must be qualified by the stream namespace.
  if (tag.uri !== NS.STREAMS) {
    return reject('invalid-namespace', `the stream root <${tag.name}> is not qualified by ${NS.STREAMS} (RFC 6120 §4.8.1)`);
  }
  // The streams namespace is right but this is no stream header: XML "that cannot be processed" (§4.9.3.1).
  if (tag.local !== 'stream') return reject('bad-format', `<${tag.name}> is not a stream header (RFC 6120 §4.2)`);
  // §4.8.5 interoperability note and the §4.9.3.2 example: we accept only the prefix 'stream'.
  // That also rejects "prefix-free canonicalization" (§4.8.2), which we do not support.
  if (tag.prefix !== 'stream') {
    return reject('bad-namespace-prefix', `the stream namespace must use the prefix 'stream', not '${tag.prefix}' (RFC 6120 §4.8.5)`);
  }
  // §4.8.2 / §4.9.3.10: the content namespace is the header's default namespace and must be
  // one we support. We require it to be declared (no prefix-free canonicalization), so a
  // header without one is treated like an unsupported content namespace: invalid-namespace.
  const content = tag.ns[''];
  if (content === undefined || content === '') {
    return reject('invalid-namespace', 'the stream header declares no content namespace (RFC 6120 §4.8.2)');
  }
  if (!contentNamespaces.includes(content)) {
    return reject('invalid-namespace', `unsupported content namespace '${content}' (RFC 6120 §4.9.3.10)`);
  }
  // §4.7: from, to, id, xml:lang, version; absent ones stay absent.
  const header: { -readonly [K in keyof StreamHeader]: StreamHeader[K] } = { contentNamespace: content };
  const value = (name: string): string | undefined => tag.attributes[name]?.value;
  const from = value('from');
  const to = value('to');
  const id = value('id');
  const lang = value('xml:lang');
  const version = value('version');
  if (from !== undefined) header.from = from;
  if (to !== undefined) header.to = to;
  if (id !== undefined) header.id = id;
  if (lang !== undefined) header.lang = lang;
  if (version !== undefined) header.version = version;
  return { ok: true, header };
}

// ---------------------------------------------------------------------------

export class SaxesStreamParser {
  private readonly limits: ResolvedParserOptions;
  private input = new Utf8Input();
  private sax!: Sax;
  private mode: Mode = 'start';
  /** True when saxes stands exactly between two top-level children of the stream. */
  private atTop = false;
  private stack: OpenElement[] = [];
  private contentNamespace = '';
  /** A prefix saxes could not resolve while processing the current tag. */
  private unboundPrefix: string | undefined;

  /** Offset, in decoded text since construction, of the next character to parse. */
  private offset = 0;
  /** Where the last emitted event ended; text before it is never needed again. */
  private boundary = 0;
  /** UTF-8 bytes received since `boundary` (the unit being received: header or top-level element). */
  private pendingBytes = 0;
  /** Where the piece currently inside saxes ends: the end offset of any event it emits. */
  private pieceEnd = 0;
  /** Decoded text from `tailStart` to `offset`, kept only for `reset(event)`. */
  private tail = '';
  private tailStart = 0;
  private readonly ends = new WeakMap<ParserEvent, number>();

  private out: ParserEvent[] = [];
  private keepaliveReported = false;

  constructor(opts?: StreamParserOptions) {
    this.limits = resolveParserOptions(opts);
    this.newStream(0);
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
    if (this.mode === 'failed' || this.mode === 'closed') return this.out;
    const { text, error } = this.input.decode(chunk);
    if (this.tailStart !== this.boundary) {
      this.tail = this.tail.slice(this.boundary - this.tailStart);
      this.tailStart = this.boundary;
    }
    this.tail += text;
    this.run(text);
    // §4.9.3.22: the text before an invalid byte was parsed like any other; now the error.
    if (error !== undefined && (this.mode === 'start' || this.mode === 'prolog' || this.mode === 'open')) {
      this.fail('unsupported-encoding', error);
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
      if (after === undefined) this.input = new Utf8Input();
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
    return this.out;
  }

  private newStream(at: number): void {
    this.sax = this.freshSax();
    this.mode = 'start';
    this.atTop = false;
    this.stack = [];
    this.contentNamespace = '';
    this.unboundPrefix = undefined;
    this.offset = at;
    this.boundary = at;
    this.pieceEnd = at;
    this.pendingBytes = 0;
    this.tail = '';
    this.tailStart = at;
  }

  /**
   * A saxes parser in its initial state. The one of the previous stream is reused when saxes
   * has its `_init()` (saxes 6 calls it itself to reset after `close()`; it reassigns every
   * field of the parse state), which keeps the handlers registered below; else a new one.
   */
  private freshSax(): Sax {
    const previous = this.sax as (Sax & { _init?: unknown }) | undefined;
    if (previous !== undefined && typeof previous._init === 'function') {
      (previous._init as () => void)();
      return previous;
    }
    return this.createSax();
  }

  private createSax(): Sax {
    const sax: Sax = new SaxesParser({
      xmlns: true,
      position: false,
      // §11.8: XMPP is an application profile of XML 1.0, whatever the declaration says.
      forceXMLVersion: true,
      defaultXMLVersion: '1.0',
      resolvePrefix: (prefix: string) => {
        if (prefix !== '') this.unboundPrefix = prefix;
        return undefined;
      },
    });
    sax.on('error', (err) => this.onSaxError(err));
    sax.on('xmldecl', (decl) => this.onXmlDecl(decl));
    sax.on('opentag', (tag) => this.onOpenTag(tag));
    sax.on('closetag', (tag) => this.onCloseTag(tag));
    sax.on('text', (t) => this.onText(t));
    sax.on('cdata', (t) => this.onText(t));
    // §11.1: these features are prohibited; §4.9.3.18 restricted-xml.
    sax.on('comment', () => this.abort('restricted-xml', 'XML comments are prohibited (RFC 6120 §11.1)'));
    sax.on('processinginstruction', () =>
      this.abort('restricted-xml', 'processing instructions are prohibited (RFC 6120 §11.1)'));
    sax.on('doctype', () => this.abort('restricted-xml', 'DTDs are prohibited (RFC 6120 §11.1)'));
    return sax;
  }

  /** Parse decoded text that starts at `this.offset`. */
  private run(text: string): void {
    const n = text.length;
    let i = 0;
    try {
      while (i < n && (this.mode === 'start' || this.mode === 'prolog' || this.mode === 'open')) {
        if (this.mode === 'start' || this.atTop) {
          i = this.skipSpaces(text, i);
          if (i === n) break;
          if (this.mode === 'start') {
            // §11.6: U+FEFF is a character (zero width no-break space), here character data before the root element.
            if (text.charCodeAt(i) === 0xfeff) {
              this.abort('not-well-formed', 'U+FEFF before the stream header; a byte order mark is not allowed (RFC 6120 §11.6)');
            }
            this.mode = 'prolog';
          } else if (text.charCodeAt(i) !== 0x3c /* < */) {
            // Character data directly inside <stream:stream> is well-formed XML but no XMPP
            // construct: only whitespace may separate first-level elements (§11.7), so this
            // is XML that "cannot be processed", §4.9.3.1 bad-format.
            this.abort('bad-format', 'character data between top-level elements of the stream (RFC 6120 §11.7)');
          }
          this.atTop = false;
        }
        const end = this.nextPossibleBoundary(text, i);
        const piece = text.slice(i, end);
        this.feed(piece);
        i = end;
        this.offset += piece.length;
      }
    } catch (e) {
      if (!(e instanceof ParseAbort)) throw e;
      this.fail(e.condition, e.detail);
    }
    this.offset += n - i;
    if (this.mode === 'closed' || this.mode === 'failed') this.boundary = this.offset;
  }

  /**
   * End of the next piece: just after the earliest '>' that could end a top-level unit.
   * Each '>' closes at most one element, so inside `k` open elements that is the k-th
   * '>' from here (or the end of the text).
   */
  private nextPossibleBoundary(text: string, from: number): number {
    let gt = from - 1;
    for (let k = Math.max(1, this.stack.length); k > 0; k--) {
      gt = text.indexOf('>', gt + 1);
      if (gt === -1) return text.length;
    }
    return gt + 1;
  }

  /** Consume whitespace at a stream boundary; between top-level elements it is a keepalive (§4.6.1). */
  private skipSpaces(text: string, from: number): number {
    let j = from;
    while (j < text.length && isSpace(text.charCodeAt(j))) j++;
    if (j === from) return j;
    this.offset += j - from;
    this.boundary = this.offset;
    if (this.mode === 'open' && !this.keepaliveReported) {
      this.keepaliveReported = true;
      this.emit({ type: 'KEEPALIVE' }, this.offset);
    }
    return j;
  }

  /**
   * Hand one piece (ending at a '>' or at the end of the input) to saxes, enforcing the
   * size limits and the NUL check first. Where such a check fails inside the piece, the
   * text before that point is still parsed, so the first fault in the input is the one
   * reported however the input was cut into chunks.
   */
  private feed(piece: string): void {
    const open = this.mode === 'open';
    if (!open) {
      // §11.6: a NUL before the header means UTF-16 or UTF-32 without byte order mark.
      const nul = piece.indexOf('\u0000');
      if (nul !== -1) {
        if (nul > 0) this.feed(piece.slice(0, nul));
        this.abort('unsupported-encoding', 'the stream is not UTF-8 (RFC 6120 §11.6)');
      }
    }
    const bytes = Buffer.byteLength(piece, 'utf8');
    const limit = open ? this.limits.maxStanzaBytes : this.limits.maxHeaderBytes;
    if (this.pendingBytes + bytes > limit) {
      const fits = prefixOfBytes(piece, limit - this.pendingBytes);
      if (fits !== '') this.writeSax(fits, Buffer.byteLength(fits, 'utf8'));
      // §4.9.3.14 / §13.12: refuse the unit as soon as it is known to be too large.
      this.abort('policy-violation', open
        ? `top-level element larger than ${limit} bytes`
        : `stream header larger than ${limit} bytes`);
    }
    this.writeSax(piece, bytes);
  }

  private writeSax(text: string, bytes: number): void {
    this.pendingBytes += bytes;
    this.pieceEnd = this.offset + text.length;
    const before = this.out.length;
    try {
      this.sax.write(text);
      this.checkEntity();
    } catch (e) {
      // Events fire on the piece's last character; saxes may report a fault on that same
      // character after the callback (`</b>` closing `<a>` first calls back for `<a>`),
      // so events of a faulty piece are withdrawn.
      this.out.length = before;
      throw e;
    }
  }

  /**
   * saxes reads an entity reference up to the next ';' however far that is, so `a & b`
   * would swallow the rest of the stream. An entity name never contains these
   * characters: seeing one means a bare '&', which is not well-formed (XML 1.0 §2.4).
   * This reads two internal fields of saxes 6 and does nothing if they are absent.
   */
  private checkEntity(): void {
    const internals = this.sax as unknown as { state?: unknown; entity?: unknown };
    if (internals.state === SAXES_S_ENTITY && typeof internals.entity === 'string' && /[\s<>&"'/=]/.test(internals.entity)) {
      this.abort('not-well-formed', "'&' that does not start an entity or character reference");
    }
  }

  // ---------------------------------------------------------------------------
  // saxes callbacks
  // ---------------------------------------------------------------------------

  private onSaxError(err: Error): never {
    if (this.unboundPrefix !== undefined) {
      // §4.9.3.2: a prefix the peer never declared (§11.2, XML-NAMES).
      this.abort('bad-namespace-prefix', `undeclared namespace prefix '${this.unboundPrefix}'`);
    }
    const msg = err.message;
    // §11.1: entity references other than the five predefined ones; DTDs anywhere.
    if (msg.includes('undefined entity')) this.abort('restricted-xml', 'entity references other than the predefined ones are prohibited (RFC 6120 §11.1)');
    if (msg.includes('doctype')) this.abort('restricted-xml', 'DTDs are prohibited (RFC 6120 §11.1)');
    // §11.3: anything else saxes rejects is not XML- or namespace-well-formed, §4.9.3.13.
    this.abort('not-well-formed', msg);
  }

  private onXmlDecl(decl: XMLDecl): void {
    // §11.6 / §4.9.3.22: only UTF-8.
    if (decl.encoding !== undefined && decl.encoding.toUpperCase() !== 'UTF-8') {
      this.abort('unsupported-encoding', `encoding '${decl.encoding}' is not supported, only UTF-8 (RFC 6120 §11.6)`);
    }
    // §11.5: standalone='no' → restricted-xml (we choose closing over ignoring); 'yes' means nothing and is ignored.
    if (decl.standalone === 'no') this.abort('restricted-xml', "standalone='no' in the XML declaration (RFC 6120 §11.5)");
  }

  private onOpenTag(tag: SaxesTagNS): void {
    this.unboundPrefix = undefined;
    if (this.mode !== 'open') {
      this.onHeader(tag);
      return;
    }
    if (this.stack.length === 0 && tag.uri === NS.STREAMS && tag.local === 'stream') {
      // A second header inside the open stream: the peer restarted where no restart
      // (§4.3.3) was due. It could never complete as an element; refuse it now.
      this.abort('bad-format', 'a stream header inside the open stream (RFC 6120 §4.3.3)');
    }
    const depth = this.stack.length + 1;
    if (depth > this.limits.maxDepth) this.abort('policy-violation', `elements nested deeper than ${this.limits.maxDepth}`);
    // §4.8.5: elements qualified by the content namespace (jabber:client/jabber:server) MUST NOT be prefixed.
    if (tag.prefix !== '' && tag.uri === this.contentNamespace) {
      this.abort('bad-namespace-prefix', `element <${tag.name}> uses a prefix for the content namespace (RFC 6120 §4.8.5)`);
    }
    const attributes = tag.attributes;
    let count = 0;
    for (const name in attributes) if (Object.hasOwn(attributes, name)) count++;
    if (count > this.limits.maxAttributes) {
      this.abort('policy-violation', `more than ${this.limits.maxAttributes} attributes on one element`);
    }
    const attrs: Record<string, string> = {};
    for (const name in attributes) {
      if (!Object.hasOwn(attributes, name)) continue;
      const a = attributes[name]!;
      if (a.name === 'xmlns' || a.prefix === 'xmlns') continue;
      attrs[a.name] = a.value;
      // Keep the declaration a prefixed attribute needs (machines/xml.ts), wherever it was declared.
      if (a.prefix !== '' && a.prefix !== 'xml') attrs[`xmlns:${a.prefix}`] = a.uri;
    }
    this.stack.push({ name: tag.local, xmlns: tag.uri, attrs, children: [] });
  }

  private onHeader(tag: SaxesTagNS): void {
    const result = readStreamHeader(tag, this.limits.contentNamespaces);
    if (!result.ok) this.abort(result.condition, result.text);
    this.contentNamespace = result.header.contentNamespace;
    this.mode = 'open';
    this.emit({ type: 'HEADER', header: result.header }, this.pieceEnd);
    this.atTop = true;
  }

  private onCloseTag(_tag: SaxesTagNS): void {
    if (this.mode !== 'open') return;
    const done = this.stack.pop();
    if (done === undefined) {
      // The root closed: §4.4 the peer ends the stream.
      this.mode = 'closed';
      this.emit({ type: 'STREAM_CLOSE' }, this.pieceEnd);
      return;
    }
    const parent = this.stack[this.stack.length - 1];
    if (parent !== undefined) {
      parent.children.push(done as XmlElement);
      return;
    }
    this.emit({ type: 'ELEMENT', element: done as XmlElement }, this.pieceEnd);
    this.atTop = true;
  }

  private onText(t: string): void {
    if (this.mode !== 'open' || t === '') return;
    const current = this.stack[this.stack.length - 1];
    if (current === undefined) {
      // Not reached in practice (whitespace at the top level is consumed before saxes sees it); kept as a guard.
      for (let k = 0; k < t.length; k++) {
        if (!isSpace(t.charCodeAt(k))) this.abort('bad-format', 'character data between top-level elements of the stream (RFC 6120 §11.7)');
      }
      return;
    }
    const last = current.children.length - 1;
    const prev = current.children[last];
    if (typeof prev === 'string') current.children[last] = prev + t;
    else current.children.push(t);
  }

  // ---------------------------------------------------------------------------

  private emit(event: ParserEvent, end: number): void {
    this.ends.set(event, end);
    this.boundary = end;
    this.pendingBytes = 0;
    this.out.push(event);
  }

  private abort(condition: StreamErrorCondition, detail: string): never {
    throw new ParseAbort(condition, detail);
  }

  private fail(condition: StreamErrorCondition, text: string): void {
    this.mode = 'failed';
    this.stack = [];
    const event: ParseErrorEvent = { type: 'PARSE_ERROR', condition, text };
    this.ends.set(event, this.offset);
    this.out.push(event);
  }
}
