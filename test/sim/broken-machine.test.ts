import { describe, expect, it } from 'vitest';
import { DEFAULT_RUNS, simulate } from '../../sim/runner.js';
import { clientIgnoresTlsRequirement, faithfulCopy, noCloseTagAfterStreamError, routesBeforeBind } from './broken-machines.js';

describe('the simulator catches deliberately broken receiving-entity machines within its default run count', () => {
  it('a machine that skips the closing tag after a stream error violates §4.9.1.1', () => {
    const s = simulate({ runs: DEFAULT_RUNS, seed: 1, serverMachine: noCloseTagAfterStreamError });
    expect(s.failure, 'no failure found').toBeDefined();
    expect(s.failure!.violations.map((v) => v.invariant)).toContain('stream-error-then-close');
    // Shrunk to a single client.
    expect(s.failure!.scenario.clients.length).toBe(1);
    expect(s.failure!.trace.segments.some((x) => x.text.startsWith('<stream:error'))).toBe(true);
  });

  it('a machine that routes a stanza received before authentication and binding violates §4.3.5 / §7.1', () => {
    const s = simulate({ runs: DEFAULT_RUNS, seed: 1, serverMachine: routesBeforeBind });
    expect(s.failure, 'no failure found').toBeDefined();
    expect(s.failure!.violations.map((v) => v.invariant)).toContain('no-stanza-before-bind');
    expect(s.failure!.scenario.clients.some((c) => c.misbehave?.what === 'stanza-before-auth')).toBe(true);
  });

  it('the same replacement action without the bugs passes the same runs (the detection is not an artefact of provide)', () => {
    const s = simulate({ runs: DEFAULT_RUNS, seed: 1, serverMachine: faithfulCopy });
    expect(s.failure?.violations).toBeUndefined();
    expect(s.completed).toBe(DEFAULT_RUNS);
  });

  it('a client machine that authenticates without the TLS it requires violates §5.3.1 / §13.9.4 (against a server that omits STARTTLS)', () => {
    const s = simulate({ runs: DEFAULT_RUNS, seed: 1, family: 'servers', clientMachine: clientIgnoresTlsRequirement });
    expect(s.failure, 'no failure found').toBeDefined();
    expect(s.failure!.violations.map((v) => v.invariant)).toContain('no-credentials-in-clear');
    const plan = s.failure!.scenario.clients[0]!;
    expect(plan.kind === 'machine' && plan.server).toBe('no-starttls');
    expect(s.failure!.trace.segments.some((x) => x.from === 'client' && !x.encrypted && x.text.startsWith('<auth'))).toBe(true);
  });
});
