/**
 * The rows the conformance report answers for: the feature table of the project's
 * checklist (shared/spec/CONFORMANCE.md, keyed by RFC 6120 §15 feature names) and the
 * three error-condition vocabularies of machines/conditions.ts.
 */
import {
  SASL_FAILURE_CONDITIONS,
  STANZA_ERROR_CONDITIONS,
  STREAM_ERROR_CONDITIONS,
  saslFailureSection,
  streamErrorSection,
  type StanzaErrorCondition,
} from '../machines/conditions.js';

/** §15 requirement level for one role; 'n/a' when the feature does not apply to it. */
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

/** Parses the `## Features` table: `| feature | what | § | C | S |`. */
export function parseFeatureTable(markdown: string): ConformanceRow[] {
  const rows: ConformanceRow[] = [];
  let inFeatures = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('## ')) inFeatures = /^##\s+Features\b/.test(line);
    if (!inFeatures || !line.trimStart().startsWith('|')) continue;
    const cells = line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
    const [feature, what, section, client, server] = cells;
    if (feature === undefined || what === undefined || section === undefined || client === undefined || server === undefined) continue;
    if (feature === 'feature' || /^-+$/.test(feature) || !/^\d+(\.\d+)*$/.test(section)) continue;
    rows.push({ kind: 'feature', name: feature, what: what.replace(/`/g, ''), section, client, server });
  }
  return rows;
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
