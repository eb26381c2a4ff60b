import * as tf from "@tensorflow/tfjs-core";
import { classWeights, dropFirstChannel, meanAll, oneHotLabels, sumAll, sumChannels, sumVoxels } from "./shapes.js";

/**
 * Softmax Dice + cross entropy with a hand-written gradient w.r.t. the logits.
 *
 * Why: autodiff through softmax, logSoftmax, one-hot products and reductions keeps ~26 logits-sized buffers alive
 * at the peak of the backward pass (1.3 GB of wasm heap for one [1, 96³, 14] patch, measured); the analytic
 * gradient needs p = softmax(x), the one-hot y and a few temporaries (~8). Values are computed exactly as in the
 * autodiff path (same formulas, same reductions); tests compare both paths' values and gradients.
 *
 * Used for MONAI's softmax configurations (softmax=true, no sigmoid / other_act, C > 1); every other combination
 * goes through plain autodiff.
 */
export interface FusedSoftmaxOptions {
  include_background: boolean;
  squared_pred: boolean;
  jaccard: boolean;
  smooth_nr: number;
  smooth_dr: number;
  batch: boolean;
  reduction: "mean" | "sum";
  /** Dice weights, one per class left after include_background */
  dice_weight?: readonly number[] | number;
  /** CE class weights, all C classes */
  ce_weight?: readonly number[];
  label_smoothing: number;
  lambda_dice: number;
  lambda_ce: number;
  /** false: skip the CE term entirely (DiceLoss alone) */
  with_ce: boolean;
}

interface DiceStats {
  /** [B, K] (or [K] with batch): intersection, 2I + smooth_nr and D' + smooth_dr */
  num: tf.Tensor;
  den: tf.Tensor;
  intersection: tf.Tensor;
}

/** Channels used by Dice: all, or all but background. */
function diceChannels(t: tf.Tensor, includeBackground: boolean): tf.Tensor {
  return includeBackground ? t : dropFirstChannel(t);
}

function diceStats(p: tf.Tensor, y: tf.Tensor, o: FusedSoftmaxOptions): DiceStats {
  return tf.tidy(() => {
    const pk = diceChannels(p, o.include_background);
    const yk = diceChannels(y, o.include_background);
    const sum = (t: tf.Tensor) => {
      const perItem = sumVoxels(t);
      return o.batch ? tf.sum(perItem, 0) : perItem;
    };
    const intersection = sum(tf.mul(yk, pk));
    const g = sum(o.squared_pred ? tf.square(yk) : yk);
    const pp = sum(o.squared_pred ? tf.square(pk) : pk);
    let d = tf.add(g, pp);
    if (o.jaccard) d = tf.mul(2, tf.sub(d, intersection));
    return {
      intersection,
      num: tf.add(tf.mul(2, intersection), o.smooth_nr),
      den: tf.add(d, o.smooth_dr),
    };
  });
}

/** per-entry multiplier of f in the Dice reduction: class weight × (1/E for the mean) */
function diceScale(shape: number[], o: FusedSoftmaxOptions): tf.Tensor {
  const k = shape[shape.length - 1];
  const entries = shape.reduce((a, x) => a * x, 1);
  let s: tf.Tensor = tf.scalar(o.reduction === "mean" ? 1 / entries : 1);
  if (o.dice_weight !== undefined && k !== 1) s = tf.mul(s, classWeights("DiceLoss", o.dice_weight, k));
  return s;
}

/**
 * Returns `[total, dice, ce]` as one `[3]` tensor whose gradient w.r.t. `logits` is analytic
 * (dL/dx = dy₀·(λd·∂dice + λc·∂ce) + dy₁·∂dice + dy₂·∂ce). `y` is the float one-hot (or probability) target.
 */
