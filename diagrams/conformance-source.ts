/**
 * The feature set of RFC 6120 §15 (Conformance Requirements), read from the RFC's own text
 * (spec/rfc6120.txt, the RFC Editor's plain-text file). §15 lists each feature as
 *
 *    Feature:  bind-gen
 *    Description:  Generate a random resource on demand.
 *    Section:  Section 7.6
 *    Roles:  Client N/A, Server MUST.
 *
 * with long descriptions wrapped onto lines indented six spaces, and the page footer
 * ("Saint-Andre ... [Page 172]"), a form feed and the page header ("RFC 6120 ... March
 * 2011") wherever a page ends. Nothing here is typed by hand: a feature that does not
 * parse is an error, not a skipped row.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's copy of RFC 6120 (spec/README.md). */
export const RFC6120_FILE = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'spec', 'rfc6120.txt');

/** §15's requirement level for one role, as the RFC spells it. */
export type Rfc6120Level = 'MUST' | 'SHOULD' | 'MAY' | 'N/A';

export interface Rfc6120Feature {
  /** 'bind-gen' */
  readonly name: string;
  /** The informational description, unwrapped: 'Generate a random resource on demand.' */
  readonly description: string;
  /** The normative section, without 'Section' or '§': '7.6'. */
  readonly section: string;
  readonly client: Rfc6120Level;
  readonly server: Rfc6120Level;
}

const HEADING = /^15\. {2}Conformance Requirements\s*$/;
const NEXT_HEADING = /^16\. {2}/;
const PAGE_FOOTER = /^\S.*\[Page \d+\]\s*$/;
const PAGE_HEADER = /^RFC 6120 {2,}.*\S {2,}\w+ \d{4}\s*$/;
const FIELD = /^ {3}(Feature|Description|Section|Roles): {2}(.*)$/;
const CONTINUATION = /^ {6}(\S.*)$/;
const SECTION = /^Section (\d+(?:\.\d+)*)$/;
const ROLES = /^Client (MUST|SHOULD|MAY|N\/A), Server (MUST|SHOULD|MAY|N\/A)\.$/;

/** The lines of §15 of RFC 6120's text, page footers, form feeds and page headers removed. */
export function section15Lines(rfcText: string): string[] {
  const lines = rfcText.replace(/\r\n/g, '\n').split('\n').map((l) => l.replace(/\f/g, ''));
  const start = lines.findIndex((l) => HEADING.test(l));
  if (start < 0) throw new Error('RFC 6120 text: no "15.  Conformance Requirements" heading');
  const end = lines.findIndex((l, i) => i > start && NEXT_HEADING.test(l));
  if (end < 0) throw new Error('RFC 6120 text: §15 has no end (no "16." heading after it)');
  return lines.slice(start + 1, end).filter((l) => !PAGE_FOOTER.test(l) && !PAGE_HEADER.test(l));
}

/** Every feature of §15, in the RFC's order. */
export function parseConformanceFeatures(rfcText: string): Rfc6120Feature[] {
  type Field = 'Feature' | 'Description' | 'Section' | 'Roles';
  const records: Partial<Record<Field, string>>[] = [];
  let field: Field | undefined;
  for (const line of section15Lines(rfcText)) {
    const f = FIELD.exec(line);
    if (f) {
      field = f[1] as Field;
      if (field === 'Feature') records.push({});
      const record = records.at(-1);
      if (record === undefined) throw new Error(`RFC 6120 §15: "${line.trim()}" before the first Feature`);
      if (record[field] !== undefined) throw new Error(`RFC 6120 §15: ${field} given twice for ${record.Feature ?? '?'}`);
      record[field] = f[2]!.trim();
      continue;
    }
    const c = CONTINUATION.exec(line);
    if (c && field !== undefined) {
      const record = records.at(-1)!;
      const sofar = record[field]!;
      // The RFC Editor does not split words at line ends: a trailing '-' belongs to a compound ("voluntary-to-").
      record[field] = sofar.endsWith('-') ? `${sofar}${c[1]!.trim()}` : `${sofar} ${c[1]!.trim()}`;
      continue;
    }
    // A blank line or prose ends a field; the prose before the first Feature is the introduction.
    field = undefined;
  }
  if (records.length === 0) throw new Error('RFC 6120 §15: no Feature found');
  return records.map((r): Rfc6120Feature => {
    const name = r.Feature ?? '?';
    const section = SECTION.exec(r.Section ?? '');
    const roles = ROLES.exec(r.Roles ?? '');
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name)) throw new Error(`RFC 6120 §15: bad feature name "${name}"`);
    if (r.Description === undefined) throw new Error(`RFC 6120 §15: ${name} has no Description`);
    if (!section) throw new Error(`RFC 6120 §15: ${name} has Section "${r.Section ?? ''}", not "Section N.N"`);
    if (!roles) throw new Error(`RFC 6120 §15: ${name} has Roles "${r.Roles ?? ''}", not "Client X, Server Y."`);
    return {
      name,
      description: r.Description,
      section: section[1]!,
      client: roles[1] as Rfc6120Level,
      server: roles[2] as Rfc6120Level,
    };
  });
}

/** §15 of the repository's RFC 6120 (or of the text in `file`). */
export function readConformanceFeatures(file = RFC6120_FILE): Rfc6120Feature[] {
  return parseConformanceFeatures(readFileSync(file, 'utf8'));
}
