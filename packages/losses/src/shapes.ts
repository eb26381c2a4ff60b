import * as tf from "@tensorflow/tfjs-core";
import { Codes, VoxelpipeError } from "@voxelpipe/core";

/** Receives MONAI's `warnings.warn` messages (e.g. "single channel prediction, softmax ignored"). */
export type WarnFn = (message: string) => void;

/** Reductions shared by the losses (MONAI `LossReduction`). */
export type LossReduction = "mean" | "sum" | "none";

/** Throws a runtime diagnostic naming the loss, what was expected, what was found and a hint. */
export function shapeError(loss: string, message: string, expected: string, got: string, hint?: string): never {
  throw new VoxelpipeError({ code: Codes.runtime, message: `${loss}: ${message}`, expected, got, hint });
}

export function fmtShape(t: tf.Tensor): string {
  return `[${t.shape.join(", ")}]`;
}

/** Channel count of a channel-last tensor `[B, S0, ..., C]`. */
export function channelsOf(t: tf.Tensor): number {
  return t.shape[t.rank - 1];
}

/** Requires `[B, spatial..., C]` with at least one spatial axis. */
export function requireChannelLast(loss: string, name: string, t: tf.Tensor): void {
  if (t.rank < 3) {
    shapeError(
      loss,
      `${name} must be channel-last [B, S0, S1, S2, C] (at least one spatial axis)`,
      "rank >= 3",
      `shape ${fmtShape(t)}`,
      "labels need a trailing channel axis of size 1, e.g. [B, S0, S1, S2, 1]",
    );
  }
}

/** Input and target must agree on batch and spatial axes (channels are checked by each loss). */
export function requireSameSpatial(loss: string, input: tf.Tensor, target: tf.Tensor): void {
  const a = input.shape.slice(0, -1);
  const b = target.shape.slice(0, -1);
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    shapeError(
      loss,
      "input and target must have the same batch and spatial shape",
      `target [${[...a, "C or 1"].join(", ")}]`,
      `input ${fmtShape(input)}, target ${fmtShape(target)}`,
    );
  }
}

/**
 * Integer class labels `[B, ..., 1]` → one-hot float32 `[B, ..., C]` (MONAI `one_hot`: labels are truncated
 * to integers; `tf.oneHot` on int32 has a forward kernel on every backend and labels need no gradient).
 */
/** to_onehot_y turns integer labels [B, S..., 1] into one-hot: a target with more channels is a config error */
export function requireOneHotable(
  loss: string,
  toOnehotY: boolean | undefined,
  input: tf.Tensor,
  target: tf.Tensor,
): void {
  if (toOnehotY && channelsOf(input) > 1 && channelsOf(target) !== 1) {
    shapeError(
      loss,
      "to_onehot_y needs integer labels with one channel",
      "target [B, S0, S1, S2, 1]",
      `target ${fmtShape(target)}`,
      "a target that is already one-hot needs to_onehot_y: false",
    );
  }
}

export function oneHotLabels(labels: tf.Tensor, numClasses: number): tf.Tensor {
  return tf.tidy(() => {
    const flat = tf.cast(tf.reshape(labels, [-1]), "int32");
    const oh = tf.cast(tf.oneHot(flat, numClasses), "float32");
    return tf.reshape(oh, [...labels.shape.slice(0, -1), numClasses]);
  });
}

/** Drops channel 0 (background) of a channel-last tensor. */
export function dropFirstChannel(t: tf.Tensor): tf.Tensor {
  const begin = new Array<number>(t.rank).fill(0);
  begin[t.rank - 1] = 1;
  return tf.slice(t, begin, new Array<number>(t.rank).fill(-1));
}

/** Per-class weights as a float32 `[C]` tensor: a scalar is repeated for every class (MONAI). */
export function classWeights(loss: string, weight: number | readonly number[], numClasses: number): tf.Tensor1D {
  const list = typeof weight === "number" ? new Array<number>(numClasses).fill(weight) : [...weight];
  if (list.length !== numClasses) {
    shapeError(
      loss,
      "the number of class weights must equal the number of classes",
      `${numClasses} weights`,
      `${list.length} weights`,
      "with include_background: false, DiceLoss weights exclude class 0 (DiceCELoss drops weight[0] for you)",
    );
  }
  if (list.some((w) => w < 0 || !Number.isFinite(w))) {
    shapeError(loss, "class weights must be finite and no less than 0", "weights >= 0", `[${list.join(", ")}]`);
  }
  return tf.tensor1d(list, "float32");
}

