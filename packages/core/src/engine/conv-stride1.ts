/**
 * Stride-1 3-D convolution (cross-correlation, like PyTorch and tf.conv3d) from ops whose
 * forward and gradient are right on every backend, wrapped in tf.customGrad so the backward pass
 * is as cheap as the forward (docs/engine.md).
 *
 * With zero padding `pads` (before, after) per spatial dim, y[o] = Σ_t xpad[o + t] · w[t]:
 * - forward, two interchangeable forms:
 *   "conv2d": Σ over kd of tf.conv2d on depth slices (XNNPACK on wasm: the fast form);
 *   "taps":   Σ over the k0·k1·k2 taps of slice(xpad, t) [M, Ci] @ w[t] [Ci, Co].
 * - input gradient: the same forward with the kernel flipped and Ci/Co swapped, pads k-1-pad;
 * - filter gradient: "conv2d" form: per kd one conv2d with dy as the filter; "taps" form: per tap
 *   slice(xpad, t)ᵀ @ dy — [Ci, M] @ [M, Co].
 */
import * as tf from "@tensorflow/tfjs-core";

/** Zero padding (before, after) for spatial dims 0, 1, 2. */
export type Pads3 = [[number, number], [number, number], [number, number]];
/** How the stride-1 forward (and input gradient) is computed. */
export type Stride1Form = "conv2d" | "taps";

function outSize(x: tf.Tensor5D, w: tf.Tensor5D, pads: Pads3): [number, number, number] {
  return [0, 1, 2].map((i) => x.shape[i + 1] + pads[i][0] + pads[i][1] - w.shape[i] + 1) as [number, number, number];
}

/** acc + y, disposing both operands (keeps peak memory at two outputs). */
function accumulate<T extends tf.Tensor>(acc: T | null, y: T): T {
  if (!acc) return y;
  const s = tf.add(acc, y) as T;
  acc.dispose();
  y.dispose();
  return s;
}

/** conv2d padding [[0, 0], H, W, [0, 0]] (the "conv2d" forms pad H and W through conv2d itself). */
type HwPad = [[number, number], [number, number], [number, number], [number, number]];

/**
 * For the "conv2d" forms: x zero-padded in depth only (x itself when that pad is zero) and the H/W pads
 * that conv2d applies. Call inside a tidy.
 */
function padDepth(x: tf.Tensor5D, pads: Pads3): { xp: tf.Tensor5D; hwPad: HwPad } {
  const [[p0b, p0a], p1, p2] = pads;
  const xp =
    p0b || p0a
      ? tf.pad(x, [
          [0, 0],
          [p0b, p0a],
          [0, 0],
          [0, 0],
          [0, 0],
        ])
      : x;
  return { xp, hwPad: [[0, 0], p1, p2, [0, 0]] };
}

/** Stride-1 correlation of zero-padded x, no gradient of its own (wrap in conv3dStride1). */
export function forwardStride1(x: tf.Tensor5D, w: tf.Tensor5D, pads: Pads3, form: Stride1Form): tf.Tensor5D {
  return form === "conv2d" ? forwardConv2d(x, w, pads) : forwardTaps(x, w, pads);
}

function forwardConv2d(x: tf.Tensor5D, w: tf.Tensor5D, pads: Pads3): tf.Tensor5D {
  return tf.tidy(() => {
    const [b, , h, wd, ci] = x.shape;
    const [k0, k1, k2, , co] = w.shape;
    const [o0, o1, o2] = outSize(x, w, pads);
    const { xp, hwPad } = padDepth(x, pads);
    let acc: tf.Tensor4D | null = null;
    for (let kd = 0; kd < k0; kd++) {
      const y = tf.tidy(() => {
        const whole = kd === 0 && o0 === xp.shape[1];
        const xs = whole ? xp : tf.slice(xp, [0, kd, 0, 0, 0], [b, o0, h, wd, ci]);
        const wk = tf.reshape(tf.slice(w, [kd, 0, 0, 0, 0], [1, k1, k2, ci, co]), [k1, k2, ci, co]) as tf.Tensor4D;
        return tf.conv2d(tf.reshape(xs, [b * o0, h, wd, ci]) as tf.Tensor4D, wk, 1, hwPad);
      });
      acc = accumulate(acc, y);
    }
    return tf.reshape(acc!, [b, o0, o1, o2, co]) as tf.Tensor5D;
  });
}

