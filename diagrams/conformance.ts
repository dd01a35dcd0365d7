/**
 * The rows the conformance report answers for: the features of RFC 6120 §15, read from
 * spec/rfc6120.txt, and the three error-condition vocabularies of machines/conditions.ts.
 */
import {
  SASL_FAILURE_CONDITIONS,
  STANZA_ERROR_CONDITIONS,
  STREAM_ERROR_CONDITIONS,
  saslFailureSection,
  streamErrorSection,
  type StanzaErrorCondition,
} from '../machines/conditions.js';
import { readConformanceFeatures, type Rfc6120Feature, type Rfc6120Level } from './conformance-source.js';

/** §15 requirement level for one role (MUST, SHOULD, MAY); 'n/a' when the feature does not apply to it. */
export type Requirement = string;

export type RowKind = 'feature' | 'stream-error' | 'sasl-failure' | 'stanza-error';

export interface ConformanceRow {
  readonly kind: RowKind;
  /** Feature name ('bind-gen') or condition ('connection-timeout'). */
  readonly name: string;
  readonly what: string;
  /** RFC 6120 section, without '§' ('7.6'). */
  readonly section: string;
  readonly client: Requirement;
  readonly server: Requirement;
}

/**
 * The report's feature rows: RFC 6120 §15 as parsed from the RFC's text (conformance-source.ts),
 * in the RFC's order, the description without its final period and 'N/A' written 'n/a'.
 */
export function featureRows(features: readonly Rfc6120Feature[] = readConformanceFeatures()): ConformanceRow[] {
  const level = (l: Rfc6120Level): Requirement => (l === 'N/A' ? 'n/a' : l);
  return features.map((f) => ({
    kind: 'feature',
    name: f.name,
    what: f.description.replace(/\.$/, ''),
    section: f.section,
    client: level(f.client),
    server: level(f.server),
  }));
}

/** The 25 stream, 11 SASL and 22 stanza error conditions with their subsections of RFC 6120. */
export function conditionRows(): ConformanceRow[] {
  const stream = STREAM_ERROR_CONDITIONS.map((c) => row('stream-error', c, `<stream:error/> <${c}/>`, streamErrorSection(c)));
  const sasl = SASL_FAILURE_CONDITIONS.map((c) => row('sasl-failure', c, `SASL <failure/> <${c}/>`, saslFailureSection(c)));
  const stanza = (Object.keys(STANZA_ERROR_CONDITIONS) as StanzaErrorCondition[]).map((c, i) =>
    row('stanza-error', c, `stanza <error type='${STANZA_ERROR_CONDITIONS[c]}'/> <${c}/>`, `8.3.3.${i + 1}`),
  );
  return [...stream, ...sasl, ...stanza];
}

function row(kind: RowKind, name: string, what: string, section: string): ConformanceRow {
  // The condition tables apply to both ends: either may send or must understand them.
  return { kind, name, what, section, client: 'MUST', server: 'MUST' };
}
