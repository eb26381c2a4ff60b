/**
 * The fused instance norm (+ LeakyReLU) op with its own gradient, and the wasm Sum / Mean / Concat
 * kernels: forward and gradient against float64 references on cpu and wasm, exact agreement of the
 * kernels with cpu, and no leaked tensors or heap buffers.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, it } from "vitest";
import {
  installWasmKernelFixes,
  instanceNorm,
  instanceNormActBackward,
  instanceNormActForward,
  instanceNormFused,
  instanceNormLeakyRelu,
  registerGradients,
  uninstallWasmKernelFixes,
} from "../src/engine/index.js";
import { type F64, f32, numGrad, randArr, relErr, size, tfValueAndGrads } from "./engine-reference.js";

registerGradients();

/** float64 InstanceNorm (biased variance) then LeakyReLU(alpha) of channel-last x. */
function normActRef(x: F64, shape: number[], alpha: number, eps: number): F64 {
  const b = shape[0];
  const c = shape[shape.length - 1];
  const n = size(shape.slice(1, -1));
  const y = new Float64Array(x.length);
  for (let bi = 0; bi < b; bi++)
    for (let k = 0; k < c; k++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += x[(bi * n + i) * c + k];
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (x[(bi * n + i) * c + k] - m) ** 2;
      const r = 1 / Math.sqrt(v / n + eps);
      for (let i = 0; i < n; i++) {
        const z = (x[(bi * n + i) * c + k] - m) * r;
        y[(bi * n + i) * c + k] = z > 0 ? z : alpha * z;
      }
    }
  return y;
}

function checkNorm(f: (x: tf.Tensor) => tf.Tensor, shape: number[], alpha: number, offset = 0, scale = 1): void {
  const x = f32(randArr(size(shape), 7 + shape[4], scale).map((v) => v + offset));
  const ref = (xs: F64[]) => normActRef(xs[0], shape, alpha, 1e-5);
  const y = ref([x]);
  const r = randArr(y.length, 99);
  const [g] = numGrad(ref, [x], r, 1e-4 * scale);
  const got = tfValueAndGrads(f, [{ a: x, shape }], r);
  expect(relErr(got.y, y)).toBeLessThan(2e-5);
  expect(relErr(got.grads[0], g), "gradient").toBeLessThan(1e-4);
}

