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

/** Spatial axes of a channel-last tensor: 1 .. rank-2. */
export function spatialAxes(rank: number): number[] {
  const axes: number[] = [];
  for (let a = 1; a < rank - 1; a++) axes.push(a);
  return axes;
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

/**
 * Integer class labels `[B, ..., 1]` → one-hot float32 `[B, ..., C]` (MONAI `one_hot`: labels are truncated
 * to integers; `tf.oneHot` on int32 has a forward kernel on every backend and labels need no gradient).
 */
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

/**
 * Sum of all elements as two nested reductions over a `[rows, cols]` view (cols = the divisor of n closest to √n).
 * The wasm backend accumulates reductions sequentially in float32 (error ∝ n; 7e-6 relative for a 65k-voxel L1),
 * nested sums bring that down to ∝ √n. Same value on cpu, which accumulates in float64 already.
 */
export function sumAll(t: tf.Tensor): tf.Scalar {
  const n = t.size;
  let cols = 1;
  for (let d = Math.floor(Math.sqrt(n)); d >= 2; d--) {
    if (n % d === 0) {
      cols = d;
      break;
    }
  }
  if (cols < 16) return tf.sum(t); // (nearly) prime sizes: no useful factorisation
  return tf.sum(tf.sum(tf.reshape(t, [n / cols, cols]), 1));
}

export function meanAll(t: tf.Tensor): tf.Scalar {
  return tf.div(sumAll(t), t.size);
}

/** Sum over the given axes one axis at a time (last first): nested reductions, for the same reason as sumAll. */
export function sumAxes(t: tf.Tensor, axes: readonly number[]): tf.Tensor {
  let r = t;
  for (const a of [...axes].sort((x, y) => y - x)) r = tf.sum(r, a);
  return r;
}

export function reduce(t: tf.Tensor, reduction: LossReduction): tf.Tensor {
  if (reduction === "mean") return meanAll(t);
  if (reduction === "sum") return sumAll(t);
  return t;
}
