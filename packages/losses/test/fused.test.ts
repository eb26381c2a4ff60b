import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { engine } from "@voxelpipe/core";
import { beforeAll, describe, expect, it } from "vitest";
import { seeded } from "../../../test-utils/random.js";
import { diceLoss } from "../src/dice.js";
import { type DiceCELossOptions, diceCELossParts } from "../src/dice-ce.js";
import { refOneHot } from "./reference.js";

// Softmax configurations take the analytic gradient of fused-softmax.ts; `fused: false` forces autodiff.
// Both must agree on values and gradients for every option combination.
engine.registerGradients();

const b = 2;
const c = 3;
const spatial = [2, 3, 2];
const n = 12;
const rnd = seeded(17);
const logits = Float32Array.from({ length: b * n * c }, () => 4 * rnd() - 2);
const labels = Float32Array.from({ length: b * n }, () => Math.floor(rnd() * c));
const oneHot = Float32Array.from(refOneHot(labels, c));

function maxRel(a: ArrayLike<number>, r: ArrayLike<number>): number {
  let s = 1e-12;
  let e = 0;
  for (let i = 0; i < a.length; i++) {
    s = Math.max(s, Math.abs(r[i]));
    e = Math.max(e, Math.abs(a[i] - r[i]));
  }
  return e / s;
}

const configs: DiceCELossOptions[] = [];
for (const include_background of [true, false])
  for (const squared_pred of [false, true])
    for (const jaccard of [false, true])
      for (const batch of [false, true])
        for (const reduction of ["mean", "sum"] as const)
          for (const weighted of [false, true])
            configs.push({
              include_background,
              squared_pred,
              jaccard,
              batch,
              reduction,
              weight: weighted ? [0.3, 1.2, 2] : undefined,
              label_smoothing: batch !== squared_pred ? 0.15 : 0,
              lambda_dice: batch ? 0.7 : 1,
              lambda_ce: jaccard ? 0.4 : 1,
              smooth_nr: squared_pred ? 0 : 1e-5,
              smooth_dr: squared_pred ? 1e-6 : 1e-5,
            });

describe("fused softmax Dice/CE equals autodiff (values and gradients), cpu", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });
  for (const target of ["labels", "one-hot"] as const) {
    it(`${configs.length} option combinations, ${target} target`, () => {
      const x = tf.tensor(logits, [b, ...spatial, c]);
      const y = target === "labels" ? tf.tensor(labels, [b, ...spatial, 1]) : tf.tensor(oneHot, [b, ...spatial, c]);
      for (const cfg of configs) {
        const o = { ...cfg, softmax: true, to_onehot_y: target === "labels" };
        for (const part of ["total", "dice", "ce"] as const) {
          const f = (fused: boolean) => (z: tf.Tensor) => diceCELossParts(z, y, { ...o, fused })[part];
          const vf = tf.tidy(() => f(true)(x).dataSync()[0]);
          const va = tf.tidy(() => f(false)(x).dataSync()[0]);
          expect(Math.abs(vf - va), `${part} value ${JSON.stringify(o)}`).toBeLessThan(
            1e-6 * Math.max(1, Math.abs(va)),
          );
          const gf = tf.tidy(() => tf.grad(f(true))(x).dataSync());
          const ga = tf.tidy(() => tf.grad(f(false))(x).dataSync());
          expect(maxRel(gf, ga), `${part} grad ${JSON.stringify(o)}`).toBeLessThan(1e-5);
        }
        // DiceLoss alone takes the same path without the CE term
        const d = (fused: boolean) => (z: tf.Tensor) =>
          diceLoss(z, y, { ...o, weight: o.weight?.slice(o.include_background ? 0 : 1), fused }) as tf.Scalar;
        expect(Math.abs(tf.tidy(() => d(true)(x).dataSync()[0] - d(false)(x).dataSync()[0]))).toBeLessThan(1e-6);
        expect(
          maxRel(
            tf.tidy(() => tf.grad(d(true))(x).dataSync()),
            tf.tidy(() => tf.grad(d(false))(x).dataSync()),
          ),
        ).toBeLessThan(1e-5);
      }
      tf.dispose([x, y]);
    });
  }
});

describe("fused path on wasm equals cpu", () => {
  it("tutorial and bundle configurations", async () => {
    const cfgs: DiceCELossOptions[] = [
      { to_onehot_y: true, softmax: true },
      { to_onehot_y: true, softmax: true, squared_pred: true, batch: true },
      {
        to_onehot_y: true,
        softmax: true,
        include_background: false,
        jaccard: true,
        weight: [1, 2, 3],
        label_smoothing: 0.1,
      },
    ];
    const run = (cfg: DiceCELossOptions) =>
      tf.tidy(() => {
        const x = tf.tensor(logits, [b, ...spatial, c]);
        const y = tf.tensor(labels, [b, ...spatial, 1]);
        const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => diceCELossParts(z, y, cfg).total)(x);
        return [value.dataSync()[0], grad.dataSync()] as const;
      });
    for (const cfg of cfgs) {
      await tf.setBackend("wasm");
      const [vw, gw] = run(cfg);
      await tf.setBackend("cpu");
      const [vc, gc] = run(cfg);
      expect(Math.abs(vw - vc)).toBeLessThan(1e-6 * Math.abs(vc));
      expect(maxRel(gw, gc)).toBeLessThan(2e-6);
    }
  });
});
