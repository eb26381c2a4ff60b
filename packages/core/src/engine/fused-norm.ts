// Over 300 lines by design: one fused op: its derivation (below), the forward, the hand-written backward and
// their hand-unrolled hot loops; split, the formulas and the code that implements them would be read apart.
/**
 * Fused InstanceNorm3d (no affine, biased variance) + LeakyReLU with a hand-written gradient, for
 * MONAI's UnetResBlock / UnetBasicBlock (conv → norm → LReLU). Channel-last [B, D, H, W, C]:
 * statistics per (b, c) over D·H·W.
 *
 *   z = (x − μ)·r,  r = 1/√(σ² + eps),  y = z > 0 ? z : α·z   (α = 1: the norm alone)
 *   dz = dy·(y > 0 ? 1 : α),  dx = r·(dz − mean(dz) − z·mean(dz·z))   (means per (b, c))
 *
 * The backward needs only y and r (z = y > 0 ? y : y/α, so α must be > 0): the tape keeps the
 * output (which the next conv keeps anyway) and B·C floats, instead of autodiff's ~5 full-size
 * tensors (x − μ, its square, the normalised z, the LeakyReLU input, …).
 *
 * On wasm, forward and backward are two kernels working on the wasm heap (three passes forward: Σx,
 * Σ(x − μ)², write y; two passes backward: Σdz, Σdz·z, then write dx; float64 accumulators). On
 * other backends the same formulas with tfjs ops (one custom-gradient op either way).
 */

import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import * as tf from "@tensorflow/tfjs-core";
import { Codes, VoxelpipeError } from "../errors.js";

const FWD = "VoxelpipeInstanceNormAct";
const BWD = "VoxelpipeInstanceNormActGrad";

interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}
type Args = { inputs: Record<string, TensorInfo>; attrs: Record<string, unknown>; backend: HeapBackend };

/** [B, N, C] dims of a channel-last tensor: N = the product of the spatial dims. */
function dims(shape: number[]): [number, number, number] {
  const b = shape[0];
  const c = shape[shape.length - 1];
  return [b, shape.slice(1, -1).reduce((a, v) => a * v, 1), c];
}

/**
 * Per-channel sums over the rows of one sample: out1[k] += Σ_i f(a[i + k]) (and out2 for the second
 * statistic) for rows base, base + c, … < end. Channels go in groups of 8 held in locals (V8 keeps
 * them in registers: 4× faster than accumulating into a Float64Array); each group is one strided
 * pass. `shift[k]` is subtracted first (the mean for the variance), mode 0: Σ(a − shift)², mode 1:
 * Σ b·(α + (1 − α)·[a > 0]) and Σ b·a (the gradient's Σdz and Σdz·z), branch-free: the signs of
 * a normalised tensor are random, and a mispredicted branch per element costs 3-4× the loop.
 */
export function channelSums(
  a: Float32Array,
  bArr: Float32Array | null,
  base: number,
  end: number,
  c: number,
  shift: Float64Array | null,
  alpha: number,
  out1: Float64Array,
  out2: Float64Array | null,
): void {
  // Long by design: a hot loop unrolled by hand (channels in groups of 8 held in locals, both modes, the
  // remainder); the length is the unrolling, not logic.
  const om = 1 - alpha;
  let k0 = 0;
  for (; k0 + 8 <= c; k0 += 8) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    let s5 = 0;
    let s6 = 0;
    let s7 = 0;
    if (bArr === null) {
      const h0 = shift ? shift[k0] : 0;
      const h1 = shift ? shift[k0 + 1] : 0;
      const h2 = shift ? shift[k0 + 2] : 0;
      const h3 = shift ? shift[k0 + 3] : 0;
      const h4 = shift ? shift[k0 + 4] : 0;
      const h5 = shift ? shift[k0 + 5] : 0;
      const h6 = shift ? shift[k0 + 6] : 0;
      const h7 = shift ? shift[k0 + 7] : 0;
      if (shift) {
        for (let i = base + k0; i < end; i += c) {
          const d0 = a[i] - h0;
          const d1 = a[i + 1] - h1;
          const d2 = a[i + 2] - h2;
          const d3 = a[i + 3] - h3;
          const d4 = a[i + 4] - h4;
          const d5 = a[i + 5] - h5;
          const d6 = a[i + 6] - h6;
          const d7 = a[i + 7] - h7;
          s0 += d0 * d0;
          s1 += d1 * d1;
          s2 += d2 * d2;
          s3 += d3 * d3;
          s4 += d4 * d4;
          s5 += d5 * d5;
          s6 += d6 * d6;
          s7 += d7 * d7;
        }
      } else {
        for (let i = base + k0; i < end; i += c) {
          s0 += a[i];
          s1 += a[i + 1];
          s2 += a[i + 2];
          s3 += a[i + 3];
          s4 += a[i + 4];
          s5 += a[i + 5];
          s6 += a[i + 6];
          s7 += a[i + 7];
        }
      }
      out1[k0] += s0;
      out1[k0 + 1] += s1;
      out1[k0 + 2] += s2;
      out1[k0 + 3] += s3;
      out1[k0 + 4] += s4;
      out1[k0 + 5] += s5;
      out1[k0 + 6] += s6;
      out1[k0 + 7] += s7;
    } else {
      // gradient statistics, 4 channels at a time (two sums each)
      for (let q = 0; q < 8; q += 4) {
        let t0 = 0;
        let t1 = 0;
        let t2 = 0;
        let t3 = 0;
        s0 = s1 = s2 = s3 = 0;
        for (let i = base + k0 + q; i < end; i += c) {
          const v0 = a[i];
          const v1 = a[i + 1];
          const v2 = a[i + 2];
          const v3 = a[i + 3];
          const g0 = bArr[i];
          const g1 = bArr[i + 1];
          const g2 = bArr[i + 2];
          const g3 = bArr[i + 3];
          s0 += g0 * (alpha + om * +(v0 > 0));
          s1 += g1 * (alpha + om * +(v1 > 0));
          s2 += g2 * (alpha + om * +(v2 > 0));
          s3 += g3 * (alpha + om * +(v3 > 0));
          t0 += g0 * v0;
          t1 += g1 * v1;
          t2 += g2 * v2;
          t3 += g3 * v3;
        }
        const k = k0 + q;
        out1[k] += s0;
        out1[k + 1] += s1;
        out1[k + 2] += s2;
        out1[k + 3] += s3;
        out2![k] += t0;
        out2![k + 1] += t1;
        out2![k + 2] += t2;
        out2![k + 3] += t3;
      }
    }
  }
  // channels left over (c not a multiple of 8): one at a time
  for (let k = k0; k < c; k++) {
    let s = 0;
    let t = 0;
    const h = shift ? shift[k] : 0;
    for (let i = base + k; i < end; i += c) {
      if (bArr === null) {
        const d = a[i] - h;
        s += shift ? d * d : d;
      } else {
        const v = a[i];
        const g = bArr[i];
        s += g * (alpha + om * +(v > 0));
        t += g * v;
      }
    }
    out1[k] += s;
    if (out2) out2[k] += t;
  }
}

