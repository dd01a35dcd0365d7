/**
 * The simulator's virtual clock. It implements XState's `Clock` (so machine delays run
 * on it) and schedules link deliveries too, so one ordered timeline drives everything.
 * Ties are broken by scheduling order: a run is a pure function of its seed.
 * Timers sit in a binary heap ordered by (time, scheduling order); a cleared timer is
 * dropped lazily when it reaches the top.
 */
import type { Clock } from '../runtime/session/driver.js';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

export class VirtualClock implements Clock {
  private time = 0;
  private nextId = 1;
  private readonly heap: Timer[] = [];
  private readonly live = new Set<number>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: (...args: unknown[]) => void, ms: number): number {
    const id = this.nextId++;
    this.live.add(id);
    this.push({ id, at: this.time + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(id: unknown): void {
    this.live.delete(id as number);
  }

  /** Timers still pending (a finished run must leave none behind: no leaked timers). */
  get pending(): number {
    return this.live.size;
  }

  /** Run the earliest timer, advancing time to it. False when nothing is scheduled. */
  step(): boolean {
    const first = this.peek();
    if (!first) return false;
    this.pop();
    this.live.delete(first.id);
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
    // Time moves to `until` only while something is still scheduled beyond it; an idle
    // world stops at its last event, so the end time of a run means something.
    const next = this.nextAt();
    if (until !== Number.POSITIVE_INFINITY && this.time < until && next !== undefined && next > until) this.time = until;
    return steps;
  }

  nextAt(): number | undefined {
    return this.peek()?.at;
  }

  /** The earliest live timer, discarding cleared ones on the way. */
  private peek(): Timer | undefined {
    while (this.heap.length > 0 && !this.live.has(this.heap[0]!.id)) this.pop();
    return this.heap[0];
  }

  // Ids grow with scheduling order, so (at, id) orders ties by scheduling order.
  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.id < b.id);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
