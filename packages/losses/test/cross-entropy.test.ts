import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { beforeAll, describe, expect, it } from "vitest";
import { seeded } from "../../../test-utils/random.js";
import { bceWithLogitsLoss, crossEntropyLoss } from "../src/cross-entropy.js";
import { diceLoss } from "../src/dice.js";
import { diceCELoss, diceCELossParts } from "../src/dice-ce.js";
import { refCrossEntropy, refDice, refOneHot } from "./reference.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const val = (t: tf.Tensor) => t.dataSync()[0];

describe("cross entropy by hand", () => {
  // voxel 0: logits [0, ln 3] → p = [1/4, 3/4], label 1; voxel 1: logits [0, 0] → p = [1/2, 1/2], label 0
  const logits = tf.tensor3d([0, Math.log(3), 0, 0], [1, 2, 2]);
  const labels = tf.tensor3d([1, 0], [1, 2, 1]);
  const nll0 = -Math.log(3 / 4);
  const nll1 = Math.log(2);

  it("unweighted mean over voxels", () => {
    expect(val(crossEntropyLoss(logits, labels))).toBeCloseTo((nll0 + nll1) / 2, 6);
    expect(val(crossEntropyLoss(logits, labels, { reduction: "sum" }))).toBeCloseTo(nll0 + nll1, 6);
  });
  it("class weights: torch's weighted mean Σ w_y·nll / Σ w_y", () => {
    const v = crossEntropyLoss(logits, labels, { weight: [1, 3] });
    expect(val(v)).toBeCloseTo((3 * nll0 + 1 * nll1) / (3 + 1), 6);
  });
  it("label smoothing ε=0.2: (1−ε)·nll + ε/C·Σ_c −log p_c", () => {
    const eps = 0.2;
    const smooth0 = -Math.log(1 / 4) - Math.log(3 / 4);
    const smooth1 = 2 * Math.log(2);
    const want = ((1 - eps) * nll0 + (eps / 2) * smooth0 + (1 - eps) * nll1 + (eps / 2) * smooth1) / 2;
    expect(val(crossEntropyLoss(logits, labels, { label_smoothing: eps }))).toBeCloseTo(want, 6);
  });
  it("one-hot (probability) target with weights divides by the voxel count, not by Σ w", () => {
    const oh = tf.tensor3d([0, 1, 1, 0], [1, 2, 2]);
    const v = crossEntropyLoss(logits, oh, { weight: [1, 3] });
    expect(val(v)).toBeCloseTo((3 * nll0 + 1 * nll1) / 2, 6);
  });
  it("BCE with logits and pos_weight", () => {
    const x = tf.tensor3d([0.5, -1.5, 2], [1, 3, 1]);
    const y = tf.tensor3d([1, 0, 1], [1, 3, 1]);
    const sp = (z: number) => Math.log1p(Math.exp(z));
    const want = (2 * sp(-0.5) + sp(-1.5) + 2 * sp(-2)) / 3; // y=1: pw·softplus(−x); y=0: softplus(x)
    expect(val(bceWithLogitsLoss(x, y, { pos_weight: 2 }))).toBeCloseTo(want, 6);
  });
});

describe("DiceCELoss matches float64 references (MONAI 1.4 target/weight handling)", () => {
  const b = 2;
  const c = 3;
  const spatial = [2, 3, 2];
  const n = spatial.reduce((a, x) => a * x, 1);
  const rnd = seeded(11);
  const logits = Float32Array.from({ length: b * n * c }, () => 3 * rnd() - 1.5);
  const labels = Float32Array.from({ length: b * n }, () => Math.floor(rnd() * c));
  const x = tf.tensor(logits, [b, ...spatial, c]);
  const y = tf.tensor(labels, [b, ...spatial, 1]);

  it("tutorial config: Dice(softmax) + CE(raw logits)", () => {
    const parts = diceCELossParts(x, y, { to_onehot_y: true, softmax: true });
    const dice = refDice(logits, labels, b, c, { to_onehot_y: true, softmax: true }) as number;
    const ce = refCrossEntropy(logits, labels, c);
    expect(val(parts.dice)).toBeCloseTo(dice, 6);
    expect(val(parts.ce)).toBeCloseTo(ce, 6);
    expect(val(parts.total)).toBeCloseTo(dice + ce, 6);
  });
  it("weights, include_background=false (Dice gets weight[1:], CE all), lambdas and label smoothing", () => {
    const weight = [0.2, 1.5, 3];
    const got = diceCELoss(x, y, {
      to_onehot_y: true,
      softmax: true,
      include_background: false,
      weight,
      lambda_dice: 0.5,
      lambda_ce: 0.25,
      label_smoothing: 0.1,
    });
    const dice = refDice(logits, labels, b, c, {
      to_onehot_y: true,
      softmax: true,
      include_background: false,
      weight: weight.slice(1),
    }) as number;
    const ce = refCrossEntropy(logits, labels, c, { weight, label_smoothing: 0.1 });
    expect(val(got)).toBeCloseTo(0.5 * dice + 0.25 * ce, 6);
  });
  it("sum reduction applies to both terms", () => {
    const got = diceCELoss(x, y, { to_onehot_y: true, softmax: true, reduction: "sum", squared_pred: true });
    const dice = refDice(logits, labels, b, c, {
      to_onehot_y: true,
      softmax: true,
      squared_pred: true,
      reduction: "sum",
    }) as number;
    expect(val(got)).toBeCloseTo(dice + refCrossEntropy(logits, labels, c, { reduction: "sum" }), 5);
  });
  it("one-hot target: CE uses class probabilities (with label smoothing), Dice needs no to_onehot_y", () => {
    const oh = refOneHot(labels, c);
    const got = diceCELoss(x, tf.tensor(Float32Array.from(oh), [b, ...spatial, c]), {
      softmax: true,
      label_smoothing: 0.2,
      weight: [1, 2, 3],
    });
    const dice = refDice(logits, oh, b, c, { softmax: true, weight: [1, 2, 3] }) as number;
    const ce = refCrossEntropy(logits, oh, c, { label_smoothing: 0.2, weight: [1, 2, 3] });
    expect(val(got)).toBeCloseTo(dice + ce, 6);
  });
  it("single-channel input: Dice(sigmoid) + BCEWithLogits(pos_weight = weight)", () => {
    const x1 = tf.tensor5d([0.3, -2, 1.2, 0.1], [1, 2, 2, 1, 1]);
    const y1 = tf.tensor5d([1, 0, 1, 0], [1, 2, 2, 1, 1]);
    const got = diceCELoss(x1, y1, { sigmoid: true, weight: [2] });
    const want = val(diceLoss(x1, y1, { sigmoid: true })) + val(bceWithLogitsLoss(x1, y1, { pos_weight: 2 }));
    expect(val(got)).toBeCloseTo(want, 6);
  });
  it("rejects a target whose channel count is neither 1 nor C", () => {
    expect(() => diceCELoss(x, tf.zeros([b, ...spatial, 2]))).toThrow(/neither 1 \(labels\) nor the same as input/);
    expect(() => diceCELoss(x, tf.zeros([b, ...spatial]))).toThrow(/same number of dimensions/);
    expect(() => diceCELoss(x, tf.zeros([b, 2, 3, 3, 1]), { to_onehot_y: true, softmax: true })).toThrow(
      /same batch and spatial shape/,
    );
  });
});
