/**
 * Every state and transition of the dialback machines cites XEP-0220 by section, and every
 * section cited exists: numbered as the XEP renders them, from the <section1>/<section2>/
 * <section3> order of spec/xep-0220.xml (commented-out sections do not count).
 */
import { describe, expect, it } from 'vitest';
import { originatingDialback } from '../../../machines/dialback/originating.js';
import { receivingDialback } from '../../../machines/dialback/receiving.js';
import { describeMachine } from '../../../machines/introspect/model.js';
import { citations } from '../../../machines/introspect/sections.js';
import { XEP_TEXT } from './xep.js';

/** '2.1.1' → 'Initiating Server Generates ...', in document order. */
function xepSections(): Map<string, string> {
  const body = XEP_TEXT.replace(/<!--[\s\S]*?-->/g, '');
  const counters = [0, 0, 0, 0];
  const out = new Map<string, string>();
  for (const m of body.matchAll(/<section([123])\s+topic=(["'])(.*?)\2/g)) {
    const level = Number(m[1]);
    counters[level - 1]! += 1;
    for (let i = level; i < counters.length; i++) counters[i] = 0;
    out.set(counters.slice(0, level).join('.'), m[3]!);
  }
  return out;
}

const MACHINES = { originatingDialback, receivingDialback };

describe('dialback machines cite XEP-0220 (every transition, every state)', () => {
  const sections = xepSections();

  it('XEP-0220 §2: the section numbers are the ones the XEP cites itself', () => {
    expect(sections.get('2.1.1')).toMatch(/^Initiating Server Generates Outbound Request/);
    expect(sections.get('2.2.2')).toMatch(/^Authoritative Server Handles Inbound Verification/);
    expect(sections.get('2.4.2')).toBe('Dialback with Error Handling'); // "explained further under Section 2.4.2"
    expect(sections.get('2.5')).toBe('Dialback Error Conditions'); // "as described under Section 2.5"
    expect(sections.get('2.6')).toBe('Multiplexing');
    expect(sections.get('3.1')).toBe('Unsolicited Dialback'); // "(see Section 3.1)"
  });

  for (const [name, machine] of Object.entries(MACHINES)) {
    it(`XEP-0220 §2: ${name}: every transition has meta.rfc citing only existing XEP-0220 sections`, () => {
      const model = describeMachine(machine);
      expect(model.transitions.length).toBeGreaterThan(5);
      for (const t of model.transitions) {
        const where = `${name} ${t.source} --${t.event}-->`;
        expect(t.rfc, where).toMatch(/^XEP-0220 §/);
        const cited = citations(t.rfc!);
        expect(cited.length, where).toBeGreaterThan(0);
        for (const c of cited) {
          expect(c.doc, where).toBe('XEP-0220');
          expect(sections.has(c.section), `${where} cites §${c.section}`).toBe(true);
        }
      }
    });

    it(`XEP-0220 §2: ${name}: every state has meta.rfc and a summary`, () => {
      const model = describeMachine(machine);
      expect(model.rfc).toMatch(/^XEP-0220 §/);
      for (const s of model.states) {
        expect(s.rfc, s.path).toMatch(/^XEP-0220 §/);
        expect(s.summary, s.path).toBeTruthy();
        for (const c of citations(s.rfc!)) expect(sections.has(c.section), `${s.path} cites §${c.section}`).toBe(true);
      }
    });
  }
});
