/**
 * The sections the server-to-server machines may cite, read from the texts in spec/: RFC 6120
 * headings, and XEP sections as the XEP renders them (the <sectionN topic=...> order, comments
 * dropped). `expectCitationsExist` checks that every transition of a machine cites some, and
 * only sections that exist.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { MachineModel } from '../../../machines/introspect/model.js';
import { citations } from '../../../machines/introspect/sections.js';
import { XEP_TEXT } from '../dialback/xep.js';

export const spec = (file: string): string => readFileSync(new URL(`../../../spec/${file}`, import.meta.url), 'utf8');

function xepSections(xml: string): Set<string> {
  const counters = [0, 0, 0, 0];
  const out = new Set<string>();
  for (const m of xml.replace(/<!--[\s\S]*?-->/g, '').matchAll(/<section([123])\s+topic=/g)) {
    const level = Number(m[1]);
    counters[level - 1]! += 1;
    for (let i = level; i < counters.length; i++) counters[i] = 0;
    out.add(counters.slice(0, level).join('.'));
  }
  return out;
}

export const SECTIONS: Record<string, Set<string>> = {
  'RFC 6120': new Set([...spec('rfc6120.txt').matchAll(/^(\d+(?:\.\d+)*)\.\s{2}\S/gm)].map((m) => m[1]!)),
  'XEP-0220': xepSections(XEP_TEXT),
  'XEP-0178': xepSections(spec('xep-0178.xml')),
  'XEP-0199': xepSections(spec('xep-0199.xml')),
};

export function expectCitationsExist(model: MachineModel): void {
  for (const t of model.transitions) {
    const where = `${t.source} --${t.event}-->`;
    expect(t.rfc, where).toBeDefined();
    const cited = citations(t.rfc!);
    expect(cited.length, where).toBeGreaterThan(0);
    for (const c of cited) {
      expect(Object.keys(SECTIONS), `${where} cites ${c.doc}`).toContain(c.doc);
      expect(SECTIONS[c.doc]!.has(c.section), `${where} cites ${c.doc} §${c.section}`).toBe(true);
    }
  }
}
