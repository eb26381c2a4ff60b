import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { beforeAll, describe, expect, it } from "vitest";
import { seeded } from "../../../test-utils/random.js";
import { diceLoss } from "../src/dice.js";
import { type RefDiceOpts, refDice } from "./reference.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const val = (t: tf.Tensor) => t.dataSync()[0];

describe("DiceLoss by hand (2 classes, 4 voxels, probabilities given)", () => {
  // class-1 probabilities per voxel; class 0 = 1 − p; labels [1, 0, 1, 1]
  const p1 = [0.9, 0.2, 0.7, 0.4];
  const probs = tf.tensor5d(
    p1.flatMap((p) => [1 - p, p]),
    [1, 2, 2, 1, 2],
  );
  const labels = tf.tensor5d([1, 0, 1, 1], [1, 2, 2, 1, 1]);
  const s = 1e-5;
  // class 1: I = .9+.7+.4 = 2.0, Σg = 3, Σp = 2.2; class 0: I = .8, Σg = 1, Σp = 1.8
  const f1 = 1 - (2 * 2.0 + s) / (3 + 2.2 + s);
  const f0 = 1 - (2 * 0.8 + s) / (1 + 1.8 + s);

  it("plain Dice: mean of both classes", () => {
    expect(val(diceLoss(probs, labels, { to_onehot_y: true }))).toBeCloseTo((f0 + f1) / 2, 6);
    expect(f1).toBeCloseTo(0.2307692, 6);
  });
  it("include_background=false keeps class 1 only; sum reduction", () => {
    expect(val(diceLoss(probs, labels, { to_onehot_y: true, include_background: false }))).toBeCloseTo(f1, 6);
    expect(val(diceLoss(probs, labels, { to_onehot_y: true, reduction: "sum" }))).toBeCloseTo(f0 + f1, 6);
  });
  it("squared_pred: Σg² + Σp² = 3 + 1.5 for class 1", () => {
    const v = diceLoss(probs, labels, { to_onehot_y: true, include_background: false, squared_pred: true });
    expect(val(v)).toBeCloseTo(1 - (4 + s) / (4.5 + s), 6);
  });
  it("jaccard: D = 2(Σg + Σp − I) = 6.4 for class 1", () => {
    const v = diceLoss(probs, labels, { to_onehot_y: true, include_background: false, jaccard: true });
    expect(val(v)).toBeCloseTo(1 - (4 + s) / (6.4 + s), 6);
  });
  it("class weights multiply each class before the mean; reduction none keeps [B,1,1,1,C]", () => {
    const w = diceLoss(probs, labels, { to_onehot_y: true, weight: [0.5, 2] });
    expect(val(w)).toBeCloseTo((0.5 * f0 + 2 * f1) / 2, 6);
    const none = diceLoss(probs, labels, { to_onehot_y: true, reduction: "none" });
    expect(none.shape).toEqual([1, 1, 1, 1, 2]);
    const d = none.dataSync();
    expect(d[0]).toBeCloseTo(f0, 6);
    expect(d[1]).toBeCloseTo(f1, 6);
  });
  it("one-hot target gives the same as labels with to_onehot_y", () => {
    const oh = tf.tensor5d(
      [1, 0, 1, 1].flatMap((l) => (l ? [0, 1] : [1, 0])),
      [1, 2, 2, 1, 2],
    );
    expect(val(diceLoss(probs, oh))).toBeCloseTo((f0 + f1) / 2, 6);
  });
});

