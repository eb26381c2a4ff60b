import * as tf from "@tensorflow/tfjs-core";
import {
  channelsOf,
  classWeights,
  fmtShape,
  type LossReduction,
  meanAll,
  oneHotLabels,
  requireChannelLast,
  shapeError,
  sumAll,
  sumChannels,
} from "./shapes.js";

export interface CrossEntropyOptions {
  /** per-class rescaling weights (torch `weight`) */
  weight?: readonly number[];
  reduction?: LossReduction;
  /** torch `label_smoothing` in [0, 1] */
  label_smoothing?: number;
  /** the one-hot of class-index labels when the caller already has it (DiceCELoss shares it with Dice) */
  labelsOneHot?: tf.Tensor;
}

/**
 * torch `nn.CrossEntropyLoss` on channel-last raw logits `[B, S..., C]` (softmax over the last axis).
 * - class-index target `[B, S..., 1]`: per voxel (1−ε)·w_y·(−log p_y) + ε/C·Σ_c w_c·(−log p_c); "mean" divides
 *   the sum by Σ w_y over voxels (by the voxel count without weights), exactly as torch's weighted mean;
 * - class-probability target `[B, S..., C]` (one-hot or soft): t' = t(1−ε) + ε/C, per voxel −Σ_c w_c t'_c log p_c;
 *   "mean" divides by the voxel count (not by the weights), as torch does for probability targets.
 * "none" returns the per-voxel loss `[B, S...]`.
 */
export function crossEntropyLoss(logits: tf.Tensor, target: tf.Tensor, opts: CrossEntropyOptions = {}): tf.Tensor {
  const name = "CrossEntropyLoss";
  requireChannelLast(name, "input", logits);
  requireChannelLast(name, "target", target);
  const c = channelsOf(logits);
  const tc = channelsOf(target);
  const sameSpatial = logits.rank === target.rank && logits.shape.slice(0, -1).every((d, i) => d === target.shape[i]);
  if (!sameSpatial || (tc !== 1 && tc !== c) || c === 1) {
    shapeError(
      name,
      "target must be class indices [B, S..., 1] or class probabilities [B, S..., C] matching the logits",
      `logits [B, S..., C>1] with target [B, S..., 1] or [B, S..., C]`,
      `logits ${fmtShape(logits)}, target ${fmtShape(target)}`,
    );
  }
  const reduction = opts.reduction ?? "mean";
  const eps = opts.label_smoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) {
    shapeError(name, "label_smoothing must lie in [0, 1]", "0 <= label_smoothing <= 1", `${eps}`);
  }
  return tf.tidy(() => {
    const logp = tf.tidy(() => tf.logSoftmax(logits.dtype === "float32" ? logits : tf.cast(logits, "float32"), -1));
    const w = opts.weight !== undefined ? classWeights(name, opts.weight, c) : undefined;
    if (tc === 1 && c !== 1) {
      return classIndexCE(logp, opts.labelsOneHot ?? oneHotLabels(target, c), w, eps, reduction);
    }
    // class probabilities: per voxel −Σ_c w_c·t'_c·log p_c with t' = t(1−ε) + ε/C
    const perVoxel = tf.tidy(() => {
      let t = target.dtype === "float32" ? target : tf.cast(target, "float32");
      if (eps > 0) t = tf.add(tf.mul(t, 1 - eps), eps / c);
      return tf.neg(sumChannels(tf.mul(logp, w ? tf.mul(t, w) : t)));
    });
    if (reduction === "none") return perVoxel;
    return reduction === "sum" ? sumAll(perVoxel) : meanAll(perVoxel);
  });
}

/** class-index CE from log-probabilities and the one-hot of the labels (torch's weighted-mean semantics) */
function classIndexCE(
  logp: tf.Tensor,
  y: tf.Tensor,
  w: tf.Tensor | undefined,
  eps: number,
  reduction: LossReduction,
): tf.Tensor {
  const c = logp.shape[logp.rank - 1];
  // per-voxel quantities are 1/C of the logits' size; each full-size product lives only inside its tidy
  const nll = tf.tidy(() => tf.neg(sumChannels(tf.mul(y, logp)))); // −log p_y
  const wy = w ? tf.tidy(() => sumChannels(tf.mul(y, w))) : undefined; // w_y
  const nllW = wy ? tf.mul(nll, wy) : nll;
  let perVoxel = nllW;
  if (eps > 0) {
    const smooth = tf.tidy(() => tf.neg(sumChannels(w ? tf.mul(logp, w) : logp))); // Σ_c −w_c log p_c
    perVoxel = tf.add(tf.mul(1 - eps, nllW), tf.mul(eps / c, smooth));
  }
  if (reduction === "none") return perVoxel;
  if (reduction === "sum") return sumAll(perVoxel);
  return wy ? tf.div(sumAll(perVoxel), sumAll(wy)) : meanAll(perVoxel);
}

export interface BceWithLogitsOptions {
  /** torch `pos_weight` (broadcast against the target) */
  pos_weight?: number | readonly number[];
  reduction?: LossReduction;
}

/**
 * torch `nn.BCEWithLogitsLoss` (what DiceCELoss uses for single-channel input):
 * (1−y)·x + (1 + (pw−1)·y)·(log(1 + e^{−|x|}) + max(−x, 0)), elementwise, then reduced.
 */
export function bceWithLogitsLoss(logits: tf.Tensor, target: tf.Tensor, opts: BceWithLogitsOptions = {}): tf.Tensor {
  if (logits.rank !== target.rank || logits.shape.some((d, i) => d !== target.shape[i])) {
    shapeError(
      "BCEWithLogitsLoss",
      "target must have the same shape as the logits",
      fmtShape(logits),
      fmtShape(target),
    );
  }
  const reduction = opts.reduction ?? "mean";
  return tf.tidy(() => {
    const x = logits.dtype === "float32" ? logits : tf.cast(logits, "float32");
    const y = target.dtype === "float32" ? target : tf.cast(target, "float32");
    const softplusNeg = tf.add(tf.log1p(tf.exp(tf.neg(tf.abs(x)))), tf.relu(tf.neg(x)));
    let logWeight: tf.Tensor | undefined;
    if (opts.pos_weight !== undefined) {
      const pw = typeof opts.pos_weight === "number" ? tf.scalar(opts.pos_weight) : tf.tensor1d([...opts.pos_weight]);
      logWeight = tf.add(tf.mul(tf.sub(pw, 1), y), 1);
    }
    const loss = tf.add(tf.mul(tf.sub(1, y), x), logWeight ? tf.mul(logWeight, softplusNeg) : softplusNeg);
    if (reduction === "none") return loss;
    return reduction === "sum" ? sumAll(loss) : meanAll(loss);
  });
}
