/**
 * Every other op the networks train through, forward and gradient against float64 references, on
 * cpu and on wasm with the kernel fixes (matMul also on stock wasm): matMul incl. transposes,
 * 3-D/4-D batches and broadcasting; LayerNorm (eps 1e-5); exact-erf GELU; softmax/logSoftmax;
 * InstanceNorm; LeakyReLU; linear; concat/slice/split; transpose; pad; and no tensor leaks.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  gelu,
  installWasmKernelFixes,
  instanceNorm,
  layerNorm,
  leakyRelu,
  linear,
  registerGradients,
  uninstallWasmKernelFixes,
} from "../src/engine/index.js";
import {
  erf64,
  type F64,
  f32,
  matMulRef,
  numGrad,
  randArr,
  relErr,
  size,
  tfValueAndGrads,
} from "./engine-reference.js";

registerGradients();
const TOL = 2e-5;

/** Checks f (tfjs) against ref (float64): value and gradients of Σ y·r for every input. */
function check(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  ref: (xs: F64[]) => F64,
  shapes: number[][],
  opts: { h?: number; tol?: number; scale?: number[] } = {},
): void {
  const xs = shapes.map((s, i) => f32(randArr(size(s), 17 + i, opts.scale?.[i] ?? 1)));
  const y = ref(xs);
  const r = randArr(y.length, 99);
  const grads = numGrad(ref, xs, r, opts.h ?? 1e-3);
  const got = tfValueAndGrads(
    f,
    xs.map((a, i) => ({ a, shape: shapes[i] })),
    r,
  );
  const tol = opts.tol ?? TOL;
  expect(relErr(got.y, y)).toBeLessThan(tol);
  got.grads.forEach((g, i) => {
    expect(relErr(g, grads[i]), `gradient of input ${i}`).toBeLessThan(tol);
  });
}

// ---- float64 references -------------------------------------------------------------------

const strides = (shape: number[]) => {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
};
/** y[idx] = x[map(idx)] over every multi-index of outShape (−1 from map = 0, for padding). */
function gatherRef(x: F64, outShape: number[], map: (idx: number[]) => number): F64 {
  const y = new Float64Array(size(outShape));
  const idx = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < y.length; i++) {
    const src = map(idx);
    y[i] = src < 0 ? 0 : x[src];
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return y;
}
const flatAt = (idx: number[], shape: number[]) => idx.reduce((acc, v, i) => acc + v * strides(shape)[i], 0);

function rowsRef(x: F64, n: number, f: (row: F64) => F64): F64 {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i += n) y.set(f(x.subarray(i, i + n)), i);
  return y;
}
const mean = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0) / v.length;
function normalize(v: F64, eps: number): F64 {
  const m = mean(v);
  const va = mean(Array.from(v, (t) => (t - m) ** 2));
  return v.map((t) => (t - m) / Math.sqrt(va + eps));
}
const softmaxRow = (v: F64) => {
  const mx = Math.max(...v);
  const e = v.map((t) => Math.exp(t - mx));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((t) => t / s);
};

// ---- tests --------------------------------------------------------------------------------

// twoSided: batch dims broadcast on both sides, which tfjs' own cpu and wasm BatchMatMul kernels
// get wrong (output sized max(batchA, batchB)); only the fixed wasm kernel handles it
const mmCases: { a: number[]; b: number[]; tA: boolean; tB: boolean; twoSided?: boolean }[] = [];
for (const tA of [false, true])
  for (const tB of [false, true]) {
    mmCases.push({ a: tA ? [4, 3] : [3, 4], b: tB ? [5, 4] : [4, 5], tA, tB });
    mmCases.push({ a: tA ? [2, 4, 3] : [2, 3, 4], b: tB ? [2, 5, 4] : [2, 4, 5], tA, tB });
  }
mmCases.push(
  { a: [2, 3, 4, 5], b: [2, 3, 5, 6], tA: false, tB: false }, // 4-D: heads
  { a: [2, 3, 4, 5], b: [2, 3, 6, 5], tA: false, tB: true }, // q·kᵀ
  { a: [2, 3, 5, 4], b: [2, 3, 5, 6], tA: true, tB: false },
  { a: [2, 3, 4], b: [4, 5], tA: false, tB: false }, // tokens · weight (batch folded into rows)
  { a: [2, 3, 4], b: [5, 4], tA: false, tB: true },
  { a: [3, 4], b: [2, 4, 5], tA: false, tB: false }, // a broadcast over b's batch
  { a: [2, 1, 3, 4], b: [1, 3, 4, 5], tA: false, tB: false, twoSided: true },
  { a: [1, 7], b: [7, 1], tA: false, tB: false }, // m = n = 1
);

