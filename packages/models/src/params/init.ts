import type { RandomState } from "@voxelpipe/core";

/**
 * Deterministic parameter initialisers drawn from a numpy-compatible RandomState. They follow
 * MONAI/PyTorch's defaults in distribution (kaiming-uniform bounds, trunc-normal pos-emb) but do
 * not reproduce PyTorch's exact draws: what matters is that the same seed gives the same weights.
 */
export type Initializer =
  | { kind: "zeros" }
  | { kind: "ones" }
  /** U(-bound, bound) — PyTorch's default Linear/Conv init (kaiming_uniform(a=√5) ⇒ bound 1/√fan_in) */
  | { kind: "uniform"; bound: number }
  /** normal(mean, std) truncated to the absolute interval [a, b] (timm/MONAI trunc_normal_) */
  | { kind: "truncNormal"; std: number; mean?: number; a?: number; b?: number }
  | { kind: "values"; data: Float32Array };

const TWO_POW_32 = 4294967296;

/** Fill a Float32Array of length n. One 32-bit draw per uniform value keeps the 92 M-parameter nets fast to build. */
export function fillInit(init: Initializer, n: number, rng: RandomState): Float32Array {
  const out = new Float32Array(n);
  switch (init.kind) {
    case "zeros":
      return out;
    case "ones":
      out.fill(1);
      return out;
    case "uniform": {
      const b = init.bound;
      for (let i = 0; i < n; i++) out[i] = ((rng.nextUint32() + 0.5) / TWO_POW_32) * 2 * b - b;
      return out;
    }
    case "truncNormal": {
      const mean = init.mean ?? 0;
      const a = init.a ?? -2;
      const b = init.b ?? 2;
      for (let i = 0; i < n; i++) {
        // rejection: with the usual bounds (±2 absolute, std 0.02) this practically never loops
        let v: number;
        do v = rng.normal(mean, init.std);
        while (v < a || v > b);
        out[i] = v;
      }
      return out;
    }
    case "values":
      if (init.data.length !== n) throw new Error(`initial values have ${init.data.length} elements, expected ${n}`);
      out.set(init.data);
      return out;
  }
}
