/**
 * A client peer's pending timers on the world's virtual clock: each fires once, and all that
 * are still pending are cancelled together when the peer's session ends.
 */
import type { VirtualClock } from '../clock.js';

export class PeerTimers {
  private readonly pending = new Set<number>();

  constructor(private readonly clock: VirtualClock) {}

  /** Run `fn` once after `ms` of virtual time. */
  after(ms: number, fn: () => void): void {
    const id = this.clock.setTimeout(() => {
      this.pending.delete(id);
      fn();
    }, ms);
    this.pending.add(id);
  }

  /** Cancel every timer still pending. */
  clear(): void {
    for (const id of this.pending) this.clock.clearTimeout(id);
    this.pending.clear();
  }
}
