/**
 * The receiving server's definition: every state and transition cites the documents it
 * implements (RFC 6120 sections that exist, XEP-0178 §3, XEP-0220 sections that exist), the
 * s2s stream errors are reached by transitions of their own, and the context stays bounded.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeMachine } from '../../../../machines/introspect/model.js';
import { citations } from '../../../../machines/introspect/sections.js';
import { streamErrorTriggers } from '../../../../machines/introspect/triggers.js';
import { receivingServerMachine } from '../../../../machines/s2s/receiving/index.js';
import { XEP_TEXT } from '../../dialback/xep.js';

const model = describeMachine(receivingServerMachine);
const RFC = readFileSync(new URL('../../../../spec/rfc6120.txt', import.meta.url), 'utf8');
const rfcSections = new Set([...RFC.matchAll(/^(\d+(?:\.\d+)*)\.\s{2}\S/gm)].map((m) => m[1]!));
/** XEP sections as the XEP renders them, from the <sectionN topic=...> order (comments dropped). */
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
const SECTIONS: Record<string, Set<string>> = {
  'RFC 6120': rfcSections,
  'XEP-0220': xepSections(XEP_TEXT),
  'XEP-0178': xepSections(readFileSync(new URL('../../../../spec/xep-0178.xml', import.meta.url), 'utf8')),
  'XEP-0199': new Set(['4.3']),
};

describe('receiving server: definition (RFC 6120 §4, XEP-0178 §3, XEP-0220 §2)', () => {
  it('XEP-0178 §3 is the server-to-server recommendation', () => {
    expect(readFileSync(new URL('../../../../spec/xep-0178.xml', import.meta.url), 'utf8')).toMatch(/<section1 topic='Server-to-Server Recommendation' anchor='s2s'>/);
    expect(SECTIONS['XEP-0178']!.has('3')).toBe(true);
  });

  it('every state carries meta.rfc and a summary', () => {
    for (const s of model.states) {
      expect(s.rfc, s.path).toMatch(/^6120 §\d/);
      expect(s.summary, s.path).toBeTruthy();
    }
  });

  it('every transition (events, delays, eventless) cites only sections that exist', () => {
    expect(model.transitions.length).toBeGreaterThan(60);
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
  });

  it('RFC 6120 §4.9.3.6, §4.9.3.7, §4.9.3.9, §4.9.3.12: the server-to-server stream errors each have a transition of their own', () => {
    const triggers = streamErrorTriggers(model);
    for (const c of ['host-unknown', 'improper-addressing', 'invalid-from', 'not-authorized'] as const) {
      expect(triggers[c].length, c).toBeGreaterThan(0);
      expect(triggers[c].some((t) => t.generic), c).toBe(false);
    }
    expect(triggers['improper-addressing'].map((t) => t.guard)).toEqual(['isStanza && improperAddressing']);
  });

  it('timers are XState delays named after input.timeouts (RFC 6120 §4.6, §4.4)', () => {
    const delays = new Set(model.transitions.filter((t) => t.event.startsWith('after ')).map((t) => t.event));
    expect(delays).toEqual(new Set(['after negotiationTimeout', 'after idleTimeout', 'after pingTimeout', 'after closeTimeout']));
  });

  it('RFC 6120 §7.1: no resource binding on a server stream', () => {
    expect(model.states.some((s) => s.path.includes('resourceBinding'))).toBe(false);
    expect(model.transitions.some((t) => t.rfc!.includes('§7.'))).toBe(false);
  });
});
