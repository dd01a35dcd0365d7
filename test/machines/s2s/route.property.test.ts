/**
 * The outgoing route (machines/s2s/route) under random interleavings of the router's SENDs,
 * the runtime's reports (CONNECTED, AUTHENTICATED, FAILED, ENDED, in any order, also when
 * they make no sense) and the passing of time, on a simulated clock. After the run the route
 * is stopped (and its stream ended), so that every stanza has met its fate.
 *
 * The runtime's view is kept here, apart from the machine: an attempt begins with `connect`,
 * is connected by CONNECTED, authenticated by AUTHENTICATED after that, and over with FAILED
 * (before authentication), ENDED or `abort`; `closeStream` means nothing more may be written.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { RouteCommand, RouteEvent } from '../../../machines/s2s/route/index.js';
import { attr } from '../../../machines/xml.js';
import { message, route } from './route-harness.js';

type Step =
  | { readonly kind: 'send' }
  /** What a working runtime reports next: CONNECTED, AUTHENTICATED, or ENDED after our closing tag. */
  | { readonly kind: 'progress' }
  | { readonly kind: 'event'; readonly event: Exclude<RouteEvent, { type: 'SEND' | 'STOP' }> }
  | { readonly kind: 'advance'; readonly ms: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'send' } as const) },
  { weight: 3, arbitrary: fc.constant({ kind: 'progress' } as const) },
  {
    weight: 4,
    arbitrary: fc.constantFrom<Step>(
      { kind: 'event', event: { type: 'CONNECTED' } },
      { kind: 'event', event: { type: 'AUTHENTICATED' } },
      { kind: 'event', event: { type: 'FAILED', condition: 'remote-server-not-found', reason: 'NXDOMAIN' } },
      { kind: 'event', event: { type: 'FAILED', condition: 'remote-server-timeout', reason: 'ECONNREFUSED' } },
      { kind: 'event', event: { type: 'ENDED' } },
      { kind: 'event', event: { type: 'ENDED', reason: 'ECONNRESET' } },
    ),
  },
  // Around the test policy's timers: connect 1000, idleClose 5000, back-off 100..1600.
  { weight: 3, arbitrary: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.constantFrom(999, 1000, 1600, 4999, 5000)).map((ms) => ({ kind: 'advance', ms }) as const) },
);

/** A deterministic uniform source in [0, 1) (a small LCG) for the back-off. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

type Phase = 'none' | 'resolving' | 'negotiating' | 'authenticated' | 'closed';

/** One run: the router's and the runtime's steps, then STOP; checks the route's guarantees as it goes. */
interface Scenario {
  readonly steps: readonly Step[];
  /** Steps after STOP, until the route is done. */
  readonly afterStop: readonly Step[];
  /** Let an authenticated stream go idle just before STOP, so that STOP meets a closing one. */
  readonly idleBeforeStop: boolean;
  readonly maxQueued: number;
  readonly seed: number;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  steps: fc.array(stepArb, { maxLength: 80, size: 'max' }),
  afterStop: fc.array(stepArb, { maxLength: 6 }),
  idleBeforeStop: fc.boolean(),
  maxQueued: fc.integer({ min: 1, max: 4 }),
  seed: fc.nat(),
});

