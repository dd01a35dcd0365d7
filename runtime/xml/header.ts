/**
 * RFC 6120 §4.2 / §4.7 / §4.8: checking the root element of an incoming stream and
 * reading the stream header from it.
 */
import type { StreamErrorCondition } from '../../machines/conditions.js';
import { NS } from '../../machines/ns.js';
import type { StreamHeader } from '../../machines/protocol.js';
import type { ResolvedTag } from './names.js';

export type HeaderResult =
  | { readonly ok: true; readonly header: StreamHeader }
  | { readonly ok: false; readonly condition: StreamErrorCondition; readonly text: string };

const reject = (condition: StreamErrorCondition, text: string): HeaderResult => ({ ok: false, condition, text });

/** The stream header carried by the root start tag `tag` (written `qname`), or the stream error it deserves. */
export function readStreamHeader(qname: string, tag: ResolvedTag, contentNamespaces: readonly string[]): HeaderResult {
  // §4.8.1: the root must be qualified by the stream namespace.
  if (tag.uri !== NS.STREAMS) {
    return reject('invalid-namespace', `the stream root <${qname}> is not qualified by ${NS.STREAMS} (RFC 6120 §4.8.1)`);
  }
  // The streams namespace is right but this is no stream header: XML "that cannot be processed" (§4.9.3.1).
  if (tag.local !== 'stream') return reject('bad-format', `<${qname}> is not a stream header (RFC 6120 §4.2)`);
  // §4.8.5 interoperability note and the §4.9.3.2 example: we accept only the prefix 'stream'.
  // That also rejects "prefix-free canonicalization" (§4.8.2), which we do not support.
  if (tag.prefix !== 'stream') {
    return reject('bad-namespace-prefix', `the stream namespace must use the prefix 'stream', not '${tag.prefix}' (RFC 6120 §4.8.5)`);
  }
  // §4.8.2 / §4.9.3.10: the content namespace is the header's default namespace and must be
  // one we support. We require it to be declared (no prefix-free canonicalization), so a
  // header without one is treated like an unsupported content namespace: invalid-namespace.
  const content = tag.declaredDefault;
  if (content === undefined || content === '') {
    return reject('invalid-namespace', 'the stream header declares no content namespace (RFC 6120 §4.8.2)');
  }
  if (!contentNamespaces.includes(content)) {
    return reject('invalid-namespace', `unsupported content namespace '${content}' (RFC 6120 §4.9.3.10)`);
  }
  // §4.7: from, to, id, xml:lang, version; absent ones stay absent.
  const header: { -readonly [K in keyof StreamHeader]: StreamHeader[K] } = { contentNamespace: content };
  const value = (name: string): string | undefined => (Object.hasOwn(tag.attrs, name) ? tag.attrs[name] : undefined);
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
