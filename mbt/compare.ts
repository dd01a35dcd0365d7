/**
 * Comparing what the server wrote with what the model says it must write.
 *
 * Both sides become observations (./client.ts) and then canonical text in which everything
 * the RFC leaves to the implementation, or makes random, is normalized away:
 * - stream ids (§4.7.3), ping ids, SCRAM nonces, salts, iteration counts and signatures
 *   (RFC 5802: the client checks the signature itself), server-generated resourceparts (§7.6);
 * - `<text/>` in errors and `xml:lang` (§4.9.2, §6.5, §8.3.2: optional, human-readable);
 * - stream features outside RFC 6120 (XEP extensions a server may add, §4.3.2), and SASL
 *   mechanisms the model does not implement;
 * - 'from'/'to' on IQ results and errors, and an IQ error's echo of the request (§8.3.1);
 * - whitespace between elements (§4.6.1) unless the model expects a keepalive.
 */
import { NS } from '../machines/ns.js';
import type { Command } from '../machines/protocol.js';
import { IMPLEMENTED_MECHANISMS } from '../machines/sasl/api.js';
import { decodeSaslData } from '../machines/sasl/index.js';
import { childElements, isElement, text, type XmlElement, type XmlNode } from '../machines/xml.js';
import { serializeElement } from '../runtime/xml/index.js';
import { RESOURCE } from './actions.js';
import type { Observation } from './client.js';

/** The observations a model step's commands predict, in order. */
export function expectedObservations(commands: readonly Command[]): Observation[] {
  const out: Observation[] = [];
  for (const c of commands) {
    if (c.type === 'openStream') out.push({ kind: 'header', header: c.header });
    else if (c.type === 'send') out.push({ kind: 'element', element: c.element });
    else if (c.type === 'sendWhitespace') out.push({ kind: 'whitespace' });
    else if (c.type === 'closeStream') out.push({ kind: 'close' });
    else if (c.type === 'closeSocket') out.push({ kind: 'eof' });
  }
  return out;
}

const CORE_FEATURE_NS: readonly string[] = [NS.TLS, NS.SASL, NS.BIND];
const ERROR_TEXT_NS: readonly string[] = [NS.STREAM_ERRORS, NS.SASL, NS.STANZAS];