/** y = act(instance-normalised x) and r = 1/√(σ² + eps) [B, C]; x, y: [B, N, C] flat. */
export function instanceNormActForward(
  x: Float32Array,
  y: Float32Array,
  r: Float32Array,
  b: number,
  n: number,
  c: number,
  alpha: number,
  eps: number,
): void {
  const mean = new Float64Array(c);
  const acc = new Float64Array(c);
  const rs = new Float64Array(c);
  const om = 1 - alpha;
  for (let bi = 0; bi < b; bi++) {
    const base = bi * n * c;
    const end = base + n * c;
    mean.fill(0);
    acc.fill(0);
    channelSums(x, null, base, end, c, null, alpha, mean, null);
    for (let k = 0; k < c; k++) mean[k] /= n;
    // two-pass variance (Σ(x − μ)²): exact where E[x²] − μ² would cancel
    channelSums(x, null, base, end, c, mean, alpha, acc, null);
    for (let k = 0; k < c; k++) {
      rs[k] = 1 / Math.sqrt(acc[k] / n + eps);
      r[bi * c + k] = rs[k];
    }
    for (let i = base; i < end; i += c)
      for (let k = 0; k < c; k++) {
        const z = (x[i + k] - mean[k]) * rs[k];
        y[i + k] = z * (alpha + om * +(z > 0));
      }
  }
}

/**
 * dx from the saved y, r and the incoming dy (all [B, N, C] flat; r [B, C]). With f = y > 0 ? 1 : α:
 * dz = f·dy, z = y/f, so dz·z = dy·y and dx = r·(f·dy − mean(dz) − (y/f)·mean(dz·z)).
 */
export function instanceNormActBackward(
  y: Float32Array,
  dy: Float32Array,
  r: Float32Array,
  dx: Float32Array,
  b: number,
  n: number,
  c: number,
  alpha: number,
): void {
  const sd = new Float64Array(c);
  const sdz = new Float64Array(c);
  const om = 1 - alpha;
  const omInv = 1 - 1 / alpha;
  const inv = 1 / alpha;
  for (let bi = 0; bi < b; bi++) {
    const base = bi * n * c;
    const end = base + n * c;
    sd.fill(0);
    sdz.fill(0);
    channelSums(y, dy, base, end, c, null, alpha, sd, sdz);
    for (let k = 0; k < c; k++) {
      sd[k] /= n;
      sdz[k] /= n;
    }
    const ro = bi * c;
    for (let i = base; i < end; i += c)
      for (let k = 0; k < c; k++) {
        const v = y[i + k];
        const p = +(v > 0);
        // f = α + (1 − α)·p, 1/f = 1/α + (1 − 1/α)·p
        dx[i + k] = r[ro + k] * (dy[i + k] * (alpha + om * p) - sd[k] - v * (inv + omInv * p) * sdz[k]);
      }
  }
}