/** Plays `sc`, checking every guarantee; adds the (state, event) pairs it took to `reached`. */
function play({ steps, afterStop, idleBeforeStop, maxQueued, seed }: Scenario, reached: Set<string>): void {
  const r = route({ maxQueued, random: lcg(seed) });
  const fate = new Map<string, string[]>(); // stanza id → its writes and bounces
  const written: number[] = [];
  let sent = 0;
  let phase: Phase = 'none';
  let notBefore = 0; // no connect before this time (the back-off)

  const perform = (cmds: RouteCommand[], sentNow?: { id: string; queueWasFull: boolean }) => {
    for (const c of cmds) {
      switch (c.type) {
        case 'connect':
          expect(phase, 'one attempt or stream at a time (§10.1 item 3)').toBe('none');
          expect(r.clock.now(), 'no attempt before the back-off is over (§3.3)').toBeGreaterThanOrEqual(notBefore);
          phase = 'resolving';
          break;
        case 'abort':
          expect(['resolving', 'negotiating']).toContain(phase);
          phase = 'none';
          break;
        case 'closeStream':
          expect(phase).toBe('authenticated');
          phase = 'closed';
          break;
        case 'write': {
          expect(phase, 'written only on an authenticated stream, never after our closing tag (§4.3.5, §4.4)').toBe('authenticated');
          const id = attr(c.stanza, 'id')!;
          fate.get(id)!.push('write');
          written.push(Number(id.slice(1)));
          break;
        }
        case 'bounce': {
          const id = attr(c.stanza, 'id')!;
          fate.get(id)!.push(`bounce:${c.condition}`);
          if (c.condition === 'resource-constraint') expect(sentNow, '<resource-constraint/> only for the stanza that found the queue full').toEqual({ id, queueWasFull: true });
          break;
        }
        case 'backingOff':
          expect(c.delayMs).toBeGreaterThanOrEqual(100);
          notBefore = r.clock.now() + c.delayMs;
          break;
        case 'stopped':
          break;
      }
    }
  };

  const apply = (s: Step): void => {
    const before = r.state;
    if (s.kind === 'send') {
      reached.add(`${before} SEND`);
      const id = `m${++sent}`;
      fate.set(id, []);
      const queueWasFull = r.queued >= maxQueued;
      perform(r.step({ type: 'SEND', stanza: message(sent) }), { id, queueWasFull });
    } else if (s.kind === 'advance') {
      perform(r.advance(s.ms));
      if (r.state !== before) reached.add(`${before} after`);
    } else {
      const e: Exclude<RouteEvent, { type: 'SEND' | 'STOP' }> | undefined =
        s.kind === 'event' ? s.event : phase === 'resolving' ? { type: 'CONNECTED' } : phase === 'negotiating' ? { type: 'AUTHENTICATED' } : phase === 'closed' ? { type: 'ENDED' } : undefined;
      if (e === undefined) return;
      reached.add(`${before} ${e.type}`);
      // The runtime's view first: what the event means for the attempt it runs.
      if (e.type === 'CONNECTED' && phase === 'resolving') phase = 'negotiating';
      else if (e.type === 'AUTHENTICATED' && phase === 'negotiating') phase = 'authenticated';
      else if (e.type === 'FAILED' && (phase === 'resolving' || phase === 'negotiating')) phase = 'none';
      else if (e.type === 'ENDED') phase = 'none';
      perform(r.step(e));
    }
    expect(r.queued).toBeLessThanOrEqual(maxQueued);
  };

  for (const s of steps) apply(s);
  // Half the runs let an authenticated stream go idle first, so that STOP meets a closing one.
  if (idleBeforeStop) apply({ kind: 'advance', ms: 5000 });
  // Shutdown settles everything still waiting (§4.4); what the router and the runtime do
  // meanwhile still gets an answer, until the route is done.
  reached.add(`${r.state} STOP`);
  perform(r.step({ type: 'STOP' }));
  for (const s of afterStop) {
    if (r.actor.getSnapshot().status === 'done') break;
    apply(s);
  }
  // A stream being closed ends.
  if (r.state === 'stopping') {
    phase = 'none';
    perform(r.step({ type: 'ENDED' }));
  }
  expect(r.actor.getSnapshot().status).toBe('done');
  expect(r.queued).toBe(0);

  for (const [id, outcomes] of fate) expect(outcomes, `${id}: exactly one write or one bounce`).toHaveLength(1);
  expect(written, 'written in the order handed over (§10.1)').toEqual([...written].sort((a, b) => a - b));
  expect(r.all.filter((c) => c.type === 'write' || c.type === 'bounce')).toHaveLength(sent);
}

describe('the outgoing route under random interleavings (6120 §10.4)', () => {
  test.prop([scenarioArb], { numRuns: 250 })(
    '6120 §10.4.3, §10.1, §4.3.5: every SEND ends in exactly one write or one bounce, writes keep their order, none before authentication',
    (sc) => play(sc, new Set()),
  );

  it('6120 §10.4: the generator reaches every state with the events that matter there (250 runs of a fixed seed)', () => {
    // A fixed sample, so that what the random runs can reach is checked without depending on luck.
    const reached = new Set<string>();
    for (const sc of fc.sample(scenarioArb, { numRuns: 250, seed: 104 })) play(sc, reached);
    const wanted = [
      'idle SEND', 'idle STOP',
      'connecting.resolving SEND', 'connecting.resolving CONNECTED', 'connecting.resolving FAILED', 'connecting.resolving ENDED', 'connecting.resolving after', 'connecting.resolving STOP',
      'connecting.negotiating SEND', 'connecting.negotiating AUTHENTICATED', 'connecting.negotiating FAILED', 'connecting.negotiating ENDED', 'connecting.negotiating after', 'connecting.negotiating STOP',
      'authenticated SEND', 'authenticated ENDED', 'authenticated after', 'authenticated STOP',
      'closing SEND', 'closing ENDED', 'closing STOP',
      'waiting SEND', 'waiting after', 'waiting STOP',
      'stopping SEND', 'stopping ENDED',
    ];
    expect(wanted.filter((w) => !reached.has(w))).toEqual([]);
  });
});
