/**
 * Seeded pseudo-random numbers for the simulator (xoshiro128**). Nothing in a simulated
 * run may use Math.random or crypto randomness: the seed alone must reproduce a run.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    // splitmix32 spreads a small integer seed over the 128-bit state.
    const x = seed >>> 0;
    this.s0 = splitmix32(x, 1);
    this.s1 = splitmix32(x, 2);
    this.s2 = splitmix32(x, 3);
    this.s3 = splitmix32(x, 4);
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + (this.u32() % (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** An independent generator derived from this one (for a sub-component). */
  fork(): Rng {
    return new Rng(this.u32());
  }
}

/** The k-th output of splitmix32 seeded with `x`. */
function splitmix32(x: number, k: number): number {
  let z = (x + k * 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