const setups = [
  { name: "cpu", backend: "cpu", fixes: false },
  { name: "wasm + kernel fixes", backend: "wasm", fixes: true },
];

for (const setup of setups) {
  describe(`engine ops on ${setup.name}`, () => {
    beforeAll(async () => {
      await tf.setBackend(setup.backend);
      await tf.ready();
      if (setup.backend === "wasm") installWasmKernelFixes();
    });

    for (const c of mmCases.filter((m) => setup.fixes || !m.twoSided)) {
      it(`matMul [${c.a}]${c.tA ? "ᵀ" : ""} · [${c.b}]${c.tB ? "ᵀ" : ""}`, () => {
        check(
          (a, b) => tf.matMul(a, b, c.tA, c.tB),
          ([a, b]) => matMulRef(a, c.a, b, c.b, c.tA, c.tB).y,
          [c.a, c.b],
        );
      });
    }

    it("linear (leading dims folded, + bias)", () => {
      check(
        (x, w, b) => linear(x, w as tf.Tensor2D, b as tf.Tensor1D),
        ([x, w, b]) => {
          const y = matMulRef(x, [6, 4], w, [4, 3], false, false).y;
          return y.map((v, i) => v + b[i % 3]);
        },
        [[2, 3, 4], [4, 3], [3]],
      );
    });

    it("layerNorm over the last axis, eps 1e-5, with gamma and beta", () => {
      // small spread so eps matters: tfjs-layers' default 1e-3 would fail this
      check(
        (x, g, b) => layerNorm(x, g as tf.Tensor1D, b as tf.Tensor1D),
        ([x, g, b]) => rowsRef(x, 6, (row) => normalize(row, 1e-5).map((v, i) => v * g[i] + b[i])),
        [[2, 3, 6], [6], [6]],
        { scale: [0.01, 1, 1], h: 1e-6, tol: 1e-4 },
      );
    });

    it("GELU is the exact erf form (not tanh)", () => {
      const ref = ([x]: F64[]) => x.map((v) => 0.5 * v * (1 + erf64(v / Math.SQRT2)));
      check((x) => gelu(x), ref, [[4, 25]], { scale: [4] });
      // the tanh approximation differs by up to ~5e-4 at x ≈ ±2: make sure we are not it
      const x = tf.tensor1d([-2.2, -1.5, 2.0, 3.1]);
      const got = gelu(x).dataSync();
      const exact = ref([Float64Array.from([-2.2, -1.5, 2.0, 3.1])]);
      expect(relErr(got, exact)).toBeLessThan(1e-6);
      x.dispose();
    });

    it("softmax and logSoftmax over the last axis", () => {
      check(
        (x) => tf.softmax(x),
        ([x]) => rowsRef(x, 5, softmaxRow),
        [[3, 5]],
        { scale: [3] },
      );
      check(
        (x) => tf.logSoftmax(x),
        ([x]) => rowsRef(x, 5, (row) => softmaxRow(row).map(Math.log)),
        [[3, 5]],
        { scale: [3] },
      );
    });

    it("instanceNorm (no affine, eps 1e-5) per sample and channel", () => {
      const shape = [2, 3, 2, 4, 3];
      check(
        (x) => instanceNorm(x as tf.Tensor5D),
        ([x]) => {
          const y = new Float64Array(x.length);
          const [B, , , , C] = shape;
          const n = size(shape.slice(1, 4));
          for (let b = 0; b < B; b++)
            for (let c = 0; c < C; c++) {
              const idx = Array.from({ length: n }, (_, i) => (b * n + i) * C + c);
              const v = normalize(
                Float64Array.from(idx, (i) => x[i]),
                1e-5,
              );
              idx.forEach((i, j) => {
                y[i] = v[j];
              });
            }
          return y;
        },
        [shape],
        { tol: 1e-4 },
      );
    });

    it("leakyRelu slope 0.01 (PyTorch default)", () => {
      check(
        (x) => leakyRelu(x),
        ([x]) => x.map((v) => (v > 0 ? v : 0.01 * v)),
        [[5, 7]],
      );
    });

    it("concat / slice / split / transpose / pad (rank 5)", () => {
      const s = [1, 3, 2, 4, 3];
      // concat on channels (the UNETR skip join), gradient = split
      check(
        (a, b) => tf.concat([a, b], -1),
        ([a, b]) => {
          const out = [1, 3, 2, 4, 5];
          return gatherRef(Float64Array.from([...a, ...b]), out, (i) =>
            i[4] < 3 ? flatAt(i, s) : a.length + flatAt([...i.slice(0, 4), i[4] - 3], [1, 3, 2, 4, 2]),
          );
        },
        [s, [1, 3, 2, 4, 2]],
      );
      // a non-contiguous slice (the conv taps), gradient = pad
      check(
        (x) => tf.slice(x, [0, 1, 0, 1, 1], [1, 2, 2, 2, 2]),
        ([x]) => gatherRef(x, [1, 2, 2, 2, 2], (i) => flatAt([i[0], i[1] + 1, i[2], i[3] + 1, i[4] + 1], s)),
        [s],
      );
      // split along depth, gradient = concat
      check(
        (x) => {
          const [p, q] = tf.split(x, [1, 2], 1);
          return tf.concat([tf.mul(p, 2), q], 1);
        },
        ([x]) => gatherRef(x, s, (i) => flatAt(i, s)).map((v, j) => (j < size(s) / 3 ? 2 * v : v)),
        [s],
      );
      // transpose, gradient = inverse transpose
      const perm = [0, 4, 2, 1, 3];
      check(
        (x) => tf.transpose(x, perm),
        ([x]) =>
          gatherRef(
            x,
            perm.map((p) => s[p]),
            (i) => {
              const src = new Array<number>(5);
              perm.forEach((p, k) => {
                src[p] = i[k];
              });
              return flatAt(src, s);
            },
          ),
        [s],
      );
      // zero padding, gradient = slice
      const pads: [number, number][] = [
        [0, 0],
        [1, 0],
        [0, 2],
        [1, 1],
        [0, 0],
      ];
      const out = s.map((n, k) => n + pads[k][0] + pads[k][1]);
      check(
        (x) => tf.pad(x, pads),
        ([x]) =>
          gatherRef(x, out, (i) => {
            const src = i.map((v, k) => v - pads[k][0]);
            return src.some((v, k) => v < 0 || v >= s[k]) ? -1 : flatAt(src, s);
          }),
        [s],
      );
    });

    it("no tensor leaks across the ops (forward + gradients)", () => {
      const x = tf.randomUniform([2, 3, 4]);
      const w = tf.randomUniform([4, 4]) as tf.Tensor2D;
      const g = tf.ones([4]) as tf.Tensor1D;
      const step = () =>
        tf.dispose(
          tf.grads((a, b) =>
            tf.sum(
              tf.logSoftmax(
                tf.matMul(
                  gelu(layerNorm(linear(a, b as tf.Tensor2D), g, g)),
                  tf.transpose(a, [0, 2, 1]) as tf.Tensor3D,
                ),
              ),
            ),
          )([x, w]),
        );
      step();
      const t0 = tf.memory().numTensors;
      const d0 = tf.backend().numDataIds();
      step();
      expect(tf.memory().numTensors).toBe(t0);
      expect(tf.backend().numDataIds()).toBe(d0);
      tf.dispose([x, w, g]);
    });
  });
}

describe("matMul on stock wasm kernels (what the fixes replace) agrees too", () => {
  beforeAll(async () => {
    await tf.setBackend("wasm");
    await tf.ready();
    uninstallWasmKernelFixes();
  });
  afterAll(() => {
    installWasmKernelFixes();
  });
  for (const c of mmCases.filter((m) => !m.twoSided)) {
    it(`stock matMul [${c.a}]${c.tA ? "ᵀ" : ""} · [${c.b}]${c.tB ? "ᵀ" : ""}`, () => {
      check(
        (a, b) => tf.matMul(a, b, c.tA, c.tB),
        ([a, b]) => matMulRef(a, c.a, b, c.b, c.tA, c.tB).y,
        [c.a, c.b],
      );
    });
  }
});
