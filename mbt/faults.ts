/**
 * Input classes for model-based tests: the malformed inputs a client can write, each with
 * the stream error condition RFC 6120 requires for it. One representative per class is not
 * enough: a server that answers an XML comment with `<not-well-formed/>` instead of
 * `<restricted-xml/>` (§11.1, §4.9.3.18) would pass a test that only sends a mismatched tag.
 * So every class below becomes its own test path (see paths.ts, goals by required output).
 *
 * The condition is the RFC's, not our parser's: test/mbt/faults.test.ts checks that the
 * project's own XML layer (runtime/xml) agrees with every row.
 */
import type { StreamErrorCondition } from '../machines/conditions.js';
import { NS } from '../machines/ns.js';
import type { StreamHeader } from '../machines/protocol.js';

export interface MalformedFault {
  /** What the bytes violate. */
  readonly title: string;
  readonly bytes: Uint8Array;
  readonly condition: StreamErrorCondition;
  readonly rfc: string;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Bytes written once the stream is open (after a header): each one ends the stream with its condition. */
export const MALFORMED_FAULTS = {
  'mismatched-end-tag': { title: 'a closing tag that does not match (XML 1.0 well-formedness)', bytes: utf8('<message><body>hi</message>'), condition: 'not-well-formed', rfc: '6120 §4.9.3.13' },
  'lt-in-attribute': { title: "a '<' in an attribute value (XML 1.0 §3.1)", bytes: utf8("<message id='<'/>"), condition: 'not-well-formed', rfc: '6120 §4.9.3.13' },
  'duplicate-attribute': { title: 'the same attribute twice (XML 1.0 §3.1 unique attribute spec)', bytes: utf8("<message id='a' id='b'/>"), condition: 'not-well-formed', rfc: '6120 §4.9.3.13' },
  'xml-declaration': { title: 'an XML declaration after the stream has started', bytes: utf8("<?xml version='1.0'?>"), condition: 'not-well-formed', rfc: '6120 §11.5, §4.9.3.13' },
  comment: { title: 'an XML comment', bytes: utf8('<!-- mbt -->'), condition: 'restricted-xml', rfc: '6120 §11.1, §4.9.3.18' },
  'processing-instruction': { title: 'a processing instruction', bytes: utf8('<?mbt test?>'), condition: 'restricted-xml', rfc: '6120 §11.1, §4.9.3.18' },
  dtd: { title: 'a document type declaration', bytes: utf8('<!DOCTYPE message>'), condition: 'restricted-xml', rfc: '6120 §11.1, §4.9.3.18' },
  'entity-reference': { title: 'a reference to an entity other than the five predefined ones', bytes: utf8('<message><body>&mbt;</body></message>'), condition: 'restricted-xml', rfc: '6120 §11.1, §4.9.3.18' },
  'undeclared-prefix': { title: 'an element with a namespace prefix nobody declared', bytes: utf8('<mbt:message/>'), condition: 'bad-namespace-prefix', rfc: '6120 §4.9.3.2' },
  'invalid-utf8': { title: 'bytes that are not UTF-8', bytes: new Uint8Array([0x3c, 0x6d, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x6d, 0x3e]), condition: 'unsupported-encoding', rfc: '6120 §11.6, §4.9.3.22' },
} as const satisfies Record<string, MalformedFault>;

export type MalformedFaultName = keyof typeof MALFORMED_FAULTS;
export const MALFORMED_FAULT_NAMES = Object.keys(MALFORMED_FAULTS) as MalformedFaultName[];

/** Initial stream headers a server must refuse, each with its condition (§4.9.1.2: after its own response header). */
export const HEADER_FAULTS = {
  'server-namespace': { title: "content namespace 'jabber:server' on the client port", condition: 'invalid-namespace', rfc: '6120 §4.8.2, §4.9.3.10' },
  'no-version': { title: "no 'version' (a pre-XMPP-1.0 peer)", condition: 'unsupported-version', rfc: '6120 §4.7.5, §4.9.3.25' },
  'wrong-host': { title: "a 'to' the server does not service", condition: 'host-unknown', rfc: '6120 §4.7.2, §4.9.3.6' },
} as const satisfies Record<string, { readonly title: string; readonly condition: StreamErrorCondition; readonly rfc: string }>;

export type HeaderFaultName = keyof typeof HEADER_FAULTS;
export const HEADER_FAULT_NAMES = Object.keys(HEADER_FAULTS) as HeaderFaultName[];

/** The initial header of `fault`, from the well-formed one a test client sends. */
export function faultyHeader(fault: HeaderFaultName, good: StreamHeader): StreamHeader {
  switch (fault) {
    case 'server-namespace':
      return { ...good, contentNamespace: NS.SERVER };
    case 'no-version': {
      const { version: _omitted, ...rest } = good;
      return rest;
    }
    case 'wrong-host':
      return { ...good, to: `not-${good.to ?? 'the-domain'}.invalid` };
  }
}

/**
 * The size limits of RFC 6120 §13.12 (denial of service): each is the server's own number,
 * so these classes are played only against a target whose limits are known (Target.limits),
 * one unit over each. Crossing any of them ends the stream with `<policy-violation/>`
 * (§4.9.3.14). The element is written complete, so a server that checks only once it has
 * the whole stanza still can answer.
 */
export const LIMIT_FAULTS = {
  'stanza-size': { title: 'a stanza one byte larger than the server accepts', limit: 'maxStanzaBytes' },
  depth: { title: 'elements nested one level deeper than the server accepts', limit: 'maxDepth' },
  attributes: { title: 'one attribute more on an element than the server accepts', limit: 'maxAttributes' },
} as const;

export type LimitFaultName = keyof typeof LIMIT_FAULTS;
export const LIMIT_FAULT_NAMES = Object.keys(LIMIT_FAULTS) as LimitFaultName[];
export type StreamLimits = { readonly [K in (typeof LIMIT_FAULTS)[LimitFaultName]['limit']]: number };
export const LIMIT_CONDITION = { condition: 'policy-violation', rfc: '6120 §13.12, §4.9.3.14' } as const;

/** The bytes of `fault` for a server whose limit is `limit`. */
export function overLimitBytes(fault: LimitFaultName, limit: number): Uint8Array {
  switch (fault) {
    case 'stanza-size': {
      const open = "<message type='headline'><body>";
      const close = '</body></message>';
      return utf8(`${open}${'a'.repeat(Math.max(0, limit + 1 - open.length - close.length))}${close}`);
    }
    case 'depth':
      // The top-level element is depth 1: `limit` nested children make depth limit + 1.
      return utf8(`<message>${'<x>'.repeat(limit)}${'</x>'.repeat(limit)}</message>`);
    case 'attributes':
      return utf8(`<message ${Array.from({ length: limit + 1 }, (_, i) => `a${i}='x'`).join(' ')}/>`);
  }
}
