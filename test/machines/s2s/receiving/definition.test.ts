/**
 * The receiving server's definition: every state and transition cites the documents it
 * implements (RFC 6120 sections that exist, XEP-0178 §3, XEP-0220 sections that exist), the
 * s2s stream errors are reached by transitions of their own, and the context stays bounded.
 */
import { describe, expect, it } from 'vitest';
import { describeMachine } from '../../../../machines/introspect/model.js';
import { streamErrorTriggers } from '../../../../machines/introspect/triggers.js';
import { receivingServerMachine } from '../../../../machines/s2s/receiving/index.js';
import { expectCitationsExist, SECTIONS, spec } from '../spec-sections.js';

const model = describeMachine(receivingServerMachine);

describe('receiving server: definition (RFC 6120 §4, XEP-0178 §3, XEP-0220 §2)', () => {
  it('XEP-0178 §3 is the server-to-server recommendation', () => {
    expect(spec('xep-0178.xml')).toMatch(/<section1 topic='Server-to-Server Recommendation' anchor='s2s'>/);
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
    expectCitationsExist(model);
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