function forwardTaps(x: tf.Tensor5D, w: tf.Tensor5D, pads: Pads3): tf.Tensor5D {
  return tf.tidy(() => {
    const [b, , , , ci] = x.shape;
    const [k0, k1, k2, , co] = w.shape;
    const [o0, o1, o2] = outSize(x, w, pads);
    const xp = pads.some(([p, q]) => p || q) ? tf.pad(x, [[0, 0], ...pads, [0, 0]]) : x;
    const m = b * o0 * o1 * o2;
    let acc: tf.Tensor2D | null = null;
    for (let kd = 0; kd < k0; kd++)
      for (let kh = 0; kh < k1; kh++)
        for (let kw = 0; kw < k2; kw++) {
          const y = tf.tidy(() => {
            const xs = tf.slice(xp, [0, kd, kh, kw, 0], [b, o0, o1, o2, ci]);
            const wt = tf.reshape(tf.slice(w, [kd, kh, kw, 0, 0], [1, 1, 1, ci, co]), [ci, co]) as tf.Tensor2D;
            return tf.matMul(tf.reshape(xs, [m, ci]) as tf.Tensor2D, wt);
          }) as tf.Tensor2D;
          acc = accumulate(acc, y);
        }
    return tf.reshape(acc!, [b, o0, o1, o2, co]) as tf.Tensor5D;
  });
}

/**
 * dL/dw [k0,k1,k2,Ci,Co] for y = forwardStride1(x, w, pads), by the given form:
 * "taps": per tap slice(xpad, t)ᵀ @ dy (27 thin matMuls);
 * "conv2d": per sample and kd ONE conv2d in which dy is the filter: batch = Ci, spatial = (S1, S2),
 * in-channels = depth: dw[kd, kh, kw, ci, co] = Σ_{d,h,w} xpad[d+kd, h+kh, w+kw, ci]·dy[d, h, w, co].
 */
export function filterGradStride1(
  x: tf.Tensor5D,
  dy: tf.Tensor5D,
  pads: Pads3,
  kernel: [number, number, number],
  form: Stride1Form = "taps",
): tf.Tensor5D {
  return form === "conv2d" ? filterGradConv2d(x, dy, pads, kernel) : filterGradTaps(x, dy, pads, kernel);
}

function filterGradConv2d(x: tf.Tensor5D, dy: tf.Tensor5D, pads: Pads3, kernel: [number, number, number]): tf.Tensor5D {
  const b = x.shape[0];
  if (b === 1) return filterGradConv2dOne(x, dy, pads, kernel);
  // one sample at a time: with B = 1 the transposes below drop to rank 4, which tfjs-backend-wasm
  // runs in C (≈2 ms at 32³×16); a full rank-5 permutation takes its generic path (≈50 ms)
  return tf.tidy(() => {
    let acc: tf.Tensor5D | null = null;
    for (let i = 0; i < b; i++) {
      const g = tf.tidy(() => {
        const xi = tf.slice(x, [i, 0, 0, 0, 0], [1, -1, -1, -1, -1]) as tf.Tensor5D;
        const di = tf.slice(dy, [i, 0, 0, 0, 0], [1, -1, -1, -1, -1]) as tf.Tensor5D;
        return filterGradConv2dOne(xi, di, pads, kernel);
      });
      acc = accumulate(acc, g);
    }
    return acc!;
  });
}

