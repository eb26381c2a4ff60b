import * as tf from "@tensorflow/tfjs-core";
import { fusedSoftmaxDiceCE, fusedTarget } from "./fused-softmax.js";
import {
  channelsOf,
  classWeights,
  dropFirstChannel,
  fmtShape,
  type LossReduction,
  oneHotLabels,
  requireChannelLast,
  requireOneHotable,
  requireSameSpatial,
  shapeError,
  sumVoxels,
  type WarnFn,
} from "./shapes.js";

/** MONAI `DiceLoss` arguments (same names and defaults, monai-semantics §4.2). */
export interface DiceLossOptions {
  include_background?: boolean;
  to_onehot_y?: boolean;
  sigmoid?: boolean;
  softmax?: boolean;
  /** any other activation applied after sigmoid/softmax (MONAI `other_act`) */
  other_act?: (x: tf.Tensor) => tf.Tensor;
  squared_pred?: boolean;
  jaccard?: boolean;
  reduction?: LossReduction;
  smooth_nr?: number;
  smooth_dr?: number;
  batch?: boolean;
  /** per-class weights (of the classes left after include_background), or one weight for all */
  weight?: number | readonly number[];
  /** receives MONAI's warnings (single-channel input with softmax / to_onehot_y / include_background=false) */
  warn?: WarnFn;
  /**
   * softmax configurations use an analytic gradient (fused-softmax.ts: same values, ~3× less memory than autodiff);
   * false forces plain autodiff (used by the tests to check one against the other)
   */
  fused?: boolean;
}

/**
 * MONAI `DiceLoss` on channel-last tensors. `input` `[B, S..., C]` (logits or probabilities), `target` either
 * labels `[B, S..., 1]` (with to_onehot_y) or one-hot / soft `[B, S..., C]`.
 *
 * f[b,c] = 1 − (2·Σpg + smooth_nr) / (D + smooth_dr), D = Σg + Σp (Σg² + Σp² if squared_pred), jaccard: D = 2(D − Σpg);
 * sums over the spatial axes (and the batch axis if batch). Returns a scalar for "mean"/"sum"; for "none" the
 * unreduced values `[B, 1, ..., 1, C]` (batch: `[1, ..., 1, C]`), the channel-last form of MONAI's `[B, C, 1, 1, 1]`.
 */
export function diceLoss(input: tf.Tensor, target: tf.Tensor, opts: DiceLossOptions = {}): tf.Tensor {
  // Long by design: mirrors MONAI 1.4's DiceLoss.forward in its order (activation, one-hot, include_background,
  // sums, jaccard/squared_pred, weights, reduction) so parity can be checked line against line.
  const name = "DiceLoss";
  requireChannelLast(name, "input", input);
  requireChannelLast(name, "target", target);
  requireSameSpatial(name, input, target);
  const reduction = opts.reduction ?? "mean";
  const smoothNr = opts.smooth_nr ?? 1e-5;
  const smoothDr = opts.smooth_dr ?? 1e-5;
  const warn = opts.warn ?? (() => {});
  const nPred = channelsOf(input);
  const tc = channelsOf(target);
  requireOneHotable(name, opts.to_onehot_y, input, target);
  if (
    opts.fused !== false &&
    opts.softmax &&
    !opts.sigmoid &&
    !opts.other_act &&
    nPred > 1 &&
    reduction !== "none" &&
    input.rank === target.rank &&
    (tc === nPred || (tc === 1 && opts.to_onehot_y))
  ) {
    return tf.tidy(() => {
      const { y, labelTarget } = fusedTarget(target, nPred);
      const parts = fusedSoftmaxDiceCE(input, y, labelTarget, {
        include_background: opts.include_background ?? true,
        squared_pred: opts.squared_pred ?? false,
        jaccard: opts.jaccard ?? false,
        smooth_nr: smoothNr,
        smooth_dr: smoothDr,
        batch: opts.batch ?? false,
        reduction,
        dice_weight: opts.weight,
        label_smoothing: 0,
        lambda_dice: 1,
        lambda_ce: 0,
        with_ce: false,
      });
      return tf.reshape(tf.slice(parts, [0], [1]), []);
    });
  }
  return tf.tidy(() => {
    // each stage runs in its own tidy so full-size temporaries (products, int32 one-hot) are freed as soon as they
    // are reduced; what backprop needs is kept by the tape itself
    let x = tf.tidy(() => {
      let v = input.dtype === "float32" ? input : tf.cast(input, "float32");
      if (opts.sigmoid) v = tf.sigmoid(v);
      if (opts.softmax) {
        if (nPred === 1) warn("single channel prediction, `softmax=True` ignored.");
        else v = tf.softmax(v, -1);
      }
      return opts.other_act ? opts.other_act(v) : v;
    });
    let y = target;
    if (opts.to_onehot_y) {
      if (nPred === 1) warn("single channel prediction, `to_onehot_y=True` ignored.");
      else y = oneHotLabels(y, nPred);
    }
    if (y.dtype !== "float32") y = tf.cast(y, "float32");
    if (!(opts.include_background ?? true)) {
      if (nPred === 1) warn("single channel prediction, `include_background=False` ignored.");
      else {
        x = dropFirstChannel(x);
        y = dropFirstChannel(y);
      }
    }
    if (x.shape.some((d, i) => d !== y.shape[i]) || x.rank !== y.rank) {
      shapeError(
        name,
        "ground truth has different shape than the prediction",
        `target ${fmtShape(x)} after one-hot / background removal`,
        `target ${fmtShape(y)} (input ${fmtShape(input)}, target as given ${fmtShape(target)})`,
        "labels [B, S0, S1, S2, 1] need to_onehot_y: true; one-hot targets need as many channels as the input",
      );
    }
    const sum = (t: () => tf.Tensor) =>
      tf.tidy(() => {
        const perItem = sumVoxels(t()); // [B, C]
        return opts.batch ? tf.sum(perItem, 0) : perItem;
      });
    const xx = x;
    const yy = y;
    const intersection = sum(() => tf.mul(yy, xx));
    const groundO = sum(() => (opts.squared_pred ? tf.square(yy) : yy));
    const predO = sum(() => (opts.squared_pred ? tf.square(xx) : xx));
    let denominator = tf.add(groundO, predO);
    if (opts.jaccard) denominator = tf.mul(2, tf.sub(denominator, intersection));
    let f = tf.sub(1, tf.div(tf.add(tf.mul(2, intersection), smoothNr), tf.add(denominator, smoothDr)));
    const numClasses = channelsOf(y);
    // MONAI applies class weights only when more than one class is left
    if (opts.weight !== undefined && numClasses !== 1) f = tf.mul(f, classWeights(name, opts.weight, numClasses));
    if (reduction === "mean") return tf.mean(f);
    if (reduction === "sum") return tf.sum(f);
    const shape = new Array<number>(input.rank).fill(1);
    shape[input.rank - 1] = numClasses;
    if (!opts.batch) shape[0] = input.shape[0];
    return tf.reshape(f, shape);
  });
}
