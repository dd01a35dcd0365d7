/**
 * Section citations in meta, test titles and comments: '6120 §4.4', 'RFC 6120 §6.4.5, §6.5',
 * 'XEP-0199 §4.2', or a bare '§7.6'. A bare § belongs to the document named last before it
 * in the same text, RFC 6120 when none is named (this project's default document).
 */

export interface Citation {
  /** 'RFC 6120', 'RFC 5802', 'XEP-0199'. */
  readonly doc: string;
  /** '4.9.3.4', or an appendix: 'A.2.1' (RFC 6121 §A.2.1). */
  readonly section: string;
}

export const RFC6120 = 'RFC 6120';

const CITATION = /(?:\b(RFC\s*|XEP-)?(\d{4})\s*)?§\s*((?:\d+|[A-Z]\b)(?:\.\d+)*)/g;

export function citations(text: string): Citation[] {
  const out: Citation[] = [];
  let doc = RFC6120;
  for (const m of text.matchAll(CITATION)) {
    const [, prefix, number, section] = m;
    if (number !== undefined) doc = prefix?.startsWith('XEP') ? `XEP-${number}` : `RFC ${number}`;
    if (section !== undefined) out.push({ doc, section });
  }
  return out;
}

/** The RFC 6120 sections a text cites. */
export function rfc6120Sections(text: string | undefined): string[] {
  if (text === undefined) return [];
  return citations(text)
    .filter((c) => c.doc === RFC6120)
    .map((c) => c.section);
}

/** True when `cited` is `section` or one of its subsections (§6.4.5 is within §6, §6.4, §6.4.5). */
export function within(cited: string, section: string): boolean {
  return cited === section || cited.startsWith(`${section}.`);
}

/** Numeric section order: 4.9 < 4.10. */
export function compareSections(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}
