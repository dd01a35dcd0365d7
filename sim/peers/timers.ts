/**
 * A client peer's pending timers on the world's virtual clock: each fires once, and all that
 * are still pending are cancelled together when the peer's session ends.
 */
import type { VirtualClock } from '../clock.js';

export class PeerTimers {
  /** Every timer set since the last `clear` (one per script step); clearing one that already ran does nothing. */
  private timers: unknown[] = [];

  constructor(private readonly clock: VirtualClock) {}

  /** Run `fn` once after `ms` of virtual time. */
  after(ms: number, fn: () => void): void {
    this.timers.push(this.clock.setTimeout(fn, ms));
  }

  /** Cancel every timer still pending. */
  clear(): void {
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers = [];
  }
}
