/**
 * Reconnection delays, RFC 6120 §3.3: the first attempt waits "an unpredictable number [of
 * seconds] between 0 and 60", and later attempts "back off increasingly ... (e.g., in accordance
 * with 'truncated binary exponential backoff' as described in [ETHERNET])".
 *
 * Choices where §3.3 leaves room:
 *  - attempt n (0-based) waits a uniformly random time in [min, min(max, initial · 2ⁿ)]:
 *    the window doubles each time (binary exponential) and stops growing at `max`
 *    (truncation); the whole window stays random so a crowd of clients never synchronizes;
 *  - defaults: min 0, initial 60 s (the RFC's figures), max 960 s = 60 s · 2⁴ (the window
 *    stops doubling after the fifth attempt: a client still retries at least every 16 minutes);
 *  - the attempt counter goes back to 0 once a stream gets online (a connection that worked
 *    was not part of the same outage).
 * Pure: time and randomness come in, so tests and the simulator can drive it.
 */

export interface BackoffOptions {
  /** Shortest delay in ms (default 0, §3.3 "between 0 and 60"). */
  readonly min?: number;
  /** Upper end of the first attempt's window in ms (default 60 000, §3.3). */
  readonly initial?: number;
  /** Largest window in ms: where the doubling is truncated (default 960 000). */
  readonly max?: number;
  /** Give up after this many consecutive failed attempts (default: never). */
  readonly maxAttempts?: number;
}

export type ResolvedBackoff = Required<BackoffOptions>;

export const DEFAULT_BACKOFF: ResolvedBackoff = { min: 0, initial: 60_000, max: 960_000, maxAttempts: Number.POSITIVE_INFINITY };

export function resolveBackoff(opts: BackoffOptions = {}): ResolvedBackoff {
  const r: ResolvedBackoff = {
    min: opts.min ?? DEFAULT_BACKOFF.min,
    initial: opts.initial ?? DEFAULT_BACKOFF.initial,
    max: opts.max ?? Math.max(DEFAULT_BACKOFF.max, opts.initial ?? 0),
    maxAttempts: opts.maxAttempts ?? DEFAULT_BACKOFF.maxAttempts,
  };
  if (!(r.min >= 0) || !(r.initial >= r.min) || !(r.max >= r.initial) || !(r.maxAttempts >= 1)) {
    throw new RangeError(`reconnect back-off needs 0 <= min <= initial <= max and maxAttempts >= 1 (got ${JSON.stringify(opts)})`);
  }
  return r;
}

/** The window [min, upper] of attempt `attempt` (0 = first reconnection). */
export function backoffWindow(attempt: number, opts: ResolvedBackoff): { lower: number; upper: number } {
  // 2^attempt overflows to Infinity for large attempts; min() truncates it.
  const upper = Math.min(opts.max, opts.initial * 2 ** Math.max(0, attempt));
  return { lower: opts.min, upper: Math.max(opts.min, upper) };
}

/** The delay before attempt `attempt`, given `random()` uniform in [0, 1). */
export function backoffDelay(attempt: number, opts: ResolvedBackoff, random: () => number): number {
  const { lower, upper } = backoffWindow(attempt, opts);
  return Math.round(lower + random() * (upper - lower));
}

/** Counts consecutive failures and hands out the next delay. */
export class Backoff {
  private attempt = 0;
  constructor(
    readonly opts: ResolvedBackoff,
    private readonly random: () => number = Math.random,
  ) {}

  /** Attempts made since the last success. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next attempt, or undefined when maxAttempts is used up. */
  next(): number | undefined {
    if (this.attempt >= this.opts.maxAttempts) return undefined;
    return backoffDelay(this.attempt++, this.opts, this.random);
  }

  /** The stream got online: the next outage starts over at the first window. */
  reset(): void {
    this.attempt = 0;
  }
}
