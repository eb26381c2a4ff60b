/**
 * Float64 reference implementations and helpers for the engine tests. Written from the
 * definitions (PyTorch Conv3d / ConvTranspose3d, channel-last), independent of the engine code.
 */
import * as tf from "@tensorflow/tfjs-core";

export type F64 = Float64Array;
export type Triple = [number, number, number];
export type Pads = [[number, number], [number, number], [number, number]];

export const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Deterministic values in [-1, 1) (LCG), so every test run sees the same numbers. */
export function randArr(n: number, seed: number, scale = 1): F64 {
  const a = new Float64Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 4294967296 - 0.5) * 2 * scale;
  }
  return a;
}

/** float64 values rounded to float32, so tfjs and the reference see the same inputs. */
export const f32 = (a: F64): F64 => Float64Array.from(Float32Array.from(a));

export function tensor(a: F64, shape: number[]): tf.Tensor {
  return tf.tensor(Float32Array.from(a), shape);
}

/** y = conv3d(x, w) with zero padding `pads`, strides s; x [B,D,H,W,Ci], w [k0,k1,k2,Ci,Co]. */
export function conv3dRef(
  x: F64,
  xs: number[],
  w: F64,
  ws: number[],
  s: Triple,
  pads: Pads,
): { y: F64; shape: number[] } {
  const [B, D, H, W, Ci] = xs;
  const [k0, k1, k2, , Co] = ws;
  const o = [D, H, W].map((n, i) => Math.floor((n + pads[i][0] + pads[i][1] - ws[i]) / s[i]) + 1);
  const y = new Float64Array(B * o[0] * o[1] * o[2] * Co);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < o[0]; i++)
      for (let j = 0; j < o[1]; j++)
        for (let k = 0; k < o[2]; k++)
          for (let co = 0; co < Co; co++) {
            let acc = 0;
            for (let a = 0; a < k0; a++) {
              const di = i * s[0] + a - pads[0][0];
              if (di < 0 || di >= D) continue;
              for (let c = 0; c < k1; c++) {
                const hj = j * s[1] + c - pads[1][0];
                if (hj < 0 || hj >= H) continue;
                for (let e = 0; e < k2; e++) {
                  const wk = k * s[2] + e - pads[2][0];
                  if (wk < 0 || wk >= W) continue;
                  for (let ci = 0; ci < Ci; ci++) {
                    acc +=
                      x[(((b * D + di) * H + hj) * W + wk) * Ci + ci] *
                      w[(((a * k1 + c) * k2 + e) * Ci + ci) * Co + co];
                  }
                }
              }
            }
            y[(((b * o[0] + i) * o[1] + j) * o[2] + k) * Co + co] = acc;
          }
  return { y, shape: [B, o[0], o[1], o[2], Co] };
}

/**
 * PyTorch ConvTranspose3d(kernel = stride = p, padding 0), channel-last; w in the tf layout
 * [p0, p1, p2, Co, Ci]: out[b, p0·i+a, p1·j+c, p2·k+e, co] = Σ_ci x[b,i,j,k,ci]·w[a,c,e,co,ci].
 */
export function convTransposeRef(x: F64, xs: number[], w: F64, ws: number[]): { y: F64; shape: number[] } {
  const [B, D, H, W, Ci] = xs;
  const [p0, p1, p2, Co] = ws;
  const shape = [B, D * p0, H * p1, W * p2, Co];
  const y = new Float64Array(size(shape));
  for (let b = 0; b < B; b++)
    for (let i = 0; i < D; i++)
      for (let j = 0; j < H; j++)
        for (let k = 0; k < W; k++)
          for (let a = 0; a < p0; a++)
            for (let c = 0; c < p1; c++)
              for (let e = 0; e < p2; e++)
                for (let co = 0; co < Co; co++) {
                  let acc = 0;
                  for (let ci = 0; ci < Ci; ci++) {
                    acc +=
                      x[(((b * D + i) * H + j) * W + k) * Ci + ci] * w[(((a * p1 + c) * p2 + e) * Co + co) * Ci + ci];
                  }
                  const oi = (((b * shape[1] + i * p0 + a) * shape[2] + j * p1 + c) * shape[3] + k * p2 + e) * Co + co;
                  y[oi] = acc;
                }
  return { y, shape };
}

