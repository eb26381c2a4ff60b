/**
 * MT19937 with numpy's legacy `RandomState` semantics for integer seeds, so that a transform
 * given MONAI's seed reproduces MONAI's draws bit for bit (see monai-semantics §2).
 *
 * The state is regenerated 624 words at a time (as numpy does) into an Int32Array, so every bit
 * operation stays in int32; the batched paths (`fillUniform`, `shuffle`) temper words straight from
 * that block in tight loops and consume exactly the words the scalar calls would, in the same order.
 */
const N = 624;
const M = 397;
const UPPER = 0x80000000 | 0;
const LOWER = 0x7fffffff;
const MATRIX_A = 0x9908b0df | 0;
const TEMPER_B = 0x9d2c5680 | 0;
const TEMPER_C = 0xefc60000 | 0;
/** 2^-53: rand() = (a·2^26 + b) / 2^53, exact as a product */
const INV_2_53 = 1 / 9007199254740992;

export interface RandomStateSnapshot {
  mt: number[];
  index: number;
}

/** A writable numeric array: a typed array (or number[]) that the batched fills write into. */
export interface NumericArray {
  readonly length: number;
  [i: number]: number;
}

export class RandomState {
  /** the untempered state words (int32 view of the uint32 words) */
  private readonly mt = new Int32Array(N);
  private index = N + 1;

  constructor(seed = 0) {
    this.seed(seed);
  }

  /** numpy `RandomState(seed)` for an int seed: init_genrand(seed & 0xffffffff). */
  seed(seed: number): void {
    const mt = this.mt;
    mt[0] = seed | 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev + i, in 32-bit arithmetic
      mt[i] = (Math.imul(1812433253, prev) + i) | 0;
    }
    this.index = N;
  }

  /** regenerate the 624-word block (genrand_int32's refill) and rewind to its start. */
  private twist(): void {
    const mt = this.mt;
    let kk = 0;
    for (; kk < N - M; kk++) {
      const y = (mt[kk] & UPPER) | (mt[kk + 1] & LOWER);
      mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    for (; kk < N - 1; kk++) {
      const y = (mt[kk] & UPPER) | (mt[kk + 1] & LOWER);
      mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    const y = (mt[N - 1] & UPPER) | (mt[0] & LOWER);
    mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    this.index = 0;
  }

  /** next raw 32-bit output (genrand_int32). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & TEMPER_B;
    y ^= (y << 15) & TEMPER_C;
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
    this.fillUniform(out, a, b, 0, n);
    return out;
  }

  /**
   * `count` sequential numpy `uniform(lo, hi)` draws written to out[offset], out[offset + stride], ...
   * (the values and the state afterwards equal `count` scalar `uniform(lo, hi)` calls; each double is
   * stored with the array's own conversion, e.g. rounded to float32). Words are tempered straight from
   * the 624-word block, two per draw.
   */
  fillUniform(out: NumericArray, lo: number, hi: number, offset = 0, count = out.length - offset, stride = 1): void {
    const range = hi - lo;
    const mt = this.mt;
    let p = offset;
    let left = count;
    while (left > 0) {
      if (this.index >= N) this.twist();
      let i = this.index;
      const pairs = (N - i) >> 1;
      if (pairs === 0) {
        // one word left in this block: the draw straddles the refill
        out[p] = lo + range * this.rand();
        p += stride;
        left--;
        continue;
      }
      const m = Math.min(pairs, left);
      for (let t = 0; t < m; t++) {
        let a = mt[i];
        a ^= a >>> 11;
        a ^= (a << 7) & TEMPER_B;
        a ^= (a << 15) & TEMPER_C;
        a ^= a >>> 18;
        let b = mt[i + 1];
        b ^= b >>> 11;
        b ^= (b << 7) & TEMPER_B;
        b ^= (b << 15) & TEMPER_C;
        b ^= b >>> 18;
        out[p] = lo + range * (((a >>> 5) * 67108864 + (b >>> 6)) * INV_2_53);
        p += stride;
        i += 2;
      }
      this.index = i;
      left -= m;
    }
  }

  /**
   * Advance the stream by `count` uniform draws (2·count words) without computing them: the state
   * afterwards equals that after `count` calls of `rand()` / `uniform()` (whose values are discarded).
   */
  skipDoubles(count: number): void {
    let words = 2 * count;
    while (words > 0) {
      if (this.index >= N) this.twist();
      const take = Math.min(N - this.index, words);
      this.index += take;
      words -= take;
    }
  }

  /**
   * numpy `shuffle` of a 1-D array, in place (Fisher–Yates from the end: j = randint(0, i + 1) by
   * masked rejection, numpy's random_interval). Draws the same words as the scalar randint calls; the
   * mask shrinks as i crosses powers of two.
   */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    const n = arr.length;
    if (n < 2) return arr;
    if (n - 1 > 0x7fffffff) {
      for (let i = n - 1; i > 0; i--) {
        const j = this.randint(0, i + 1);
        const t = arr[i];
        arr[i] = arr[j];
        arr[j] = t;
      }
      return arr;
    }
    const mt = this.mt;
    let mask = n - 1;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    let idx = this.index;
    for (let i = n - 1; i > 0; i--) {
      while (i <= mask >>> 1) mask >>>= 1;
      let j: number;
      do {
        if (idx >= N) {
          this.twist();
          idx = 0;
        }
        let y = mt[idx++];
        y ^= y >>> 11;
        y ^= (y << 7) & TEMPER_B;
        y ^= (y << 15) & TEMPER_C;
        y ^= y >>> 18;
        j = y & mask;
      } while (j > i);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    this.index = idx;
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
    return { mt: Array.from(new Uint32Array(this.mt.buffer)), index: this.index };
  }

  restore(s: RandomStateSnapshot): void {
    this.mt.set(s.mt);
    this.index = s.index;
  }
}
