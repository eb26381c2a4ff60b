import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { engine } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { seeded } from "../../../test-utils/random.js";
import { contrastiveLoss } from "../src/contrastive.js";
import { diceLoss } from "../src/dice.js";
import { type DiceCELossOptions, diceCELoss } from "../src/dice-ce.js";
import { refContrastive, refCrossEntropy, refDice } from "./reference.js";

// tfjs-core's Node bundle registers no gradients; core's engine does (also on import, done explicitly here)
engine.registerGradients();

/** central differences of a float64 function at x (h = 1e-5 ⇒ error ~1e-10, far below float32 noise) */
function centralDiff(f: (x: Float64Array) => number, x: ArrayLike<number>, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  const xx = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    const v = xx[i];
    xx[i] = v + h;
    const fp = f(xx);
    xx[i] = v - h;
    const fm = f(xx);
    xx[i] = v;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/** max |a − b| relative to the largest gradient entry (measured: ~1e-7 for float32 tf.grad vs float64 FD) */
function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  return err / scale;
}

const b = 2;
const c = 3;
const spatial = [2, 2, 3];
const n = 12;
const rnd = seeded(5);
const logits = Float32Array.from({ length: b * n * c }, () => 3 * rnd() - 1.5);
const labels = Float32Array.from({ length: b * n }, () => Math.floor(rnd() * c));
const viewA = Float32Array.from({ length: b * n }, () => rnd() - 0.4);
const viewB = Float32Array.from({ length: b * n }, () => rnd() - 0.4);
// F = 5000 per item: wasm takes the chunked (padded to 71·71) Gram path, cpu the plain matMul
const bigA = Float32Array.from({ length: 2 * 5000 }, () => rnd());
const bigB = bigA.map((x) => x + 0.1 * (rnd() - 0.5));

const diceConfigs: DiceCELossOptions[] = [
  { to_onehot_y: true, softmax: true },
  { to_onehot_y: true, softmax: true, include_background: false, jaccard: true },
  { to_onehot_y: true, softmax: true, squared_pred: true, batch: true, weight: [0.5, 1, 2] },
];

function gradOn(backend: string, f: (x: tf.Tensor) => tf.Scalar, data: Float32Array, shape: number[]): Float32Array {
  tf.setBackend(backend);
  return tf.tidy(() => tf.grad(f)(tf.tensor(data, shape)).dataSync() as Float32Array);
}

const diceGrad = (o: DiceCELossOptions) => (x: tf.Tensor) =>
  diceLoss(x, tf.tensor(labels, [b, ...spatial, 1]), { ...o, weight: o.weight }) as tf.Scalar;
const diceCeGrad = (o: DiceCELossOptions) => (x: tf.Tensor) => diceCELoss(x, tf.tensor(labels, [b, ...spatial, 1]), o);

describe("loss gradients vs central finite differences of the float64 reference (cpu)", () => {
  for (const o of diceConfigs) {
    it(`DiceLoss ${JSON.stringify(o)}`, () => {
      const got = gradOn("cpu", diceGrad(o), logits, [b, ...spatial, c]);
      const want = centralDiff((x) => refDice(x, labels, b, c, o) as number, logits);
      expect(maxRelErr(got, want)).toBeLessThan(1e-5);
    });
    it(`DiceCELoss ${JSON.stringify(o)} + label_smoothing 0.1`, () => {
      const oo = { ...o, label_smoothing: 0.1 };
      const got = gradOn("cpu", diceCeGrad(oo), logits, [b, ...spatial, c]);
      const diceW = o.weight && o.include_background === false ? o.weight.slice(1) : o.weight;
      const want = centralDiff(
        (x) =>
          (refDice(x, labels, b, c, { ...o, weight: diceW }) as number) +
          refCrossEntropy(x, labels, c, { weight: o.weight, label_smoothing: 0.1 }),
        logits,
      );
      expect(maxRelErr(got, want)).toBeLessThan(1e-5);
    });
  }
  for (const t of [0.5, 0.05]) {
    it(`ContrastiveLoss T=${t}, gradient w.r.t. both views`, () => {
      const shape = [b, ...spatial, 1];
      const gA = gradOn("cpu", (x) => contrastiveLoss(x, tf.tensor(viewB, shape), { temperature: t }), viewA, shape);
      const gB = gradOn("cpu", (x) => contrastiveLoss(tf.tensor(viewA, shape), x, { temperature: t }), viewB, shape);
      expect(
        maxRelErr(
          gA,
          centralDiff((x) => refContrastive(x, viewB, b, t), viewA),
        ),
      ).toBeLessThan(1e-5);
      expect(
        maxRelErr(
          gB,
          centralDiff((x) => refContrastive(viewA, x, b, t), viewB),
        ),
      ).toBeLessThan(1e-5);
    });
  }
});

describe("wasm gradients equal cpu gradients", () => {
  const cases: [string, (x: tf.Tensor) => tf.Scalar, Float32Array, number[]][] = [
    ...diceConfigs.map(
      (o) =>
        [`DiceLoss ${JSON.stringify(o)}`, diceGrad(o), logits, [b, ...spatial, c]] as [
          string,
          (x: tf.Tensor) => tf.Scalar,
          Float32Array,
          number[],
        ],
    ),
    ...diceConfigs.map(
      (o) =>
        [`DiceCELoss ${JSON.stringify(o)}`, diceCeGrad({ ...o, label_smoothing: 0.1 }), logits, [b, ...spatial, c]] as [
          string,
          (x: tf.Tensor) => tf.Scalar,
          Float32Array,
          number[],
        ],
    ),
    [
      "ContrastiveLoss T=0.05, F=5000 (chunked Gram on wasm)",
      (x: tf.Tensor) => contrastiveLoss(x, tf.tensor(bigB, [2, 5000]), { temperature: 0.05 }),
      bigA,
      [2, 5000],
    ],
    [
      "ContrastiveLoss T=0.05",
      (x: tf.Tensor) => contrastiveLoss(x, tf.tensor(viewB, [b, ...spatial, 1]), { temperature: 0.05 }),
      viewA,
      [b, ...spatial, 1],
    ],
  ];
  for (const [name, f, data, shape] of cases) {
    it(name, async () => {
      await tf.setBackend("wasm");
      const w = gradOn("wasm", f, data, shape);
      await tf.setBackend("cpu");
      const cpu = gradOn("cpu", f, data, shape);
      // float32 rounding differs between the backends (and Gram paths), amplified by 1/T: ~2e-6 measured
      expect(maxRelErr(w, cpu)).toBeLessThan(1e-5);
      expect(w.every(Number.isFinite)).toBe(true);
    });
  }
});
