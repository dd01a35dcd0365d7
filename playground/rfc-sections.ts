/**
 * Build time: the RFC 6120 sections the two stream machines cite, quoted from
 * spec/rfc6120.txt (the unmodified RFC), so the playground shows the very paragraphs a
 * transition implements. Page breaks (footer, form feed, header) are removed; nothing else is.
 */
import type { AnyStateMachine } from 'xstate';
import { describeMachine } from '../machines/introspect/model.js';
import { compareSections, rfc6120Sections } from '../machines/introspect/sections.js';

export interface RfcSection {
  readonly title: string;
  /** The section's own text up to its first subsection (or the next section), paragraphs as in the RFC. */
  readonly text: string;
}

const HEADING = /^((?:\d+|[A-Z])(?:\.\d+)*)\.\s{2}(\S.*)$/;
const PAGE_BREAK = /^Saint-Andre\s+Standards Track\s+\[Page \d+\]$|^\f?RFC 6120\s+XMPP Core\s+March 2011$|^\f$/;

/** Every numbered section of the RFC body (the table of contents is skipped: it ends before §1's heading). */
export function parseRfc(text: string): Map<string, RfcSection> {
  const lines = text.split('\n').filter((l) => !PAGE_BREAK.test(l));
  const start = lines.findIndex((l, i) => l === '1.  Introduction' && i > lines.indexOf('Table of Contents') + 5);
  const out = new Map<string, RfcSection>();
  let current: { number: string; title: string; body: string[] } | undefined;
  const flush = (): void => {
    if (current) out.set(current.number, { title: current.title, text: tidy(current.body) });
  };
  for (const line of lines.slice(start)) {
    const m = HEADING.exec(line);
    if (m) {
      flush();
      current = { number: m[1]!, title: m[2]!.trim(), body: [] };
    } else current?.body.push(line);
  }
  flush();
  return out;
}

/** Unindent by the RFC's three spaces, collapse the blank lines a page break leaves behind. */
function tidy(body: readonly string[]): string {
  return body
    .map((l) => l.replace(/^ {3}/, '').trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The RFC 6120 sections cited by the machines' states and transitions, in section order. */
export function citedSections(machines: readonly AnyStateMachine[], rfcText: string): Record<string, RfcSection> {
  const all = parseRfc(rfcText);
  const cited = new Set<string>();
  for (const machine of machines) {
    const model = describeMachine(machine);
    for (const item of [...model.states, ...model.transitions]) for (const s of rfc6120Sections(item.rfc)) cited.add(s);
  }
  const out: Record<string, RfcSection> = {};
  for (const s of [...cited].sort(compareSections)) {
    const section = all.get(s);
    if (section) out[s] = section;
  }
  return out;
}