export function fusedSoftmaxDiceCE(
  logits: tf.Tensor,
  y: tf.Tensor,
  labelTarget: boolean,
  o: FusedSoftmaxOptions,
): tf.Tensor1D {
  const c = logits.shape[logits.rank - 1];
  const eps = o.label_smoothing;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const p = tf.softmax(x, -1);
    const st = diceStats(p, y, o);
    const dice = tf.tidy(() => sumAll(tf.mul(tf.sub(1, tf.div(st.num, st.den)), diceScale(st.num.shape, o))));
    const ce = o.with_ce ? crossEntropyValue(x, y, labelTarget, o) : tf.scalar(0);
    const total = tf.add(tf.mul(o.lambda_dice, dice), tf.mul(o.lambda_ce, ce));
    // y is not an input of the custom op: save it too, the caller's tidy disposes its own handle
    save([p, y, st.num, st.den]);
    return {
      value: tf.stack([total, dice, ce]) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ps, ys, num, den] = saved;
        const [d0, d1, d2] = tf.unstack(dy);
        const cd = tf.add(tf.mul(d0, o.lambda_dice), d1);
        const cc = tf.add(tf.mul(d0, o.lambda_ce), d2);
        const gx = tf.tidy(() => diceGradLogits(ps, ys, num, den, cd, o));
        if (!o.with_ce) return gx;
        const gce = tf.tidy(() => tf.mul(crossEntropyGradLogits(ps, ys, labelTarget, o, c, eps), cc));
        const out = tf.add(gx, gce);
        gx.dispose();
        gce.dispose();
        return out;
      },
    };
  });
  return f(logits) as tf.Tensor1D;
}

/** same CE value as crossEntropyLoss (mean/sum), from logits and the float target */
function crossEntropyValue(x: tf.Tensor, y: tf.Tensor, labelTarget: boolean, o: FusedSoftmaxOptions): tf.Scalar {
  return tf.tidy(() => {
    const c = x.shape[x.rank - 1];
    const eps = o.label_smoothing;
    const logp = tf.logSoftmax(x, -1);
    const w = o.ce_weight !== undefined ? classWeights("CrossEntropyLoss", o.ce_weight, c) : undefined;
    if (labelTarget) {
      const nll = tf.neg(sumChannels(tf.mul(y, logp)));
      const wy = w ? sumChannels(tf.mul(y, w)) : undefined;
      let perVoxel = wy ? tf.mul(nll, wy) : nll;
      if (eps > 0) {
        const smooth = tf.neg(sumChannels(w ? tf.mul(logp, w) : logp));
        perVoxel = tf.add(tf.mul(1 - eps, perVoxel), tf.mul(eps / c, smooth));
      }
      if (o.reduction === "sum") return sumAll(perVoxel);
      return wy ? tf.div(sumAll(perVoxel), sumAll(wy)) : meanAll(perVoxel);
    }
    const t = eps > 0 ? tf.add(tf.mul(y, 1 - eps), eps / c) : y;
    const perVoxel = tf.neg(sumChannels(tf.mul(logp, w ? tf.mul(t, w) : t)));
    return o.reduction === "sum" ? sumAll(perVoxel) : meanAll(perVoxel);
  });
}

/**
 * ∂dice/∂x scaled by `cd`. With f = 1 − num/den per entry, num = 2I + s_nr, den = D' + s_dr:
 *   ∂f/∂I = −2/den (jaccard: −2(den + num)/den²),  ∂f/∂P = num/den² (jaccard: 2·num/den²),
 *   ∂I/∂p = y, ∂P/∂p = 1 (squared_pred: 2p); then through the softmax: gx = p ⊙ (gp − Σ_c p ⊙ gp).
 */
