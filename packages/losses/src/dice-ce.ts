import * as tf from "@tensorflow/tfjs-core";
import { bceWithLogitsLoss, crossEntropyLoss } from "./cross-entropy.js";
import { type DiceLossOptions, diceLoss } from "./dice.js";
import { fusedSoftmaxDiceCE, fusedTarget } from "./fused-softmax.js";
import {
  channelsOf,
  fmtShape,
  oneHotLabels,
  requireChannelLast,
  requireOneHotable,
  requireSameSpatial,
  shapeError,
} from "./shapes.js";

/** MONAI `DiceCELoss` arguments (monai-semantics §4.3); reduction is "mean" or "sum" only, as in MONAI. */
export interface DiceCELossOptions extends Omit<DiceLossOptions, "reduction" | "weight"> {
  reduction?: "mean" | "sum";
  /** class weights for the CE term (all classes) and for Dice (weight[1:] when include_background is false) */
  weight?: readonly number[];
  lambda_dice?: number;
  lambda_ce?: number;
  label_smoothing?: number;
}

export interface DiceCEParts {
  total: tf.Scalar;
  dice: tf.Scalar;
  ce: tf.Scalar;
}

/**
 * `lambda_dice · DiceLoss + lambda_ce · CE` exactly as MONAI 1.4: CE on the raw logits (softmax/sigmoid only
 * affect Dice), labels `[B, S..., 1]` are class indices, a `[B, S..., C]` target is class probabilities,
 * CE always covers every class, single-channel input uses BCEWithLogits with `pos_weight = weight`.
 * Softmax configurations use the analytic gradient of fused-softmax.ts (same values, far less memory).
 */
export function diceCELossParts(input: tf.Tensor, target: tf.Tensor, opts: DiceCELossOptions = {}): DiceCEParts {
  // Long by design: mirrors MONAI 1.4's DiceCELoss (its shape checks, the CE/BCE choice, Dice on the same
  // inputs) in its order, for parity line against line.
  const name = "DiceCELoss";
  requireChannelLast(name, "input", input);
  requireChannelLast(name, "target", target);
  if (input.rank !== target.rank) {
    shapeError(
      name,
      "input and target must have the same number of dimensions",
      `rank ${input.rank} like the input ${fmtShape(input)}`,
      `target ${fmtShape(target)}`,
      "labels need a trailing channel axis of size 1: [B, S0, S1, S2, 1]",
    );
  }
  requireSameSpatial(name, input, target);
  const c = channelsOf(input);
  const tc = channelsOf(target);
  if (tc !== 1 && tc !== c) {
    shapeError(
      name,
      "number of channels for target is neither 1 (labels) nor the same as input (one-hot)",
      `target channels 1 or ${c}`,
      `target ${fmtShape(target)}`,
    );
  }
  requireOneHotable(name, opts.to_onehot_y, input, target);
  const lambdaDice = opts.lambda_dice ?? 1;
  const lambdaCe = opts.lambda_ce ?? 1;
  if (lambdaDice < 0 || lambdaCe < 0) {
    shapeError(name, "lambda_dice and lambda_ce should be no less than 0", ">= 0", `${lambdaDice}, ${lambdaCe}`);
  }
  const reduction = opts.reduction ?? "mean";
  const includeBackground = opts.include_background ?? true;
  const diceWeight = opts.weight !== undefined && !includeBackground ? opts.weight.slice(1) : opts.weight;
  if (
    opts.fused !== false &&
    opts.softmax &&
    !opts.sigmoid &&
    !opts.other_act &&
    c > 1 &&
    (tc === c || opts.to_onehot_y)
  ) {
    return tf.tidy(() => {
      const { y, labelTarget } = fusedTarget(target, c);
      const parts = fusedSoftmaxDiceCE(input, y, labelTarget, {
        include_background: includeBackground,
        squared_pred: opts.squared_pred ?? false,
        jaccard: opts.jaccard ?? false,
        smooth_nr: opts.smooth_nr ?? 1e-5,
        smooth_dr: opts.smooth_dr ?? 1e-5,
        batch: opts.batch ?? false,
        reduction,
        dice_weight: diceWeight,
        ce_weight: opts.weight,
        label_smoothing: opts.label_smoothing ?? 0,
        lambda_dice: lambdaDice,
        lambda_ce: lambdaCe,
        with_ce: true,
      });
      const [total, dice, ce] = tf.unstack(parts) as tf.Scalar[];
      return { total, dice, ce };
    });
  }
  return tf.tidy(() => {
    // labels are one-hot encoded once and shared by both terms (a [B, 96³, 14] one-hot is 49.5 MB per item)
    const labelsOneHot = tc === 1 && c > 1 ? oneHotLabels(target, c) : undefined;
    const diceTarget = labelsOneHot && opts.to_onehot_y ? labelsOneHot : target;
    const diceOpts = { ...opts, reduction, weight: diceWeight, to_onehot_y: opts.to_onehot_y && !labelsOneHot };
    const dice = diceLoss(input, diceTarget, diceOpts) as tf.Scalar;
    const ce = (
      c !== 1
        ? crossEntropyLoss(input, target, {
            weight: opts.weight,
            reduction,
            label_smoothing: opts.label_smoothing,
            labelsOneHot,
          })
        : bceWithLogitsLoss(input, target, { pos_weight: opts.weight, reduction })
    ) as tf.Scalar;
    const total = tf.add(tf.mul(lambdaDice, dice), tf.mul(lambdaCe, ce)) as tf.Scalar;
    return { total, dice, ce };
  });
}

/** MONAI `DiceCELoss`: the total only. */
export function diceCELoss(input: tf.Tensor, target: tf.Tensor, opts: DiceCELossOptions = {}): tf.Scalar {
  return tf.tidy(() => diceCELossParts(input, target, opts).total);
}
