/**
 * Where a simulated session's CPU time goes, for `npm run bench:sim`: one session is
 * recorded, then its server machine and its two XML parsers are replayed alone.
 *
 * - The receiving-entity machine gets exactly the events it got in the session, and the
 *   same random bytes (stream ids, SCRAM nonce), so the replay takes the same path; this
 *   is checked state by state, since a replay that drifted (a different nonce failing
 *   SCRAM, say) would be cheap and wrong.
 * - Per event type (`eventProfile`): how often the machine got it in the session, the
 *   microsteps XState took for it (each one a transition set, eventless ones included), how
 *   many of those were eventless (`always`), and its CPU time; what issue #12 asks to count
 *   before removing work the RFC does not need.
 * - Each parser gets the bytes that crossed the link towards it, reset where the session
 *   reset it: at the first encrypted segment (STARTTLS, RFC 6120 §5.4.3.3) and before each
 *   new stream header (§4.3.3).
 */
import { createActor, type AnyStateMachine } from 'xstate';
import { receivingEntityMachine, type ReceivingEntityMachine, type ReceivingEntityMachineInput } from '../machines/receiving/index.js';
import { StreamParser } from '../runtime/xml/parser.js';
import { VirtualClock } from '../sim/clock.js';
import { runScenario } from '../sim/run.js';
import type { Scenario } from '../sim/scenario.js';

interface Recording {
  readonly input: ReceivingEntityMachineInput;
  readonly random: Uint8Array[];
  readonly events: { readonly type: string }[];
  /** The machine's state value after each event, to check the replay against. */
  readonly values: string[];
  readonly segments: readonly { readonly from: 'a' | 'b'; readonly encrypted: boolean; readonly text: string }[];
}

/** Run `scenario` (one client) with a server machine that records what it is given. */
function record(scenario: Scenario): Recording {
  const machine = receivingEntityMachine as AnyStateMachine;
  const rec: { input?: ReceivingEntityMachineInput; random: Uint8Array[]; events: { type: string }[]; values: string[] } = { random: [], events: [], values: [] };
  const recorder: AnyStateMachine = Object.create(machine);
  recorder.getInitialSnapshot = (scope, input: ReceivingEntityMachineInput) => {
    rec.input = input;
    const random = (n: number) => {
      const bytes = input.random(n);
      rec.random.push(bytes);
      return bytes;
    };
    return machine.getInitialSnapshot(scope, { ...input, random });
  };
  recorder.transition = (snapshot, event, scope) => {
    const next = machine.transition(snapshot, event, scope);
    if (!event.type.startsWith('xstate.')) {
      rec.events.push(event);
      rec.values.push(JSON.stringify(next.value));
    }
    return next;
  };
  const result = runScenario(scenario, { serverMachine: recorder as ReceivingEntityMachine });
  if (rec.input === undefined) throw new Error('the scenario started no server session');
  return { input: rec.input, random: rec.random, events: rec.events, values: rec.values, segments: result.world.links[0]!.segments };
}

function replayMachine(r: Recording, check: boolean): void {
  let next = 0;
  const input = { ...r.input, random: (n: number) => r.random[next++] ?? new Uint8Array(n) };
  const actor = createActor(receivingEntityMachine, { input, clock: new VirtualClock() as never });
  actor.on('*', () => {});
  actor.start();
  r.events.forEach((event, i) => {
    actor.send(event as never);
    if (check && JSON.stringify(actor.getSnapshot().value) !== r.values[i]) {
      throw new Error(`replay drifted at event ${i} (${event.type}): ${JSON.stringify(actor.getSnapshot().value)} instead of ${r.values[i]}`);
    }
  });
}

function replayParsers(r: Recording): void {
  for (const side of ['a', 'b'] as const) {
    const parser = new StreamParser();
    let encrypted = false;
    let first = true;
    for (const s of r.segments) {
      if (s.from !== side) continue;
      const header = s.text.startsWith('<?xml') || s.text.startsWith('<stream:stream');
      if ((s.encrypted && !encrypted) || (header && !first)) parser.reset();
      encrypted = s.encrypted;
      first = false;
      parser.write(Buffer.from(s.text, 'utf8'));
    }
  }
}

