/**
 * The simulator's virtual clock. It implements XState's `Clock` (so machine delays run
 * on it) and schedules link deliveries too, so one ordered timeline drives everything.
 * Ties are broken by scheduling order: a run is a pure function of its seed.
 * Timers sit in a binary heap ordered by (time, scheduling order); a cleared timer is
 * dropped lazily when it reaches the top.
 */
import type { Clock } from '../runtime/session/driver.js';

/** A scheduled callback; it is also the handle `setTimeout` returns, so clearing it is a flag, not a lookup. */
class Timer {
  /** Scheduled and neither run nor cleared yet. */
  live = true;

  constructor(
    /** Grows with scheduling order, so (at, seq) orders ties by scheduling order. */
    readonly seq: number,
    readonly at: number,
    readonly fn: () => void,
  ) {}
}

export class VirtualClock implements Clock {
  private time = 0;
  private nextSeq = 1;
  private readonly heap: Timer[] = [];
  private live = 0;

  now(): number {
    return this.time;
  }

  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown {
    const timer = new Timer(this.nextSeq++, this.time + Math.max(0, ms), fn);
    this.live++;
    this.push(timer);
    return timer;
  }

  clearTimeout(id: unknown): void {
    if (id instanceof Timer && id.live) {
      id.live = false;
      this.live--;
    }
  }

  /** Timers still pending (a finished run must leave none behind: no leaked timers). */
  get pending(): number {
    return this.live;
  }

  /** Run the earliest timer, advancing time to it. False when nothing is scheduled. */
  step(): boolean {
    const first = this.peek();
    if (!first) return false;
    this.pop();
    first.live = false;
    this.live--;
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
    const h = this.heap;
    while (h.length > 0 && !h[0]!.live) this.pop();
    return h[0];
  }

  private push(t: Timer): void {
    const h = this.heap;
    // Sift up: move parents down into the hole until `t` fits.
    let i = h.length;
    h.push(t);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!before(t, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = t;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    const n = h.length;
    if (n === 0) return;
    // Sift down: move the smaller child up into the hole until `last` fits.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r]!, h[l]!) ? r : l;
      const child = h[c]!;
      if (!before(child, last)) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
