/**
 * Comparing what the client wrote with what the initiating-entity model says it must write.
 *
 * Canonical text, with what RFC 6120 leaves to the implementation or makes random
 * normalized away (on top of ../compare.ts normalize):
 * - the initial header's 'from' (§4.7.1 SHOULD) and 'xml:lang' (§4.7.4 SHOULD): compared
 *   only for presence and reported as notes, never deviations; 'to', 'version' and the
 *   content namespace are compared (§4.7.2, §4.7.5, §4.8.2), and 'id' must be absent (§4.7.3);
 * - IQ ids (§8.1.3), the requested resourcepart (§7.7), SASL data (nonces, proofs: their
 *   shape is compared, 'n=*,r=*' / 'c=*,r=*,p=*'; PLAIN is '(data)');
 * - `<text/>` in stream errors (§4.9.2).
 */
import { NS } from '../../machines/ns.js';
import type { Command } from '../../machines/protocol.js';
import { decodeSaslData } from '../../machines/sasl/index.js';
import { isElement, text, type XmlElement, type XmlNode } from '../../machines/xml.js';
import { serializeElement } from '../../runtime/xml/index.js';
import { display as displayObservation, normalize } from '../compare.js';
import type { ClientObservation } from './wire.js';

/** The observations a model step's commands predict, in order. */
export function expectedClientObservations(commands: readonly Command[]): ClientObservation[] {
  const out: ClientObservation[] = [];
  for (const c of commands) {
    if (c.type === 'openStream') out.push({ kind: 'header', header: c.header });
    else if (c.type === 'send') out.push({ kind: 'element', element: c.element });
    else if (c.type === 'sendWhitespace') out.push({ kind: 'whitespace' });
    else if (c.type === 'closeStream') out.push({ kind: 'close' });
    else if (c.type === 'closeSocket') out.push({ kind: 'eof' });
    else if (c.type === 'startTls') out.push({ kind: 'tls-start' });
  }
  return out;
}

export function canonicalClient(o: ClientObservation): string {
  switch (o.kind) {
    case 'header': {
      const h = o.header;
      return `<stream:stream to=${h.to ?? '∅'} version=${h.version ?? '∅'}${h.id !== undefined ? ` id=${h.id}` : ''} xmlns=${h.contentNamespace}>`;
    }
    case 'element':
      return serializeElement(scrub(normalize(o.element)), NS.CLIENT);
    case 'tls-start':
      return '(TLS handshake begins)';
    case 'whitespace':
      return '(whitespace)';
    case 'close':
      return '</stream:stream>';
    case 'eof':
      return '(TCP closed)';
    case 'unparsable':
      return `(unparsable output: ${o.condition}${o.text ? `: ${o.text}` : ''})`;
    case 'tls-error':
      return `(TLS handshake failed: ${o.reason})`;
  }
}

export function displayClient(o: ClientObservation): string {
  return o.kind === 'tls-start' ? '(TLS handshake begins)' : o.kind === 'header' ? headerText(o.header) : displayObservation(o);
}

function headerText(h: { from?: string; to?: string; id?: string; lang?: string; version?: string; contentNamespace: string }): string {
  const attrs = [['from', h.from], ['to', h.to], ['id', h.id], ['xml:lang', h.lang], ['version', h.version]]
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}='${v}'`)
    .join(' ');
  return `<stream:stream xmlns='${h.contentNamespace}' ${attrs}>`;
}

function scrub(e: XmlElement): XmlElement {
  let attrs = e.attrs;
  let children: readonly XmlNode[] = e.children;
  if (e.name === 'iq' && e.xmlns === NS.CLIENT && attrs['id'] !== undefined) attrs = { ...attrs, id: '*' };
  if (e.name === 'resource' && e.xmlns === NS.BIND) children = ['*'];
  if (e.xmlns === NS.SASL && (e.name === 'auth' || e.name === 'response')) children = [saslShape(text(e).trim())].filter((s) => s !== '');
  return { ...e, attrs, children: children.map((c) => (isElement(c) ? scrub(c) : c)) };
}

/** SASL data with the random parts replaced: SCRAM 'n=*,r=*', 'c=*,r=*,p=*'; else '(data)'; empty is '='. */
function saslShape(data: string): string {
  if (data === '' || data === '=') return '=';
  const bytes = decodeSaslData(data);
  if (bytes === undefined) return '(invalid base64)';
  const s = new TextDecoder().decode(bytes);
  const keys = s.split(',').map((kv) => kv.slice(0, kv.indexOf('=') + 1)).filter((k) => k !== '');
  if (keys.length > 0 && keys.every((k) => /^[a-z]=$/.test(k))) return keys.map((k) => `${k}*`).join(',');
  return '(data)';
}

/** Notes on a client header: what the RFC recommends and the client left out (never a deviation). */
export function headerNotes(o: ClientObservation, secured: boolean): string[] {
  if (o.kind !== 'header') return [];
  const out: string[] = [];
  if (secured && o.header.from === undefined) out.push("RFC 6120 §4.7.1: no 'from' on the initial header over TLS (SHOULD)");
  if (o.header.lang === undefined) out.push("RFC 6120 §4.7.4: no 'xml:lang' on the initial header (SHOULD)");
  return out;
}

export interface ClientMismatch {
  readonly expected: string[];
  readonly received: string[];
  readonly explanation?: string;
}

export function compareClient(expected: readonly ClientObservation[], received: readonly ClientObservation[]): ClientMismatch | undefined {
  const e = expected.map(canonicalClient);
  const r = received.map(canonicalClient);
  if (e.length === r.length && e.every((x, i) => x === r[i])) return undefined;
  const explanation = explainClient(e, r);
  return { expected: expected.map(displayClient), received: received.map(displayClient), ...(explanation !== undefined ? { explanation } : {}) };
}

const CLOSE = '</stream:stream>';
const EOF = '(TCP closed)';

function explainClient(e: readonly string[], r: readonly string[]): string | undefined {
  const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  const errorOf = (xs: readonly string[]): string | undefined => xs.find((x) => x.startsWith('<stream:error'));
  if (errorOf(e) !== undefined && errorOf(r) === undefined && r.includes(EOF)) {
    return r.includes(CLOSE)
      ? 'RFC 6120 §4.9.1.1: closed the stream without the stream error the model sends'
      : 'RFC 6120 §4.9.1.1, §4.4: closed TCP without a stream error or a closing tag';
  }
  if (e.includes(CLOSE) && !r.includes(CLOSE) && r.includes(EOF)) return 'RFC 6120 §4.4: TCP closed without a closing tag';
  if (e.includes(CLOSE) && r.length === 0) return 'RFC 6120 §4.4: no closing tag where the model closes the stream';
  if (r.at(-1) === EOF && e.at(-1) !== EOF && same(e, r.slice(0, -1))) return "RFC 6120 §4.4 rule 1: TCP closed right after the closing tag, without waiting for the server's";
  if (e.at(-1) === EOF && r.at(-1) !== EOF && same(e.slice(0, -1), r)) return 'RFC 6120 §4.4 rule 4: TCP left open after both closing tags';
  if (r.length === 0) return 'no answer where the model answers';
  if (e.length === 0) return 'an answer where the model sends nothing';
  return undefined;
}