describe("DiceLoss matches a float64 loop reference for every option", () => {
  const b = 2;
  const c = 4;
  const spatial = [3, 4, 2];
  const n = spatial.reduce((a, x) => a * x, 1);
  const rnd = seeded(7);
  const logits = Float32Array.from({ length: b * n * c }, () => 4 * rnd() - 2);
  const labels = Float32Array.from({ length: b * n }, () => Math.floor(rnd() * c));
  const x = tf.tensor(logits, [b, ...spatial, c]);
  const y = tf.tensor(labels, [b, ...spatial, 1]);
  const cases: RefDiceOpts[] = [
    { softmax: true },
    { sigmoid: true },
    { softmax: true, include_background: false },
    { softmax: true, squared_pred: true },
    { softmax: true, jaccard: true },
    { softmax: true, batch: true },
    { softmax: true, batch: true, squared_pred: true, include_background: false },
    { softmax: true, smooth_nr: 0, smooth_dr: 1e-6 },
    { softmax: true, weight: [0.1, 1, 2, 3], reduction: "sum" },
    { softmax: true, include_background: false, weight: [1, 2, 0.5] },
    { sigmoid: true, jaccard: true, squared_pred: true, batch: true, reduction: "sum" },
  ];
  for (const o of cases) {
    it(JSON.stringify(o), () => {
      const got = val(diceLoss(x, y, { ...o, to_onehot_y: true }));
      const want = refDice(logits, labels, b, c, { ...o, to_onehot_y: true }) as number;
      expect(Math.abs(got - want)).toBeLessThan(2e-6 * Math.max(1, Math.abs(want)));
    });
  }
  it("reduction none with batch=true keeps [1,1,1,1,C] and matches per class", () => {
    const got = diceLoss(x, y, { softmax: true, to_onehot_y: true, batch: true, reduction: "none" });
    expect(got.shape).toEqual([1, 1, 1, 1, c]);
    const want = refDice(logits, labels, b, c, { softmax: true, to_onehot_y: true, batch: true, reduction: "none" });
    const g = got.dataSync();
    for (let k = 0; k < c; k++) expect(g[k]).toBeCloseTo((want as Float64Array)[k], 6);
  });
});

describe("DiceLoss errors and MONAI warnings", () => {
  it("labels without to_onehot_y: clear shape error naming both shapes", () => {
    const x = tf.zeros([1, 2, 2, 2, 3]);
    const y = tf.zeros([1, 2, 2, 2, 1]);
    expect(() => diceLoss(x, y)).toThrow(/DiceLoss: ground truth has different shape/);
    try {
      diceLoss(x, y);
    } catch (e) {
      const d = (e as { diagnostics: { code: string; got: string; hint: string }[] }).diagnostics[0];
      expect(d.code).toBe("VP200");
      expect(d.got).toContain("[1, 2, 2, 2, 1]");
      expect(d.hint).toContain("to_onehot_y");
    }
  });
  it("to_onehot_y with a target that is already one-hot is an error (MONAI one_hot raises too), both paths", () => {
    const x = tf.zeros([1, 2, 2, 2, 3]);
    const y = tf.zeros([1, 2, 2, 2, 3]);
    for (const fused of [true, false]) {
      expect(() => diceLoss(x, y, { to_onehot_y: true, softmax: true, fused })).toThrow(
        /to_onehot_y needs integer labels/,
      );
    }
  });
  it("wrong number of class weights is reported", () => {
    const x = tf.zeros([1, 2, 2, 2, 3]);
    const y = tf.zeros([1, 2, 2, 2, 1]);
    expect(() => diceLoss(x, y, { to_onehot_y: true, weight: [1, 2] })).toThrow(/number of class weights/);
  });
  it("single-channel input: softmax / to_onehot_y / include_background=false are ignored with warnings", () => {
    const warnings: string[] = [];
    const x = tf.tensor5d([0.2, 0.9], [1, 2, 1, 1, 1]);
    const y = tf.tensor5d([0, 1], [1, 2, 1, 1, 1]);
    const v = val(
      diceLoss(x, y, { softmax: true, to_onehot_y: true, include_background: false, warn: (m) => warnings.push(m) }),
    );
    expect(warnings).toHaveLength(3);
    expect(v).toBeCloseTo(1 - (2 * 0.9 + 1e-5) / (1 + 1.1 + 1e-5), 6);
  });
});
