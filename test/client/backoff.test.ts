/**
 * RFC 6120 §3.3 reconnection back-off: the first delay is random in 0..60 s, later ones back
 * off (truncated binary exponential). Driven with injected randomness and a manual clock.
 */
import { fc, test as fcTest } from '@fast-check/vitest';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, backoffWindow, createClient, DEFAULT_BACKOFF, resolveBackoff } from '../../runtime/client/index.js';
import type { Clock } from '../../runtime/session/driver.js';

describe('RFC 6120 §3.3 back-off windows', () => {
  it('defaults: the first attempt waits 0..60 s, as §3.3 says', () => {
    expect(DEFAULT_BACKOFF.min).toBe(0);
    expect(backoffWindow(0, DEFAULT_BACKOFF)).toEqual({ lower: 0, upper: 60_000 });
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0.999999)).toBe(60_000);
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0.5)).toBe(30_000);
  });

  it('the window doubles per failed attempt and is truncated at max', () => {
    const uppers = Array.from({ length: 8 }, (_, n) => backoffWindow(n, DEFAULT_BACKOFF).upper);
    expect(uppers).toEqual([60_000, 120_000, 240_000, 480_000, 960_000, 960_000, 960_000, 960_000]);
    expect(backoffWindow(5000, DEFAULT_BACKOFF).upper).toBe(960_000); // 2^5000 = Infinity, still truncated
  });

  it('min/initial/max are configurable and validated', () => {
    const o = resolveBackoff({ min: 100, initial: 1000, max: 3000 });
    expect([0, 1, 2, 3].map((n) => backoffWindow(n, o))).toEqual([
      { lower: 100, upper: 1000 },
      { lower: 100, upper: 2000 },
      { lower: 100, upper: 3000 },
      { lower: 100, upper: 3000 },
    ]);
    expect(() => resolveBackoff({ min: 500, initial: 100 })).toThrow(RangeError);
    expect(() => resolveBackoff({ initial: 1000, max: 10 })).toThrow(RangeError);
    expect(() => resolveBackoff({ maxAttempts: 0 })).toThrow(RangeError);
  });

  fcTest.prop([fc.nat(40), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.nat(5000), fc.integer({ min: 1, max: 100_000 })])(
    'every delay lies inside its window',
    (attempt, r, min, span) => {
      const o = resolveBackoff({ min, initial: min + span, max: min + span * 8 });
      const d = backoffDelay(attempt, o, () => r);
      const w = backoffWindow(attempt, o);
      expect(d).toBeGreaterThanOrEqual(w.lower);
      expect(d).toBeLessThanOrEqual(w.upper);
    },
  );

  it('Backoff counts attempts, resets after a success, and stops at maxAttempts', () => {
    const seq = [0.25, 0.5, 0.75, 0.1];
    let i = 0;
    const b = new Backoff(resolveBackoff({ initial: 1000, max: 4000, maxAttempts: 3 }), () => seq[i++ % seq.length]!);
    expect([b.next(), b.next(), b.next()]).toEqual([250, 1000, 3000]);
    expect(b.next()).toBeUndefined();
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(100); // 0.1 of the first window again
  });

  it('different random draws spread clients over the window (no synchronized reconnects)', () => {
    const delays = new Set<number>();
    for (let k = 0; k < 50; k++) delays.add(backoffDelay(0, DEFAULT_BACKOFF, Math.random));
    expect(delays.size).toBeGreaterThan(40);
  });
});

/** A clock whose timers run only when the test says so. */
class ManualClock implements Clock {
  timers = new Map<number, { fn: () => void; ms: number }>();
  private id = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    this.timers.set(++this.id, { fn, ms });
    return this.id;
  }
  clearTimeout(id: unknown): void {
    this.timers.delete(id as number);
  }
  fireAll(): void {
    const due = [...this.timers.values()];
    this.timers.clear();
    for (const t of due) t.fn();
  }
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('client reconnection schedule (§3.3) with an injected clock and random source', () => {
  it('a refused connection is retried with delays from the back-off windows, and stop() cancels the retry', async () => {
    const port = await closedPort();
    const clock = new ManualClock();
    const draws = [0.5, 0.5, 0.5];
    let k = 0;
    const client = createClient({
      jid: 'alice@localhost',
      password: 'x',
      host: '127.0.0.1',
      port,
      reconnect: { initial: 1000, max: 3000 },
      random: () => draws[k++] ?? 0.5,
      clock,
    });
    const scheduled: number[] = [];
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.message));
    const nextSchedule = (): Promise<void> => new Promise((r) => client.once('reconnecting', (ev) => (scheduled.push(ev.delayMs), r())));

    const started = client.start();
    await nextSchedule();
    expect(scheduled).toEqual([500]); // 0.5 × first window (1000)
    expect([...clock.timers.values()].map((t) => t.ms)).toEqual([500]);
    expect(client.status).toBe('waiting');
    clock.fireAll();
    await nextSchedule();
    clock.fireAll();
    await nextSchedule();
    expect(scheduled).toEqual([500, 1000, 1500]); // windows 1000, 2000, 3000 (truncated at max)
    expect(errors[0]).toMatch(/connection lost \(RFC 6120 §3\): cannot connect to 127\.0\.0\.1:\d+: connect ECONNREFUSED/);

    const outcome = await client.stop();
    expect(outcome.kind).toBe('transport');
    expect(clock.timers.size).toBe(0);
    expect(client.status).toBe('stopped');
    await expect(started).rejects.toThrow(/ECONNREFUSED/);
  });

  it('without reconnect, the first failure rejects start()', async () => {
    const port = await closedPort();
    const client = createClient({ jid: 'alice@localhost', password: 'x', host: '127.0.0.1', port });
    await expect(client.start()).rejects.toMatchObject({ outcome: { kind: 'transport' } });
    expect(client.status).toBe('stopped');
  });
});
