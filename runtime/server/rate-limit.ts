/**
 * Per-connection read shaping: a token bucket over received bytes.
 *
 * Choice: a peer that sends faster than the limit is slowed down, not disconnected. Its
 * socket stops being read until the bucket refills, so TCP flow control pushes back on the
 * sender (what deployed servers call traffic shaping). Bytes that arrive over the budget are
 * held back until the bucket refills, so shaping delays processing, not only reading. RFC 6120 does not define a rate
 * error for streams; `<policy-violation/>` (§4.9.3.14) is kept for limits that a peer
 * breaks in one go, like the stanza size. A slowed peer loses nothing (PREAMBLE rule).
 */
export interface TokenBucketOptions {
  /** Sustained rate, bytes per second. */
  readonly bytesPerSecond: number;
  /** Burst: bytes that may arrive at once after a quiet period. */
  readonly burstBytes: number;
  readonly now?: () => number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly now: () => number;

  constructor(private readonly opts: TokenBucketOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.tokens = opts.burstBytes;
    this.last = this.now();
  }

  /**
   * Take `n` bytes that arrived (they are never refused, only held back). Returns how many
   * milliseconds they must wait so that the average stays at the rate; 0 when the bucket
   * still had enough.
   */
  take(n: number): number {
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.opts.bytesPerSecond) * 1000);
  }

  /** Milliseconds until the bucket is out of debt (0 when it is not in debt). */
  wait(): number {
    this.refill();
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.opts.bytesPerSecond) * 1000);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.opts.burstBytes, this.tokens + ((t - this.last) / 1000) * this.opts.bytesPerSecond);
    this.last = t;
  }
}
