/**
 * One playground run: the simulator's world (virtual clock, in-memory link, the server host
 * with the receiving-entity machine, the initiating-entity machine as the client) advanced
 * one clock step at a time, with every machine transition of each step recorded. Undo is a
 * fresh run of the same scenario and faults to the step before: runs are deterministic.
 */
import type { AnyActorRef } from 'xstate';
import { initiatingEntityMachine } from '../machines/initiating/index.js';
import { receivingEntityMachine } from '../machines/receiving/index.js';
import type { TransitionTrace } from '../runtime/session/driver.js';
import { Coverage } from '../sim/coverage.js';
import type { Scenario } from '../sim/scenario.js';
import { buildWorld, type World } from '../sim/world.js';
import type { AnyStateMachine } from 'xstate';
import { GARBAGE_BYTES, inject, type FaultKind } from './faults.js';
import type { Injection } from './choices.js';

export type Side = 'client' | 'server';

export interface TakenTransition {
  readonly side: Side;
  readonly trace: TransitionTrace;
}

/** What one clock step did. */
export interface Step {
  /** 1-based: step n leaves the world as `run.steps[n - 1]` describes. */
  readonly n: number;
  readonly at: number;
  readonly transitions: readonly TakenTransition[];
  /** Link segments written during the step: indexes into `world.links[0].segments`. */
  readonly segments: readonly number[];
  readonly faults: readonly FaultKind[];
}

/** A machine timer (XState `after`) still pending, with the virtual time it fires at. */
export interface PendingTimer {
  readonly side: Side;
  readonly event: string;
  readonly at: number;
}

/** Records each transition as the simulator's coverage sees it, for the step being taken. */
class TransitionLog extends Coverage {
  constructor(
    machine: AnyStateMachine,
    private readonly onTransition: (t: TransitionTrace) => void,
  ) {
    super(machine);
  }

  override record(t: TransitionTrace): void {
    super.record(t);
    this.onTransition(t);
  }
}

export class PlaygroundRun {
  readonly world: World;
  readonly steps: Step[] = [];
  /** Segments written by an injected fault (they come from the client's end, not its machine). */
  readonly injected = new Set<number>();
  /** Segments whose bytes are not the UTF-8 of their text (injected garbage). */
  readonly rawBytes = new Map<number, Uint8Array>();
  private current: TakenTransition[] = [];
  private readonly dueAt = new Map<string, PendingTimer>();

  constructor(
    readonly scenario: Scenario,
    readonly injections: readonly Injection[] = [],
  ) {
    this.world = buildWorld(scenario, {
      serverCoverage: new TransitionLog(receivingEntityMachine, (trace) => this.current.push({ side: 'server', trace })),
      clientCoverage: new TransitionLog(initiatingEntityMachine, (trace) => this.current.push({ side: 'client', trace })),
    });
  }

  /** Virtual milliseconds since the client connected. */
  get now(): number {
    return this.world.clock.now();
  }

  /** Nothing left to run: no timer and no byte in flight. */
  get finished(): boolean {
    return this.world.clock.nextAt() === undefined;
  }

  clientActor(): AnyActorRef | undefined {
    const c = this.world.clients[0] as { driver?: { actor: AnyActorRef } } | undefined;
    return c?.driver?.actor;
  }

  serverActor(): AnyActorRef | undefined {
    return this.world.serverOf[0]?.driver.actor;
  }

  /** One clock step (a delivery or a timer), with the faults injected before it. False when nothing is left. */
  step(): boolean {
    const n = this.steps.length + 1;
    const segments = this.world.links[0]!.segments;
    const before = segments.length;
    const faults = this.injections.filter((i) => i.step === n).map((i) => i.fault);
    this.current = [];
    for (const f of faults) {
      const first = segments.length;
      inject(this.world, f);
      if (f === 'garbage' && segments.length > first) this.rawBytes.set(first, GARBAGE_BYTES);
    }
    for (let i = before; i < segments.length; i++) this.injected.add(i);
    if (!this.world.clock.step() && faults.length === 0) return false;
    this.world.steps++;
    this.steps.push({
      n,
      at: this.now,
      transitions: this.current,
      segments: Array.from({ length: segments.length - before }, (_, i) => before + i),
      faults,
    });
    this.observeTimers();
    return true;
  }

  /** Step until a machine enters another state (or nothing is left); the steps taken. */
  toNextState(max = 10_000): number {
    let taken = 0;
    while (taken < max && this.step()) {
      taken++;
      if (this.steps.at(-1)!.transitions.some((t) => t.trace.targets.length > 0)) break;
    }
    return taken;
  }

  toEnd(max = 100_000): number {
    let taken = 0;
    while (taken < max && this.step()) taken++;
    return taken;
  }

  /** Step until `n` steps have been taken (replaying a shared or undone run). */
  toStep(n: number): void {
    while (this.steps.length < n && this.step());
  }

  /** Machine timers pending now, earliest first (byte deliveries and host replies are counted apart). */
  pendingTimers(): PendingTimer[] {
    return [...this.dueAt.values()].sort((a, b) => a.at - b.at || a.side.localeCompare(b.side));
  }

  /** Scheduled callbacks that are not machine timers: bytes in flight, host answers, the client's script. */
  otherScheduled(): number {
    return this.world.clock.pending - this.dueAt.size;
  }

  /**
   * XState keeps each actor's delayed events in its system's scheduler. Everything in one
   * clock step happens at one virtual instant, so an event first seen after this step was
   * scheduled now and fires `delay` ms from now.
   */
  private observeTimers(): void {
    const seen = new Set<string>();
    for (const [side, actor] of [['client', this.clientActor()], ['server', this.serverActor()]] as const) {
      if (!actor) continue;
      const scheduled = (actor.system as { getSnapshot(): { _scheduledEvents: Record<string, { event: { type: string }; delay: number }> } }).getSnapshot()._scheduledEvents;
      for (const [id, e] of Object.entries(scheduled)) {
        const key = `${side}:${id}`;
        seen.add(key);
        if (!this.dueAt.has(key)) this.dueAt.set(key, { side, event: e.event.type, at: this.now + e.delay });
      }
    }
    for (const key of [...this.dueAt.keys()]) if (!seen.has(key)) this.dueAt.delete(key);
  }
}

/** A fresh run of the same scenario and faults, advanced to step `n` (undo, shared links). */
export function replayTo(scenario: Scenario, injections: readonly Injection[], n: number): PlaygroundRun {
  const run = new PlaygroundRun(scenario, injections);
  run.toStep(n);
  return run;
}