function filterGradConv2dOne(
  x: tf.Tensor5D,
  dy: tf.Tensor5D,
  pads: Pads3,
  kernel: [number, number, number],
): tf.Tensor5D {
  return tf.tidy(() => {
    const [, , h, wd, ci] = x.shape;
    const [, o0, o1, o2, co] = dy.shape;
    const [k0, k1, k2] = kernel;
    const { xp, hwPad } = padDepth(x, pads);
    // (transposes written at rank ≤ 3: see patch-conv.ts on wasm's slow generic rank-5+ transpose)
    const dp = xp.shape[1];
    const xT = tf.reshape(tf.transpose(tf.reshape(xp, [dp, h * wd, ci]), [2, 1, 0]), [ci, h, wd, dp]); // [Ci, S1, S2, Dp]
    const filt = tf.reshape(tf.transpose(tf.reshape(dy, [o0, o1 * o2, co]), [1, 0, 2]), [
      o1,
      o2,
      o0,
      co,
    ]) as tf.Tensor4D;
    const parts: tf.Tensor4D[] = [];
    for (let kd = 0; kd < k0; kd++) {
      parts.push(
        tf.tidy(() => {
          const xs = kd === 0 && o0 === xT.shape[3] ? xT : tf.slice(xT, [0, 0, 0, kd], [ci, h, wd, o0]);
          return tf.conv2d(xs as tf.Tensor4D, filt, 1, hwPad); // [Ci, k1, k2, Co]
        }),
      );
    }
    const g = parts.length === 1 ? parts[0] : tf.stack(parts); // [k0, Ci, k1, k2, Co]
    return tf.reshape(tf.transpose(tf.reshape(g, [k0, ci, k1 * k2, co]), [0, 2, 1, 3]), [
      k0,
      k1,
      k2,
      ci,
      co,
    ]) as tf.Tensor5D;
  });
}

function filterGradTaps(x: tf.Tensor5D, dy: tf.Tensor5D, pads: Pads3, kernel: [number, number, number]): tf.Tensor5D {
  return tf.tidy(() => {
    const [b, , , , ci] = x.shape;
    const [, o0, o1, o2, co] = dy.shape;
    const [k0, k1, k2] = kernel;
    const xp = pads.some(([p, q]) => p || q) ? tf.pad(x, [[0, 0], ...pads, [0, 0]]) : x;
    const m = b * o0 * o1 * o2;
    const dy2 = tf.reshape(dy, [m, co]) as tf.Tensor2D;
    const parts: tf.Tensor2D[] = [];
    for (let kd = 0; kd < k0; kd++)
      for (let kh = 0; kh < k1; kh++)
        for (let kw = 0; kw < k2; kw++) {
          parts.push(
            tf.tidy(() => {
              const xs = tf.reshape(tf.slice(xp, [0, kd, kh, kw, 0], [b, o0, o1, o2, ci]), [m, ci]) as tf.Tensor2D;
              return tf.matMul(xs, dy2, true, false); // [Ci, Co]
            }),
          );
        }
    return tf.reshape(parts.length === 1 ? parts[0] : tf.stack(parts), [k0, k1, k2, ci, co]) as tf.Tensor5D;
  });
}

/** w [k0,k1,k2,Ci,Co] → spatially flipped, [k0,k1,k2,Co,Ci]: the kernel of the input gradient. */
export function flipKernel(w: tf.Tensor5D): tf.Tensor5D {
  return tf.tidy(() => {
    const [k0, k1, k2, ci, co] = w.shape;
    const t = tf.transpose(tf.reshape(tf.reverse(w, [0, 1, 2]), [k0 * k1 * k2, ci, co]), [0, 2, 1]);
    return tf.reshape(t, [k0, k1, k2, co, ci]) as tf.Tensor5D;
  });
}

/**
 * Differentiable stride-1 convolution of zero-padded x with w [k0,k1,k2,Ci,Co]. Input gradient
 * and filter gradient are computed by the forms above (never by tfjs' Conv3DBackprop* kernels,
 * which are wrong on wasm). No second-order gradients.
 */
export function conv3dStride1(x: tf.Tensor5D, w: tf.Tensor5D, pads: Pads3, form: Stride1Form): tf.Tensor5D {
  const kernel: [number, number, number] = [w.shape[0], w.shape[1], w.shape[2]];
  // y = Σ_t xpad[o+t] w[t] ⇒ dx = "full" correlation of dy with the flipped kernel, cropped back to
  // x: pads k-1-before, k-1-after
  const dxPads = pads.map(([pb, pa], i) => [kernel[i] - 1 - pb, kernel[i] - 1 - pa]) as Pads3;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, ww, save] = args as [tf.Tensor5D, tf.Tensor5D, tf.GradSaveFunc];
    save([xx, ww]);
    return {
      value: forwardStride1(xx, ww, pads, form),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor5D, tf.Tensor5D];
        const dx = tf.tidy(() => forwardStride1(dy as tf.Tensor5D, flipKernel(ws), dxPads, form));
        const dw = filterGradStride1(xs, dy as tf.Tensor5D, pads, kernel, form);
        return [dx, dw];
      },
    };
  });
  return f(x, w) as tf.Tensor5D;
}