/** Canonical text of one observation. */
export function canonical(o: Observation): string {
  switch (o.kind) {
    case 'header': {
      const h = o.header;
      return `<stream:stream from=${h.from ?? '∅'} version=${h.version ?? '∅'} id=${h.id !== undefined ? '*' : '∅'} xmlns=${h.contentNamespace}>`;
    }
    case 'element':
      return serialize(normalize(o.element));
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

/** Wire form of an observation, as it was (for the report). */
export function display(o: Observation): string {
  if (o.kind === 'element') return serializeElement(o.element, NS.CLIENT);
  if (o.kind === 'header') {
    const h = o.header;
    const attrs = [['from', h.from], ['to', h.to], ['id', h.id], ['xml:lang', h.lang], ['version', h.version]]
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}='${v}'`)
      .join(' ');
    return `<stream:stream xmlns='${h.contentNamespace}' ${attrs}>`;
  }
  return canonical(o);
}

function serialize(e: XmlElement): string {
  return serializeElement(e, NS.CLIENT);
}

export function normalize(e: XmlElement, parent?: XmlElement): XmlElement {
  let attrs: Record<string, string> = { ...e.attrs };
  delete attrs['xml:lang'];
  let children: XmlNode[] = e.children
    .filter((c) => (typeof c === 'string' ? c.trim() !== '' : true))
    .map((c) => (typeof c === 'string' ? c.trim() : c));
  // Descriptive text in errors and failures is optional (§4.9.2, §6.5, §8.3.2).
  children = children.filter((c) => !(isElement(c) && c.name === 'text' && ERROR_TEXT_NS.includes(c.xmlns)));
  if (e.name === 'features' && e.xmlns === NS.STREAMS) {
    children = children
      .filter((c) => isElement(c) && CORE_FEATURE_NS.includes(c.xmlns))
      .sort((a, b) => key(a).localeCompare(key(b)));
  }
  // RFC 6120 §7.4 defines no child of the <bind/> feature; 6120bis drafts add <required/> (see notesFor).
  if (e.name === 'bind' && e.xmlns === NS.BIND && parent?.name === 'features') children = [];
  if (e.name === 'mechanisms' && e.xmlns === NS.SASL) {
    children = children.filter((c) => isElement(c) && (IMPLEMENTED_MECHANISMS as readonly string[]).includes(text(c).trim()));
  }
  if (e.xmlns === NS.SASL && (e.name === 'challenge' || e.name === 'success')) {
    children = [scramShape(text(e).trim())].filter((s) => s !== '');
  }
  if (e.name === 'iq' && e.xmlns === NS.CLIENT) {
    const type = attrs['type'];
    const ping = childElements(e).some((c) => c.xmlns === NS.PING);
    if (ping) {
      attrs = { ...attrs, id: '*', ...(attrs['to'] !== undefined ? { to: bare(attrs['to']) + '/*' } : {}) };
    } else if (type === 'result' || type === 'error') {
      delete attrs['from'];
      delete attrs['to'];
      // §8.3.1: an error MAY echo the request; only the <error/> child counts.
      if (type === 'error') children = children.filter((c) => isElement(c) && c.name === 'error');
    }
  }
  if (e.name === 'error' && e.xmlns === NS.CLIENT) delete attrs['by'];
  if (e.name === 'jid' && e.xmlns === NS.BIND && parent?.name === 'bind') {
    const jid = text(e).trim();
    const slash = jid.indexOf('/');
    const resource = slash >= 0 ? jid.slice(slash + 1) : '';
    children = [resource.startsWith(RESOURCE) ? `${bare(jid)}/${RESOURCE}` : `${bare(jid)}/*`];
  }
  const sortedAttrs: Record<string, string> = {};
  for (const k of Object.keys(attrs).sort()) sortedAttrs[k] = attrs[k]!;
  return { name: e.name, xmlns: e.xmlns, attrs: sortedAttrs, children: children.map((c) => (isElement(c) ? normalize(c, e) : c)) };
}

function key(e: XmlNode): string {
  return isElement(e) ? `${e.xmlns} ${e.name}` : '';
}

function bare(jid: string): string {
  const slash = jid.indexOf('/');
  return slash >= 0 ? jid.slice(0, slash) : jid;
}

/** SASL data with the random parts replaced: SCRAM 'r=*,s=*,i=*' / 'v=*', else the decoded bytes' shape. */
function scramShape(data: string): string {
  if (data === '' || data === '=') return '';
  const bytes = decodeSaslData(data);
  if (bytes === undefined) return `(invalid base64)`;
  const s = new TextDecoder().decode(bytes);
  if (s === '') return '';
  const attrs = s.split(',').map((kv) => kv.slice(0, kv.indexOf('=') + 1)).filter((k) => k !== '');
  if (attrs.length > 0 && attrs.every((k) => /^[a-z]=$/.test(k))) return attrs.map((k) => `${k}*`).join(',');
  return '(data)';
}

export interface Mismatch {
  readonly expected: string[];
  readonly received: string[];
  /** What the difference means, when it is one of the well-known kinds. */
  readonly explanation?: string;
}

/** Is this received observation one the model does not speak about (routing by the host, keepalives)? */
export function ignorable(o: Observation, opts: { established: boolean; expectWhitespace: boolean }): boolean {
  if (o.kind === 'whitespace') return !opts.expectWhitespace;
  // Stanzas the router delivers to the session (§10) are the host's, not the stream machine's.
  if (opts.established && o.kind === 'element' && o.element.xmlns === NS.CLIENT && (o.element.name === 'message' || o.element.name === 'presence')) return true;
  return false;
}

/** Compare in order; undefined when they agree. */
export function compareObservations(expected: readonly Observation[], received: readonly Observation[]): Mismatch | undefined {
  const e = expected.map(canonical);
  const r = received.map(canonical);
  if (e.length === r.length && e.every((x, i) => x === r[i])) return undefined;
  const explanation = explain(e, r);
  return { expected: expected.map(display), received: received.map(display), ...(explanation !== undefined ? { explanation } : {}) };
}

const EOF_TEXT = '(TCP closed)';

function explain(e: readonly string[], r: readonly string[]): string | undefined {
  const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  if (r.at(-1) === EOF_TEXT && e.at(-1) !== EOF_TEXT && same(e, r.slice(0, -1))) {
    return "RFC 6120 §4.4 rule 1: TCP closed right after the closing tag, without waiting for the peer's";
  }
  if (e.at(-1) === EOF_TEXT && r.at(-1) !== EOF_TEXT && same(e.slice(0, -1), r)) {
    return 'RFC 6120 §4.4 rule 4: TCP left open after both closing tags';
  }
  if (r.length === 0) return 'no answer where the model answers';
  if (e.length === 0) return 'an answer where the model sends nothing';
  return undefined;
}

/**
 * Differences the comparison tolerates but reports: things RFC 6120 does not define and a
 * client must ignore, yet which differ from what the model writes.
 */
export function notesFor(o: Observation): string[] {
  if (o.kind !== 'element' || o.element.name !== 'features' || o.element.xmlns !== NS.STREAMS) return [];
  const out: string[] = [];
  for (const f of childElements(o.element)) {
    if (f.name === 'bind' && f.xmlns === NS.BIND && childElements(f).length > 0) {
      out.push(`RFC 6120 §7.4: the <bind/> feature has children (${childElements(f).map((c) => `<${c.name}/>`).join('')}); RFC 6120 defines none (later drafts add <required/>)`);
    }
  }
  return out;
}