/** Batched matMul with numpy broadcasting of the batch dims. */
export function matMulRef(
  a: F64,
  as: number[],
  b: F64,
  bs: number[],
  tA: boolean,
  tB: boolean,
): { y: F64; shape: number[] } {
  const ra = as.length;
  const rb = bs.length;
  const m = tA ? as[ra - 1] : as[ra - 2];
  const k = tA ? as[ra - 2] : as[ra - 1];
  const n = tB ? bs[rb - 2] : bs[rb - 1];
  const oa = as.slice(0, -2);
  const ob = bs.slice(0, -2);
  const r = Math.max(oa.length, ob.length);
  const pa = [...new Array(r - oa.length).fill(1), ...oa];
  const pb = [...new Array(r - ob.length).fill(1), ...ob];
  const oo = pa.map((v, i) => Math.max(v, pb[i]));
  const batch = size(oo);
  const y = new Float64Array(batch * m * n);
  const flat = (idx: number[], shp: number[]) => idx.reduce((acc, v, i) => acc * shp[i] + (shp[i] === 1 ? 0 : v), 0);
  for (let q = 0; q < batch; q++) {
    const idx: number[] = [];
    let rem = q;
    for (let d = r - 1; d >= 0; d--) {
      idx.unshift(rem % oo[d]);
      rem = Math.floor(rem / oo[d]);
    }
    const ia = flat(idx, pa) * m * k;
    const ib = flat(idx, pb) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let l = 0; l < k; l++) {
          const av = tA ? a[ia + l * m + i] : a[ia + i * k + l];
          const bv = tB ? b[ib + j * k + l] : b[ib + l * n + j];
          acc += av * bv;
        }
        y[q * m * n + i * n + j] = acc;
      }
  }
  return { y, shape: [...oo, m, n] };
}

/** erf in float64 (Taylor series for |x| < 3, asymptotic erfc beyond), |error| < 1e-12. */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= (-x * x) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) ~ e^{-x²}/(x√π) Σ (-1)^n (2n-1)!! / (2x²)^n
  let term = 1;
  let s = 1;
  for (let n = 1; n < 12; n++) {
    term *= -(2 * n - 1) / (2 * x * x);
    s += term;
  }
  const erfc = (Math.exp(-x * x) / (ax * Math.sqrt(Math.PI))) * s;
  return Math.sign(x) * (1 - erfc);
}

/**
 * Gradients of L = Σ f(inputs) · r with respect to every input, by central differences in
 * float64 (exact up to rounding for linear f; O(h²) otherwise).
 */
export function numGrad(f: (xs: F64[]) => F64, inputs: F64[], r: F64, h = 1e-4): F64[] {
  const loss = (xs: F64[]) => {
    const y = f(xs);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * r[i];
    return s;
  };
  return inputs.map((inp, which) => {
    const g = new Float64Array(inp.length);
    for (let i = 0; i < inp.length; i++) {
      const xs = inputs.map((v, j) => (j === which ? Float64Array.from(v) : v));
      const v0 = inp[i];
      xs[which][i] = v0 + h;
      const lp = loss(xs);
      xs[which][i] = v0 - h;
      const lm = loss(xs);
      g[i] = (lp - lm) / (2 * h);
    }
    return g;
  });
}

/** max |got − ref| / max(1, max |ref|): float32 round-off of small sums stays ≲ 1e-6. */
export function relErr(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (got.length !== ref.length) throw new Error(`length ${got.length} ≠ ${ref.length}`);
  let d = 0;
  let m = 1;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(got[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return d / m;
}

/**
 * Runs f(tensors) → scalar-free output y and the tfjs gradients of Σ y·r; returns plain arrays
 * and disposes everything it created.
 */
export function tfValueAndGrads(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: { a: F64; shape: number[] }[],
  r: F64,
): { y: Float32Array; shape: number[]; grads: Float32Array[] } {
  const xs = inputs.map(({ a, shape }) => tensor(a, shape));
  const y = f(...xs);
  const rt = tensor(r, y.shape);
  const g = tf.grads((...ts: tf.Tensor[]) => tf.sum(tf.mul(f(...ts), rt)))(xs);
  const out = { y: y.dataSync() as Float32Array, shape: y.shape, grads: g.map((t) => t.dataSync() as Float32Array) };
  tf.dispose([...xs, y, rt, ...g]);
  return out;
}