/** CPU microseconds per call of `fn`, the best of five rounds (the least disturbed by the rest of the machine). */
function cpuMicros(fn: () => void, calls: number): number {
  for (let i = 0; i < calls; i++) fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < calls; i++) fn();
    const t = process.cpuUsage(t0);
    best = Math.min(best, (t.user + t.system) / calls);
  }
  return best;
}

/** One event type's share of the server machine's work in a session. */
export interface EventCost {
  readonly type: string;
  /** Events of this type in one session. */
  readonly count: number;
  /** XState microsteps per event (a transition set each), eventless ones included. */
  readonly microsteps: number;
  /** Of those, microsteps taken by eventless (`always`) transitions. */
  readonly eventless: number;
  /** CPU microseconds per event (wall time of send(), the best of the rounds). */
  readonly micros: number;
}

/** The session's events replayed `rounds` times, each send() timed and its microsteps counted. */
export function eventProfile(scenario: Scenario, rounds = 300): EventCost[] {
  const r = record(scenario);
  const best = new Map<string, number>();
  const steps = new Map<string, { count: number; microsteps: number; eventless: number }>();
  for (let round = 0; round < rounds; round++) {
    let next = 0;
    const input = { ...r.input, random: (n: number) => r.random[next++] ?? new Uint8Array(n) };
    let current: { microsteps: number; eventless: number } | undefined = round === 0 ? { microsteps: 0, eventless: 0 } : undefined;
    const started = process.hrtime.bigint();
    const actor = createActor(receivingEntityMachine, {
      input,
      clock: new VirtualClock() as never,
      ...(round === 0
        ? {
            inspect: (e: { type: string; _transitions?: readonly { eventType: string }[] }) => {
              if (e.type !== '@xstate.microstep' || current === undefined) return;
              current.microsteps++;
              if (e._transitions?.some((t) => t.eventType === '')) current.eventless++;
            },
          }
        : {}),
    });
    actor.on('*', () => {});
    actor.start();
    // createActor + start: the initial snapshot, entry actions and the first delays, as '(start)'.
    const spent = new Map<string, number>([['(start)', Number(process.hrtime.bigint() - started) / 1e3]]);
    if (round === 0 && current) steps.set('(start)', { count: 1, microsteps: current.microsteps, eventless: current.eventless });
    for (const event of r.events) {
      if (round === 0) current = { microsteps: 0, eventless: 0 };
      const t0 = process.hrtime.bigint();
      actor.send(event as never);
      const dt = Number(process.hrtime.bigint() - t0) / 1e3;
      spent.set(event.type, (spent.get(event.type) ?? 0) + dt);
      if (round === 0 && current) {
        const s = steps.get(event.type) ?? { count: 0, microsteps: 0, eventless: 0 };
        steps.set(event.type, { count: s.count + 1, microsteps: s.microsteps + current.microsteps, eventless: s.eventless + current.eventless });
      }
    }
    if (round >= 10) for (const [type, us] of spent) best.set(type, Math.min(best.get(type) ?? Infinity, us)); // the first rounds warm the JIT
  }
  return [...steps]
    .map(([type, s]) => ({ type, count: s.count, microsteps: s.microsteps / s.count, eventless: s.eventless / s.count, micros: (best.get(type) ?? 0) / s.count }))
    .sort((a, b) => b.micros * b.count - a.micros * a.count);
}

export interface Breakdown {
  /** The receiving-entity machine under XState, with its RFC rules and the server side of SCRAM. */
  readonly machine: number;
  /** Both StreamParsers (server and client side). */
  readonly parsers: number;
}

export function breakdown(scenario: Scenario, calls = 1_000): Breakdown {
  const r = record(scenario);
  replayMachine(r, true);
  return { machine: cpuMicros(() => replayMachine(r, false), calls), parsers: cpuMicros(() => replayParsers(r), calls) };
}
