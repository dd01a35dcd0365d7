/**
 * The initiating server's definition: every state and transition cites the documents it
 * implements (RFC 6120 sections that exist, XEP-0178 §3, XEP-0220 and XEP-0199 sections that
 * exist), its timers are the policy's, and it has no resource binding.
 */
import { describe, expect, it } from 'vitest';
import { describeMachine } from '../../../../machines/introspect/model.js';
import { MACHINES } from '../../../../machines/introspect/catalog.js';
import { citations } from '../../../../machines/introspect/sections.js';
import { streamErrorTriggers } from '../../../../machines/introspect/triggers.js';
import { initiatingServerMachine } from '../../../../machines/s2s/initiating/index.js';
import { expectCitationsExist, SECTIONS, spec } from '../spec-sections.js';

const model = describeMachine(initiatingServerMachine);

describe('initiating server: definition (RFC 6120 §4, XEP-0178 §3, XEP-0220 §2.1)', () => {
  it('XEP-0199 §4.3 is the server-to-server ping', () => {
    expect(spec('xep-0199.xml')).toMatch(/<section2 topic='Server-To-Server Pings' anchor='s2s'>/);
    expect(SECTIONS['XEP-0199']!.has('4.3')).toBe(true);
  });

  it('is documented: in the catalog as a server role', () => {
    expect(MACHINES.find((m) => m.name === 'initiating-server')).toMatchObject({ role: 'server', title: 'Initiating server (server-to-server), RFC 6120', exportName: 'initiatingServerMachine' });
  });

  it('every state carries meta.rfc and a summary', () => {
    for (const s of model.states) {
      expect(s.rfc, s.path).toBeDefined();
      expect(citations(s.rfc!).length, s.path).toBeGreaterThan(0);
      expect(s.summary, s.path).toBeTruthy();
    }
  });

  it('every transition (events, delays, eventless) cites only sections that exist', () => {
    expect(model.transitions.length).toBeGreaterThan(60);
    expectCitationsExist(model);
  });

  it('RFC 6120 §4.9.3.14, §4.9.3.1: policy-violation (TLS not offered) and bad-format (no stream id) each have a transition of their own', () => {
    const triggers = streamErrorTriggers(model);
    for (const c of ['policy-violation', 'bad-format', 'connection-timeout', 'invalid-from'] as const) {
      expect(triggers[c].length, c).toBeGreaterThan(0);
      expect(triggers[c].some((t) => t.generic), c).toBe(false);
    }
  });

  it('timers are XState delays named after input.timeouts (RFC 6120 §4.6, §4.4)', () => {
    const delays = new Set(model.transitions.filter((t) => t.event.startsWith('after ')).map((t) => t.event));
    expect(delays).toEqual(new Set(['after negotiationTimeout', 'after idleTimeout', 'after pingTimeout', 'after closeTimeout']));
  });

  it('RFC 6120 §7.1: no resource binding on a server stream; XEP-0220 §2.1.1: the dialback pair is an invoked child', () => {
    expect(model.states.some((s) => s.path.includes('resourceBinding'))).toBe(false);
    expect(model.transitions.some((t) => t.rfc!.includes('§7.'))).toBe(false);
    expect(model.states.find((s) => s.path === 'open.negotiating.dialback')?.invokes).toEqual(['pairDialback']);
  });
});