/*
 * Reductions as matMuls with a ones vector. Three reasons, all measured on [1, 96³, 14] logits:
 * - accuracy: the wasm backend accumulates sums in float32 one element after the other (error ∝ n: 7e-6 relative
 *   for a 65k-voxel L1); summing in two levels of ≈ √n keeps the error ∝ √n. cpu matMul accumulates 48-term
 *   blocks in float64, so it is as good as tf.sum there;
 * - memory: tf.sum's gradient materialises ones(x.shape) and a broadcast product (two full-size tensors), a matMul's
 *   gradient is one outer product; a sum over non-innermost axes also transposes the whole tensor first;
 * - speed: broadcast multiplies are the slowest kernels of the cpu backend (80 ns/element).
 */

/** a divisor of n in [16, √n], as large as possible (0 when there is none) */
function splitFactor(n: number): number {
  for (let d = Math.floor(Math.sqrt(n)); d >= 16; d--) if (n % d === 0) return d;
  return 0;
}

/** forward of {@link sumMiddle}: two matMul levels when N factors as k·m */
function sumMiddleForward(t: tf.Tensor): tf.Tensor2D {
  const [p, n, c] = t.shape;
  const m = splitFactor(n);
  if (m === 0) return tf.reshape(tf.matMul(tf.ones([1, 1, n]), t), [p, c]);
  const k = n / m;
  const level1 = tf.matMul(tf.ones([1, 1, m]), tf.reshape(t, [p * k, m, c])); // [p·k, 1, c]
  return tf.reshape(tf.matMul(tf.ones([1, 1, k]), tf.reshape(level1, [p, k, c])), [p, c]);
}

const sumMiddleWithGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const t = args[0] as tf.Tensor;
  const n = t.shape[1] as number;
  return {
    value: sumMiddleForward(t) as tf.Tensor,
    gradFunc: (dy: tf.Tensor) => tf.matMul(tf.ones([1, n, 1]), tf.expandDims(dy, 1)), // [P, N, C]
  };
});

/**
 * Σ over the middle axis of `[P, N, C]` → `[P, C]`. A custom gradient (dy broadcast back by one matMul) so that the
 * tape saves nothing: a plain matMul would keep its full-size input alive until the backward pass ends.
 */
export function sumMiddle(t: tf.Tensor): tf.Tensor2D {
  return sumMiddleWithGrad(t) as tf.Tensor2D;
}

/** Sum of all elements (two-level, see above). */
export function sumAll(t: tf.Tensor): tf.Scalar {
  return tf.reshape(sumMiddle(tf.reshape(t, [1, t.size, 1])), []);
}

export function meanAll(t: tf.Tensor): tf.Scalar {
  return tf.div(sumAll(t), t.size);
}

/** Σ over the spatial axes of a channel-last `[B, S..., C]` tensor → `[B, C]`. */
export function sumVoxels(t: tf.Tensor): tf.Tensor2D {
  const b = t.shape[0];
  const c = t.shape[t.rank - 1];
  return sumMiddle(tf.reshape(t, [b, t.size / (b * c), c]));
}

/** Σ over the last axis of `[M, C]` → `[M]`: one matMul, custom gradient as for sumMiddle. */
const sumRows = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const t = args[0] as tf.Tensor;
  const [m, c] = t.shape as [number, number];
  return {
    value: tf.reshape(tf.matMul(t as tf.Tensor2D, tf.ones([c, 1])), [m]),
    gradFunc: (dy: tf.Tensor) => tf.matMul(tf.expandDims(dy, 1), tf.ones([1, c])), // [M, C]
  };
});

/** Σ over the channel (last) axis → the leading shape. */
export function sumChannels(t: tf.Tensor): tf.Tensor {
  const c = t.shape[t.rank - 1];
  return tf.reshape(sumRows(tf.reshape(t, [-1, c])), t.shape.slice(0, -1));
}

export function reduce(t: tf.Tensor, reduction: LossReduction): tf.Tensor {
  if (reduction === "mean") return meanAll(t);
  if (reduction === "sum") return sumAll(t);
  return t;
}
