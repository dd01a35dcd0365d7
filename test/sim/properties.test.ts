/**
 * The simulator's invariants over thousands of generated sessions (RFC 6120 §4.3.5, §4.4,
 * §4.6, §4.9, §5.3.1, §8.2.3, §8.3.1, §10.1, §10.5, §11): each family of scenarios with its
 * own fixed seed, so CI is reproducible and a failure prints a replayable counterexample.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../sim/arbitraries.js';
import { formatSummary, simulate } from '../../sim/runner.js';

const RUNS: Record<(typeof SCENARIOS)[number], number> = { mixed: 300, conformant: 200, misbehaving: 300, silent: 250, faults: 250, servers: 200 };

describe('simulated sessions against the real receiving entity', () => {
  for (const family of SCENARIOS) {
    it(`${family}: every invariant holds on ${RUNS[family]} generated runs`, () => {
      const s = simulate({ runs: RUNS[family], seed: 20261125, family });
      expect(s.failure, s.failure ? formatSummary(s) : '').toBeUndefined();
      expect(s.completed).toBe(RUNS[family]);
      expect(s.sessions + s.clientSessions).toBeGreaterThanOrEqual(RUNS[family]);
      // Every run evaluated the universal invariants.
      expect(s.checks['bounded-session']).toBeGreaterThan(s.completed);
      expect(s.checks['no-stanza-before-bind']).toBe(s.sessions);
      if (family === 'conformant') {
        expect(s.checks['delivered-once-in-order']).toBeGreaterThan(0);
        expect(s.checks['iq-answered-once']).toBeGreaterThan(0);
        expect(s.checks['absent-identical']).toBeGreaterThan(0);
        expect(s.checks['error-never-answered']).toBeGreaterThan(0);
        expect(s.outcomes['closed']).toBeGreaterThan(0);
      }
      if (family === 'misbehaving') expect(s.checks['bad-input-stream-error']).toBeGreaterThan(0);
      if (family === 'silent') expect(s.outcomes['timeout connection-timeout']).toBeGreaterThan(0);
      if (family === 'servers') {
        expect(s.checks['server-proof-verified']).toBeGreaterThan(0);
        expect(s.checks['no-credentials-in-clear']).toBeGreaterThanOrEqual(RUNS.servers);
        expect(s.clientCoverage.summary().states[0]).toBeGreaterThan(10);
      }
    });
  }

  it('the mixed runs visit every state of the receiving entity', () => {
    const s = simulate({ runs: 200, seed: 7 });
    const cov = s.coverage.summary();
    expect(cov.missedStates).toEqual([]);
    expect(cov.transitions[0] / cov.transitions[1]).toBeGreaterThan(0.5);
  });
});