function diceGradLogits(
  p: tf.Tensor,
  y: tf.Tensor,
  num: tf.Tensor,
  den: tf.Tensor,
  cd: tf.Tensor,
  o: FusedSoftmaxOptions,
): tf.Tensor {
  const b = p.shape[0];
  const k = num.shape[num.shape.length - 1];
  const scale = tf.mul(diceScale(num.shape, o), cd); // dL/df per entry
  const den2 = tf.square(den);
  const dfdI = o.jaccard ? tf.div(tf.mul(-2, tf.add(den, num)), den2) : tf.div(-2, den);
  const dfdP = tf.div(o.jaccard ? tf.mul(2, num) : num, den2);
  // [B, K] coefficients, shaped to broadcast over [B, S..., K]
  const bcast = [b, ...new Array<number>(p.rank - 2).fill(1), k];
  const a = tf.reshape(tf.broadcastTo(tf.mul(scale, dfdI), [b, k]), bcast);
  const e = tf.reshape(tf.broadcastTo(tf.mul(scale, dfdP), [b, k]), bcast);
  const pk = diceChannels(p, o.include_background);
  const yk = diceChannels(y, o.include_background);
  let gp = tf.add(tf.mul(yk, a), o.squared_pred ? tf.mul(pk, tf.mul(e, 2)) : e);
  if (!o.include_background) {
    const pad = new Array<[number, number]>(p.rank).fill([0, 0]);
    pad[p.rank - 1] = [1, 0];
    gp = tf.pad(gp, pad);
  }
  const s = tf.expandDims(sumChannels(tf.mul(p, gp)), -1);
  return tf.mul(p, tf.sub(gp, s));
}

/**
 * ∂ce/∂x (torch CrossEntropyLoss), per voxel and class:
 * - labels: [(1−ε)·w_y·(p_c − y_c) + ε/C·(Σw·p_c − w_c)] / Z, Z = Σ_v w_y (mean; voxel count without weights; 1 for sum)
 * - probabilities: [(Σ_k w_k t'_k)·p_c − w_c·t'_c] / Z, t' = t(1−ε) + ε/C, Z = voxel count (mean) or 1.
 */
function crossEntropyGradLogits(
  p: tf.Tensor,
  y: tf.Tensor,
  labelTarget: boolean,
  o: FusedSoftmaxOptions,
  c: number,
  eps: number,
): tf.Tensor {
  const w = o.ce_weight !== undefined ? classWeights("CrossEntropyLoss", o.ce_weight, c) : undefined;
  const voxels = p.size / c;
  if (labelTarget) {
    const wy = w ? tf.expandDims(sumChannels(tf.mul(y, w)), -1) : tf.scalar(1); // [.., 1]
    const z = o.reduction === "sum" ? tf.scalar(1) : w ? sumAll(wy) : tf.scalar(voxels);
    const sw = w ? tf.sum(w) : tf.scalar(c);
    // p_c·[(1−ε)w_y + ε/C·Σw] − [(1−ε)w_y·y_c + ε/C·w_c]
    const coefP = tf.add(tf.mul(1 - eps, wy), tf.mul(eps / c, sw));
    const coefY = tf.mul(1 - eps, wy);
    let g = tf.sub(tf.mul(p, coefP), tf.mul(y, coefY));
    if (eps > 0) g = tf.sub(g, w ? tf.mul(eps / c, w) : eps / c);
    return tf.div(g, z);
  }
  const t = eps > 0 ? tf.add(tf.mul(y, 1 - eps), eps / c) : y;
  const wt = w ? tf.mul(t, w) : t;
  const swt = tf.expandDims(sumChannels(wt), -1);
  const z = o.reduction === "sum" ? 1 : voxels;
  return tf.div(tf.sub(tf.mul(p, swt), wt), z);
}

/** the float one-hot (labels) or probability target the fused path works on */
export function fusedTarget(target: tf.Tensor, c: number): { y: tf.Tensor; labelTarget: boolean } {
  const tc = target.shape[target.rank - 1];
  if (tc === 1) return { y: oneHotLabels(target, c), labelTarget: true };
  return { y: target.dtype === "float32" ? target : tf.cast(target, "float32"), labelTarget: false };
}
