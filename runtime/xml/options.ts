/**
 * Limits of the incoming XML stream (RFC 6120 §13.12 denial of service): every one of them
 * ends the stream with `<policy-violation/>` (§4.9.3.14) as soon as it is crossed, while the
 * offending data is still arriving, so no limit is ever enforced by buffering first.
 */
import { NS } from '../../machines/ns.js';

export interface StreamParserOptions {
  /** Largest top-level element (stanza, features, SASL element...), in UTF-8 bytes. Default 262144. */
  readonly maxStanzaBytes?: number;
  /** Largest stream prologue (XML declaration + stream header), in UTF-8 bytes. Default 8192. */
  readonly maxHeaderBytes?: number;
  /** Deepest element nesting; a top-level element has depth 1. Default 64. */
  readonly maxDepth?: number;
  /** Most attributes on one element (namespace declarations included). Default 64. */
  readonly maxAttributes?: number;
  /** §4.8.2 / §4.9.3.10: content namespaces accepted as the header's default namespace. Default jabber:client and jabber:server. */
  readonly contentNamespaces?: readonly string[];
}

export type ResolvedParserOptions = Required<StreamParserOptions>;

export const DEFAULT_PARSER_OPTIONS: ResolvedParserOptions = {
  maxStanzaBytes: 262_144,
  maxHeaderBytes: 8_192,
  maxDepth: 64,
  maxAttributes: 64,
  contentNamespaces: [NS.CLIENT, NS.SERVER],
};

export function resolveParserOptions(opts: StreamParserOptions = {}): ResolvedParserOptions {
  const o: Record<string, unknown> = { ...DEFAULT_PARSER_OPTIONS };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) o[k] = v;
  return o as unknown as ResolvedParserOptions;
}
