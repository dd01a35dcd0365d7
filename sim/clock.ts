/**
 * The simulator's virtual clock. It implements XState's `Clock` (so machine delays run
 * on it) and schedules link deliveries too, so one ordered timeline drives everything.
 * Ties are broken by scheduling order: a run is a pure function of its seed.
 */
import type { Clock } from '../runtime/session/driver.js';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

export class VirtualClock implements Clock {
  private time = 0;
  private seq = 0;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: (...args: unknown[]) => void, ms: number): number {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.time + Math.max(0, ms), seq: this.seq++, fn });
    return id;
  }

  clearTimeout(id: unknown): void {
    this.timers.delete(id as number);
  }

  /** Timers still pending (a finished run must leave none behind: no leaked timers). */
  get pending(): number {
    return this.timers.size;
  }

  /** Run the earliest timer, advancing time to it. False when nothing is scheduled. */
  step(): boolean {
    let first: Timer | undefined;
    for (const t of this.timers.values()) {
      if (!first || t.at < first.at || (t.at === first.at && t.seq < first.seq)) first = t;
    }
    if (!first) return false;
    this.timers.delete(first.id);
    this.time = first.at;
    first.fn();
    return true;
  }

  /** Run timers until none is left or the next one lies beyond `until`; returns the steps taken. */
  run(until = Number.POSITIVE_INFINITY, maxSteps = 1_000_000): number {
    let steps = 0;
    while (steps < maxSteps) {
      const next = this.nextAt();
      if (next === undefined || next > until) break;
      this.step();
      steps++;
    }
    if (until !== Number.POSITIVE_INFINITY && this.time < until && (this.nextAt() ?? Infinity) > until) this.time = until;
    return steps;
  }

  nextAt(): number | undefined {
    let at: number | undefined;
    for (const t of this.timers.values()) if (at === undefined || t.at < at) at = t.at;
    return at;
  }
}