function forwardKernel(args: Args): TensorInfo[] {
  const { x } = args.inputs;
  const { backend } = args;
  const [b, n, c] = dims(x.shape);
  const y = backend.makeOutput(x.shape, "float32");
  const r = backend.makeOutput([b, c], "float32");
  // views after every makeOutput: a malloc may grow (and detach) the heap
  instanceNormActForward(
    backend.typedArrayFromHeap(x),
    backend.typedArrayFromHeap(y),
    backend.typedArrayFromHeap(r),
    b,
    n,
    c,
    args.attrs.alpha as number,
    args.attrs.eps as number,
  );
  return [y, r];
}

function backwardKernel(args: Args): TensorInfo {
  const { y, dy, r } = args.inputs;
  const { backend } = args;
  const [b, n, c] = dims(y.shape);
  const dx = backend.makeOutput(y.shape, "float32");
  instanceNormActBackward(
    backend.typedArrayFromHeap(y),
    backend.typedArrayFromHeap(dy),
    backend.typedArrayFromHeap(r),
    backend.typedArrayFromHeap(dx),
    b,
    n,
    c,
    args.attrs.alpha as number,
  );
  return dx;
}

/** Whether the heap kernels can run on the active backend (registers them on first use). */
function heapKernels(): boolean {
  if (tf.getBackend() !== "wasm") return false;
  const be = tf.backend() as unknown as Partial<HeapBackend>;
  if (typeof be.makeOutput !== "function" || typeof be.typedArrayFromHeap !== "function") return false;
  if (!tf.getKernel(FWD, "wasm")) {
    tf.registerKernel({ kernelName: FWD, backendName: "wasm", kernelFunc: forwardKernel as unknown as KernelFunc });
    tf.registerKernel({ kernelName: BWD, backendName: "wasm", kernelFunc: backwardKernel as unknown as KernelFunc });
  }
  return true;
}

/** Forward with tfjs ops (non-wasm backends): [y, r]. */
function forwardOps(x: tf.Tensor, alpha: number, eps: number): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const axes = x.shape.slice(1, -1).map((_, i) => i + 1);
    const { mean, variance } = tf.moments(x, axes, true);
    const r = tf.rsqrt(tf.add(variance, eps));
    const z = tf.mul(tf.sub(x, mean), r);
    const y = alpha === 1 ? z : tf.leakyRelu(z, alpha);
    return [y, tf.reshape(r, [x.shape[0], x.shape[x.rank - 1]])];
  });
}

function backwardOps(y: tf.Tensor, dy: tf.Tensor, r: tf.Tensor, alpha: number): tf.Tensor {
  return tf.tidy(() => {
    const axes = y.shape.slice(1, -1).map((_, i) => i + 1);
    const rb = tf.reshape(r, [y.shape[0], ...axes.map(() => 1), y.shape[y.rank - 1]]);
    let z = y;
    let dz = dy;
    if (alpha !== 1) {
      const pos = tf.greater(y, 0);
      z = tf.where(pos, y, tf.mul(y, 1 / alpha));
      dz = tf.where(pos, dy, tf.mul(dy, alpha));
    }
    const md = tf.mean(dz, axes, true);
    const mdz = tf.mean(tf.mul(dz, z), axes, true);
    return tf.mul(rb, tf.sub(tf.sub(dz, md), tf.mul(z, mdz)));
  });
}

function check(op: string, x: tf.Tensor, alpha: number): void {
  if (x.rank < 3 || x.dtype !== "float32") {
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: `${op}: expects a float32 channel-last tensor of rank ≥ 3`,
      expected: "[B, S0, S1, S2, C] float32",
      got: `${x.dtype} [${x.shape}]`,
    });
  }
  if (!(alpha > 0)) {
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: `${op}: the negative slope must be > 0 (the gradient recovers the norm output from y)`,
      expected: "alpha > 0",
      got: String(alpha),
    });
  }
}

function fused(x: tf.Tensor, alpha: number, eps: number): tf.Tensor {
  const heap = heapKernels();
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const [y, r] = heap
      ? (tf.engine().runKernel(FWD, { x: xx }, { alpha, eps } as never) as unknown as tf.Tensor[])
      : forwardOps(xx, alpha, eps);
    save([y, r]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ys, rs] = saved;
        if (!heap) return backwardOps(ys, dy, rs, alpha);
        return tf.engine().runKernel(BWD, { y: ys, dy, r: rs }, { alpha } as never) as tf.Tensor;
      },
    };
  });
  return f(x);
}

/**
 * InstanceNorm3d(affine=False) then LeakyReLU(alpha) (MONAI dynunet: alpha 0.01), channel-last,
 * statistics per (sample, channel) over the spatial axes, biased variance, eps 1e-5. One op with
 * its own gradient; saves only the output and 1/σ [B, C].
 */
export function instanceNormLeakyRelu<T extends tf.Tensor>(x: T, alpha = 0.01, eps = 1e-5): T {
  check("instanceNormLeakyRelu", x, alpha);
  return fused(x, alpha, eps) as T;
}

/** InstanceNorm3d(affine=False) alone, as one op with its own gradient (saves the output and 1/σ). */
export function instanceNormFused<T extends tf.Tensor>(x: T, eps = 1e-5): T {
  check("instanceNorm", x, 1);
  return fused(x, 1, eps) as T;
}
