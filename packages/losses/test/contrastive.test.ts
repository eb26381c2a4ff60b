import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { beforeAll, describe, expect, it } from "vitest";
import { seeded } from "../../../test-utils/random.js";
import { contrastiveLoss } from "../src/contrastive.js";
import { refContrastive } from "./reference.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const val = (t: tf.Tensor) => t.dataSync()[0];

describe("ContrastiveLoss (NT-Xent)", () => {
  it("all four vectors parallel, B=2: every similarity is 1 → loss = ln 3 (MONAI ✔ value), also at T=0.005", () => {
    const a = tf.tensor2d([1, 2, 3, 2, 4, 6], [2, 3]);
    const b = tf.tensor2d([3, 6, 9, 0.5, 1, 1.5], [2, 3]);
    expect(val(contrastiveLoss(a, b, { temperature: 0.05 }))).toBeCloseTo(Math.log(3), 5);
    // MONAI overflows to NaN here (e^200 in float32); log space stays finite. Float32 cosine rounding (~1e-7)
    // is amplified by 1/T = 200, hence the looser tolerance.
    expect(val(contrastiveLoss(a, b, { temperature: 0.005 }))).toBeCloseTo(Math.log(3), 4);
  });
  it("orthogonal negatives, identical positives: −log(e^{1/T} / (e^{1/T} + 2))", () => {
    const a = tf.tensor2d([1, 0, 0, 1], [2, 2]);
    const t = 0.5;
    const want = -Math.log(Math.exp(1 / t) / (Math.exp(1 / t) + 2));
    expect(val(contrastiveLoss(a, a, { temperature: t }))).toBeCloseTo(want, 6);
  });
  it("random [B=3, 2,3,2,1] volumes match the float64 reference at T = 0.5 and 0.05", () => {
    const rnd = seeded(3);
    const shape = [3, 2, 3, 2, 1];
    const n = 36;
    const a = Float32Array.from({ length: n }, () => rnd() - 0.3);
    const b = Float32Array.from({ length: n }, () => rnd() - 0.3);
    for (const t of [0.5, 0.05]) {
      const got = val(contrastiveLoss(tf.tensor(a, shape), tf.tensor(b, shape), { temperature: t }));
      expect(Math.abs(got - refContrastive(a, b, 3, t))).toBeLessThan(2e-5 * refContrastive(a, b, 3, t));
    }
  });
  it("default temperature is 0.5", () => {
    const a = tf.tensor2d([1, 0, 0, 1], [2, 2]);
    const b = tf.tensor2d([1, 1, 0, 1], [2, 2]);
    expect(val(contrastiveLoss(a, b))).toBeCloseTo(refContrastive([1, 0, 0, 1], [1, 1, 0, 1], 2, 0.5), 6);
  });
  it("zero vectors use torch's eps guard instead of dividing by zero", () => {
    const z = tf.zeros([2, 4]);
    // all similarities 0 → loss = log(3) regardless of T (3 equal terms in each denominator)
    expect(val(contrastiveLoss(z, z, { temperature: 0.05 }))).toBeCloseTo(Math.log(3), 6);
  });
  it("shape mismatch and bad temperature are reported", () => {
    expect(() => contrastiveLoss(tf.zeros([2, 3]), tf.zeros([2, 4]))).toThrow(/same shape/);
    expect(() => contrastiveLoss(tf.zeros([2, 3]), tf.zeros([2, 3]), { temperature: 0 })).toThrow(/positive/);
  });
});
