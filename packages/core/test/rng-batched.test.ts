import { describe, expect, it } from "vitest";
import { RandomState } from "../src/rng/mt19937.js";

/**
 * The batched paths of RandomState (block twist into an Int32Array, fillUniform, skipDoubles, the
 * inlined shuffle) must equal the textbook one-word-at-a-time generator (numpy's genrand_int32 and
 * legacy rand/randint/uniform/shuffle, written out plainly here) for any seed, length, offset in the
 * 624-word block and stride.
 */
class ScalarMT {
  private mt = new Uint32Array(624);
  private i = 625;
  constructor(seed: number) {
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.i = 624;
  }
  u32(): number {
    const mt = this.mt;
    if (this.i >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.i = 0;
    }
    let y = mt[this.i++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
  rand(): number {
    const a = this.u32() >>> 5;
    const b = this.u32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.rand();
  }
  randint(lo: number, hi: number): number {
    const rng = hi - lo - 1;
    if (rng === 0) return lo;
    let mask = rng;
    for (let s = 1; s < 32; s *= 2) mask |= mask >>> s;
    mask >>>= 0;
    let v: number;
    do v = (this.u32() & mask) >>> 0;
    while (v > rng);
    return lo + v;
  }
}

const SEEDS = [0, 1, 2, 5, 42, 123, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 987654321];

describe("RandomState batched paths equal the scalar generator", () => {
  it("raw words across many block refills, for many seeds", () => {
    for (const seed of SEEDS) {
      const a = new RandomState(seed);
      const b = new ScalarMT(seed);
      for (let i = 0; i < 3000; i++) expect(a.nextUint32()).toBe(b.u32());
    }
  });

  it("fillUniform = sequential uniform() draws: odd lengths, odd block offsets, strides, float32/float64", () => {
    for (const seed of SEEDS) {
      for (const [skipWords, count, stride, offset] of [
        [0, 1, 1, 0],
        [1, 311, 1, 3], // starts on an odd word: draws straddle the 624-word refill
        [623, 2, 1, 0], // one word left in the block
        [5, 1000, 3, 2],
        [0, 625, 1, 0],
        [17, 4099, 2, 1],
      ] as const) {
        for (const Ctor of [Float32Array, Float64Array]) {
          const a = new RandomState(seed);
          const b = new ScalarMT(seed);
          for (let i = 0; i < skipWords; i++) expect(a.nextUint32()).toBe(b.u32());
          const lo = -0.25;
          const hi = 3.5;
          const out = new Ctor(offset + count * stride).fill(7);
          const want = new Ctor(out.length).fill(7);
          a.fillUniform(out, lo, hi, offset, count, stride);
          for (let t = 0; t < count; t++) want[offset + t * stride] = b.uniform(lo, hi);
          expect(out).toEqual(want);
          // the streams are in the same state afterwards
          expect(a.rand()).toBe(b.rand());
        }
      }
    }
  });

  it("uniformArray agrees with the scalar MT19937 (numpy's a + (b - a) · random_sample)", () => {
    const a = new RandomState(3);
    const b = new ScalarMT(3);
    const x = a.uniformArray(2, 5, 1001) as Float64Array;
    for (let i = 0; i < 1001; i++) expect(x[i]).toBe(2 + (5 - 2) * b.rand());
    expect(a.nextUint32()).toBe(b.u32());
  });

  it("skipDoubles(n) leaves the stream where n rand() calls would", () => {
    for (const seed of SEEDS) {
      for (const [pre, n] of [
        [0, 0],
        [0, 1],
        [1, 311],
        [623, 1],
        [10, 5000],
      ]) {
        const a = new RandomState(seed);
        const b = new ScalarMT(seed);
        for (let i = 0; i < pre; i++) expect(a.nextUint32()).toBe(b.u32());
        a.skipDoubles(n);
        for (let i = 0; i < n; i++) b.rand();
        expect(a.nextUint32()).toBe(b.u32());
      }
    }
  });

  it("shuffle = Fisher–Yates with randint(0, i + 1), same draws, any length and block position", () => {
    for (const seed of SEEDS) {
      for (const n of [0, 1, 2, 3, 7, 64, 65, 512, 1000, 4097]) {
        const a = new RandomState(seed);
        const b = new ScalarMT(seed);
        for (let i = 0; i < n % 13; i++) expect(a.nextUint32()).toBe(b.u32());
        const x = Float32Array.from({ length: n }, (_, i) => i);
        const y = Array.from({ length: n }, (_, i) => i);
        a.shuffle(x);
        for (let i = n - 1; i > 0; i--) {
          const j = b.randint(0, i + 1);
          [y[i], y[j]] = [y[j], y[i]];
        }
        expect(Array.from(x)).toEqual(y);
        expect(a.nextUint32()).toBe(b.u32());
      }
    }
  });

  it("snapshot / restore round-trips the block state", () => {
    const a = new RandomState(9);
    for (let i = 0; i < 700; i++) a.nextUint32();
    const s = a.snapshot();
    expect(s.mt.every((w) => w >= 0 && w <= 0xffffffff)).toBe(true);
    const x = [a.rand(), a.rand()];
    const b = new RandomState(0);
    b.restore(s);
    expect([b.rand(), b.rand()]).toEqual(x);
  });
});
