/**
 * MT19937 with numpy's legacy `RandomState` semantics for integer seeds, so that a transform
 * given MONAI's seed reproduces MONAI's draws bit for bit (see monai-semantics §2).
 */
const N = 624;
const M = 397;

export interface RandomStateSnapshot {
  mt: number[];
  index: number;
}

export class RandomState {
  private readonly mt = new Uint32Array(N);
  private index = N + 1;

  constructor(seed = 0) {
    this.seed(seed);
  }

  /** numpy `RandomState(seed)` for an int seed: init_genrand(seed & 0xffffffff). */
  seed(seed: number): void {
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev + i, in 32-bit arithmetic
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.index = N;
  }

  /** next raw 32-bit output (genrand_int32). */
  nextUint32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
        mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
        mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      const y = (mt[N - 1] & 0x80000000) | (mt[0] & 0x7fffffff);
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** numpy `rand()`: a double in [0, 1) with 53 random bits. */
  rand(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** numpy `randint(low, high)` (high exclusive; `randint(n)` = `randint(0, n)`), masked rejection sampling. */
  randint(low: number, high?: number): number {
    let lo = low;
    let hi = high;
    if (hi === undefined) {
      hi = lo;
      lo = 0;
    }
    if (hi <= lo) throw new RangeError(`randint: low (${lo}) >= high (${hi})`);
    const rng = hi - lo - 1;
    if (rng === 0) return lo;
    if (rng > 0xffffffff) throw new RangeError("randint: range larger than 2^32 is not supported");
    let mask = rng;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    do {
      v = (this.nextUint32() & mask) >>> 0;
    } while (v > rng);
    return lo + v;
  }

  /** numpy `uniform(a, b)` for a scalar. */
  uniform(a = 0, b = 1): number {
    return a + (b - a) * this.rand();
  }

  /** numpy `uniform(a, b, size)`: sequential draws in C order. */
  uniformArray(a: number, b: number, n: number, out: Float32Array | Float64Array = new Float64Array(n)): typeof out {
    for (let i = 0; i < n; i++) out[i] = a + (b - a) * this.rand();
    return out;
  }

  /** numpy `shuffle` of a 1-D array, in place (Fisher–Yates from the end). */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.randint(0, i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /** standard normal (Box–Muller, numpy legacy gauss with cached second value is not needed for parity here). */
  normal(mean = 0, std = 1): number {
    let u = 0;
    while (u === 0) u = this.rand();
    const v = this.rand();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  snapshot(): RandomStateSnapshot {
    return { mt: Array.from(this.mt), index: this.index };
  }

  restore(s: RandomStateSnapshot): void {
    this.mt.set(s.mt);
    this.index = s.index;
  }
}