/** float64 sum over axes of x (shape), keepDims false: reference for Sum / Mean. */
function sumRef(x: F64, shape: number[], axes: number[]): F64 {
  const outShape = shape.filter((_, i) => !axes.includes(i));
  const out = new Float64Array(size(outShape));
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < x.length; i++) {
    let o = 0;
    for (let d = 0; d < shape.length; d++) if (!axes.includes(d)) o = o * shape[d] + idx[d];
    out[o] += x[i];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

const NORM_SHAPES = [
  [2, 3, 2, 4, 3], // C not a multiple of 8: the one-channel loop
  [2, 3, 2, 2, 8], // one group of 8
  [1, 2, 3, 2, 19], // two groups + 3
];

for (const backend of ["cpu", "wasm"]) {
  describe(`fused instance norm on ${backend}`, () => {
    beforeAll(async () => {
      await tf.setBackend(backend);
      await tf.ready();
      if (backend === "wasm") installWasmKernelFixes();
    });

    for (const shape of NORM_SHAPES) {
      it(`instanceNormLeakyRelu [${shape}] value and gradient vs float64`, () => {
        checkNorm((x) => instanceNormLeakyRelu(x), shape, 0.01);
      });
      it(`instanceNormFused / instanceNorm [${shape}] vs float64`, () => {
        checkNorm((x) => instanceNormFused(x), shape, 1);
        checkNorm((x) => instanceNorm(x as tf.Tensor5D), shape, 1);
      });
    }

    it("large mean relative to the spread (two-pass variance), other slope", () => {
      checkNorm((x) => instanceNormLeakyRelu(x, 0.2), [2, 2, 3, 2, 8], 0.2, 300, 2);
    });

    it("rejects a slope ≤ 0 and non-channel-last input", () => {
      const x = tf.ones([1, 2, 2, 2, 3]);
      expect(() => instanceNormLeakyRelu(x, 0)).toThrow(/slope/);
      expect(() => instanceNormFused(tf.ones([3]))).toThrow(/rank/);
      x.dispose();
    });

    it("no tensor or heap leaks (forward + gradient, inside and outside a tape)", () => {
      const x = tf.randomNormal([2, 3, 4, 2, 8]);
      const step = () => {
        tf.dispose(tf.grad((v) => tf.sum(tf.mul(instanceNorm(instanceNormLeakyRelu(v) as tf.Tensor5D), v)))(x));
        tf.dispose(instanceNormLeakyRelu(x));
      };
      step();
      const t0 = tf.memory().numTensors;
      const d0 = tf.backend().numDataIds();
      step();
      expect(tf.memory().numTensors).toBe(t0);
      expect(tf.backend().numDataIds()).toBe(d0);
      x.dispose();
    });
  });
}

describe("instanceNormAct kernels on plain arrays", () => {
  it("backward equals the float64 numerical gradient for every channel-group layout", () => {
    for (const c of [1, 4, 8, 12, 16, 21]) {
      const shape = [2, 5, 3, 1, c];
      const n = 15;
      const x = f32(randArr(size(shape), c));
      const y = new Float32Array(x.length);
      const r = new Float32Array(2 * c);
      instanceNormActForward(Float32Array.from(x), y, r, 2, n, c, 0.01, 1e-5);
      const ref = (xs: F64[]) => normActRef(xs[0], shape, 0.01, 1e-5);
      expect(relErr(y, ref([x]))).toBeLessThan(2e-6);
      const dy = randArr(x.length, 5);
      const dx = new Float32Array(x.length);
      instanceNormActBackward(y, Float32Array.from(dy), r, dx, 2, n, c, 0.01);
      expect(relErr(dx, numGrad(ref, [x], dy, 1e-4)[0])).toBeLessThan(1e-4);
    }
  });
});

describe("wasm Sum / Mean / Concat kernels", () => {
  beforeAll(async () => {
    await tf.setBackend("wasm");
    await tf.ready();
    installWasmKernelFixes();
  });

  const shape = [2, 3, 4, 2, 5];
  const axesCases = [[0, 1, 2, 3], [1, 2, 3], [0], [0, 2], [1, 3], [0, 1, 2, 3, 4], [4], [3, 4], [0, 4], [2]];

  for (const axes of axesCases) {
    it(`sum and mean of [${shape}] over [${axes}] vs float64 (keepDims too)`, () => {
      const x = f32(randArr(size(shape), 3));
      const ref = sumRef(x, shape, axes);
      const count = size(axes.map((a) => shape[a]));
      const t = tf.tensor(Float32Array.from(x), shape);
      const s = tf.sum(t, axes);
      const m = tf.mean(t, axes, true);
      expect(s.shape).toEqual(shape.filter((_, i) => !axes.includes(i)));
      expect(m.shape).toEqual(shape.map((v, i) => (axes.includes(i) ? 1 : v)));
      // (a reduction of every axis runs the stock float32 kernel: round-off of order 1e-6)
      expect(relErr(s.dataSync(), ref)).toBeLessThan(1e-5);
      expect(
        relErr(
          m.dataSync(),
          ref.map((v) => v / count),
        ),
      ).toBeLessThan(1e-6);
      tf.dispose([t, s, m]);
    });
  }

  it("sum: size-1 axes, int32 (stock kernel), and the [B·N, C] bias-gradient pattern", () => {
    const x = tf.tensor(Float32Array.from(randArr(2 * 1 * 7 * 9, 4)), [2, 1, 7, 9]);
    expect(relErr(tf.sum(x, [0, 1, 2]).dataSync(), sumRef(f32(randArr(126, 4)), [2, 1, 7, 9], [0, 1, 2]))).toBeLessThan(
      1e-6,
    );
    expect(
      Array.from(
        tf
          .sum(
            tf.tensor(
              [
                [1, 2],
                [3, 4],
              ],
              [2, 2],
              "int32",
            ),
            0,
          )
          .dataSync(),
      ),
    ).toEqual([4, 6]);
    const y = tf.tensor(Float32Array.from(randArr(300 * 17, 5)), [300, 17]);
    expect(relErr(tf.sum(y, 0).dataSync(), sumRef(f32(randArr(300 * 17, 5)), [300, 17], [0]))).toBeLessThan(1e-6);
    tf.dispose([x, y]);
  });

  it("gradients through sum/mean of non-inner axes", () => {
    const x = f32(randArr(size(shape), 8));
    const r = randArr(shape[4], 9);
    const got = tfValueAndGrads((t) => tf.mean(t, [0, 1, 2, 3]), [{ a: x, shape }], r);
    const count = size(shape.slice(0, 4));
    expect(
      relErr(
        got.y,
        sumRef(x, shape, [0, 1, 2, 3]).map((v) => v / count),
      ),
    ).toBeLessThan(1e-6);
    expect(
      relErr(
        got.grads[0],
        Float64Array.from(x, (_, i) => r[i % shape[4]] / count),
      ),
    ).toBeLessThan(1e-6);
  });

  it("concat equals cpu bit for bit: every axis, short and long runs, int32/bool, empty parts", async () => {
    const cases: [number[][], number][] = [
      [
        [
          [2, 3, 4, 2, 5],
          [2, 3, 4, 2, 3],
        ],
        4,
      ],
      [
        [
          [2, 3, 4, 2, 5],
          [2, 3, 4, 2, 5],
          [2, 3, 4, 2, 1],
        ],
        -1,
      ],
      [
        [
          [2, 3, 4, 40],
          [2, 3, 2, 40],
        ],
        2,
      ],
      [
        [
          [2, 3],
          [4, 3],
        ],
        0,
      ],
      [
        [
          [2, 0, 3],
          [2, 4, 3],
        ],
        1,
      ],
      [[[3], [0], [5]], 0],
    ];
    for (const dtype of ["float32", "int32", "bool"] as const) {
      for (const [shapes, axis] of cases) {
        const res: number[][] = [];
        for (const be of ["cpu", "wasm"]) {
          await tf.setBackend(be);
          const ts = shapes.map((s, i) =>
            tf.tensor(
              Array.from(
                randArr(size(s), 11 + i),
                (v) => (dtype === "float32" ? v : v > 0 ? 1 : 0) * (dtype === "int32" ? 7 : 1),
              ),
              s,
              dtype,
            ),
          );
          const y = tf.concat(ts, axis);
          res.push([...y.shape, -1, ...Array.from(y.dataSync())]);
          tf.dispose([...ts, y]);
        }
        expect(res[1]).toEqual(res[0]);
      }
    }
    await tf.setBackend("wasm");
  });

  it("identity (clone, tensors saved for backward) shares the buffer instead of copying it", () => {
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const d0 = tf.backend().numDataIds();
    const c = tf.clone(x);
    expect(tf.backend().numDataIds()).toBe(d0);
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4]);
    c.dispose();
    expect(tf.backend().numDataIds()).toBe(d0 - 1);
  });

  it("agree with the stock kernels, no heap leaks", () => {
    const x = tf.randomNormal([2, 4, 3, 5, 6]);
    const run = () =>
      tf.tidy(() => [tf.sum(x, [0, 1, 2, 3]), tf.mean(x, [1, 2, 3], true), tf.concat([x, x], 4), tf.sum(x, 1)]);
    uninstallWasmKernelFixes();
    const stock = run().map((t) => Array.from(t.dataSync()));
    installWasmKernelFixes();
    const ours = run();
    ours.forEach((t, i) => {
      expect(relErr(t.dataSync(), stock[i])).toBeLessThan(1e-6);
    });
    tf.dispose(ours);
    const d0 = tf.backend().numDataIds();
    tf.dispose(run());
    expect(tf.backend().numDataIds()).toBe(d0);
    x.dispose();
  });
});
