/**
 * The webgpu kernel fixes (webgpu-kernels.ts) and the engine ops the networks use at rank 5, on
 * the webgpu backend: forward against float64 references, gradients against central differences,
 * no WebGPU validation errors (a shader that does not compile leaves its output unwritten without
 * an exception), and the stock bugs they remove. Runs on whatever adapter `--backend webgpu`
 * picks: here and in CI SwiftShader (vitest.config.ts points Vulkan at Debian chromium's ICD).
 */
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { isCI } from "../../../test-utils/gates.js";
import { selectBackend } from "../src/backend.js";
import {
  collapseBroadcast,
  collapsePad,
  collapseReverse,
  collapseTile,
  conv3d,
  installWebgpuKernelFixes,
  prepareBackend,
  takeWebgpuErrors,
  uninstallWebgpuKernelFixes,
} from "../src/engine/index.js";
import { conv3dRef, type F64, numGrad, randArr, relErr, size, tensor } from "./engine-reference.js";

/**
 * tfValueAndGrads of engine-reference.ts with asynchronous reads: webgpu in Node has no synchronous
 * download (tfjs' readSync goes through an OffscreenCanvas).
 */
async function valueAndGrads(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: { a: F64; shape: number[] }[],
  r: F64,
): Promise<{ y: Float32Array; grads: Float32Array[] }> {
  const xs = inputs.map(({ a, shape }) => tensor(a, shape));
  const y = f(...xs);
  const rt = tensor(r, y.shape);
  const g = tf.grads((...ts: tf.Tensor[]) => tf.sum(tf.mul(f(...ts), rt)))(xs);
  const out = {
    y: (await y.data()) as Float32Array,
    grads: (await Promise.all(g.map((t) => t.data()))) as Float32Array[],
  };
  tf.dispose([...xs, y, rt, ...g]);
  return out;
}

describe("webgpu fix shapes (pure)", () => {
  it("collapseBroadcast merges dims with one broadcast pattern and drops output 1s", async () => {
    expect(collapseBroadcast([1, 8, 8, 8, 3], [3])).toEqual({ a: [512, 3], b: [1, 3], out: [512, 3] });
    expect(collapseBroadcast([2, 4, 4, 4, 3], [2, 1, 1, 1, 3])).toEqual({
      a: [2, 64, 3],
      b: [2, 1, 3],
      out: [2, 64, 3],
    });
    expect(collapseBroadcast([2, 4, 4, 4, 3], [])).toEqual({ a: [384], b: [1], out: [384] });
    expect(collapseBroadcast([1, 1, 1, 1, 1], [1])).toEqual({ a: [1], b: [1], out: [1] });
    // alternating patterns keep their dims
    expect(collapseBroadcast([2, 1, 3, 1, 5], [1, 4, 1, 6, 5]).out).toEqual([2, 4, 3, 6, 5]);
  });
  it("collapseTile merges untiled dims into the one before; collapsePad merges unpadded dims", async () => {
    expect(collapseTile([1, 4, 4, 4, 1], [2, 1, 1, 1, 3])).toEqual({ shape: [64, 1], reps: [2, 3] });
    expect(collapseTile([2, 3, 4, 5, 6], [1, 1, 1, 1, 1])).toEqual({ shape: [720], reps: [1] });
    expect(
      collapsePad(
        [2, 4, 5, 6, 3],
        [
          [0, 0],
          [1, 1],
          [1, 2],
          [0, 1],
          [0, 0],
        ],
      ),
    ).toEqual({
      shape: [2, 4, 5, 18],
      paddings: [
        [0, 0],
        [1, 1],
        [1, 2],
        [0, 3],
      ],
    });
    expect(collapseReverse([3, 3, 3, 2, 4], [0, 1, 2])).toEqual({ shape: [27, 8], axes: [0] });
    // size-1 dims do not separate: the two flipped dims merge across one
    expect(collapseReverse([2, 3, 1, 4, 5], [1, 3])).toEqual({ shape: [2, 12, 5], axes: [1] });
  });
});

// the adapter, as `voxelpipe ... --backend webgpu` gets it; under CI a missing one is a failure
let why = "";
try {
  await selectBackend("webgpu");
  prepareBackend("webgpu");
  // tfjs-backend-webgpu runs ops on small CPU-resident inputs on the CPU: these tests are about the GPU kernels
  tf.env().set("WEBGPU_CPU_FORWARD", false);
} catch (e) {
  if (isCI()) throw e;
  why = (e as Error).message;
}

const toF64 = (a: ArrayLike<number>): F64 => Float64Array.from(a);

/** y[i] = op(a[ia], b[ib]) with numpy broadcasting, float64 */
function broadcastRef(a: F64, as: number[], b: F64, bs: number[], op: (x: number, y: number) => number) {
  const out = tf.backend_util.assertAndGetBroadcastShape(as, bs);
  const r = out.length;
  const A = [...Array(r - as.length).fill(1), ...as];
  const B = [...Array(r - bs.length).fill(1), ...bs];
  const y = new Float64Array(size(out));
  const idx = new Array(r).fill(0);
  for (let i = 0; i < y.length; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < r; d++) {
      ia = ia * A[d] + (A[d] === 1 ? 0 : idx[d]);
      ib = ib * B[d] + (B[d] === 1 ? 0 : idx[d]);
    }
    y[i] = op(a[ia], b[ib]);
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
  return y;
}

describe.skipIf(why !== "")(`webgpu kernel fixes at rank 5${why ? ` [skipped: ${why}]` : ""}`, () => {
  const patterns: [number[], number[]][] = [
    [[2, 3, 4, 5, 3], [3]], // bias: the stock shared-memory path, does not compile at rank 5
    [
      [2, 3, 4, 5, 3],
      [1, 1, 1, 1, 3],
    ],
    [
      [2, 3, 4, 5, 3],
      [2, 1, 1, 1, 3],
    ], // instance-norm statistics
    [
      [2, 3, 4, 5, 3],
      [3, 4, 5, 1],
    ],
    [[2, 3, 4, 5, 3], []],
    [[3], [2, 3, 4, 5, 3]], // shared memory with A
  ];
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, (x: number, y: number) => number][] = [
    ["add", tf.add, (x, y) => x + y],
    ["sub", tf.sub, (x, y) => x - y],
    ["mul", tf.mul, (x, y) => x * y],
    ["div", tf.div, (x, y) => x / y],
    ["maximum", tf.maximum, (x, y) => Math.max(x, y)],
    ["squaredDifference", tf.squaredDifference, (x, y) => (x - y) ** 2],
  ];

  it("binary ops with every broadcast pattern match float64 (max err 1.2e-7 measured)", async () => {
    for (const [as, bs] of patterns) {
      const a = toF64(randArr(size(as), 1));
      // keep divisors away from 0
      const b = toF64(randArr(size(bs), 2).map((v) => (Math.abs(v) < 0.2 ? 0.5 : v)));
      for (const [name, f, ref] of ops) {
        const y = tf.tidy(() => f(tf.tensor(Float32Array.from(a), as), tf.tensor(Float32Array.from(b), bs)));
        const want = broadcastRef(
          Float64Array.from(Float32Array.from(a)),
          as,
          Float64Array.from(Float32Array.from(b)),
          bs,
          ref,
        );
        const e = relErr(await y.data(), want);
        expect(e, `${name} [${as}] ∘ [${bs}]`).toBeLessThan(1e-6);
        y.dispose();
      }
      const cmp = tf.tidy(() => tf.greater(tf.tensor(Float32Array.from(a), as), tf.tensor(Float32Array.from(b), bs)));
      const wantCmp = broadcastRef(
        Float64Array.from(Float32Array.from(a)),
        as,
        Float64Array.from(Float32Array.from(b)),
        bs,
        (x, y) => (x > y ? 1 : 0),
      );
      expect(Array.from(await cmp.data())).toEqual(Array.from(wantCmp));
      cmp.dispose();
    }
    expect(takeWebgpuErrors()).toEqual([]);
  });

  it("gradients of broadcasting mul/add (bias, scale) match central differences", async () => {
    const xs = [2, 3, 3, 2, 3];
    const x = randArr(size(xs), 3);
    const s = randArr(3, 4);
    const c = randArr(3, 5);
    const f = (xt: tf.Tensor, st: tf.Tensor, ct: tf.Tensor) => tf.add(tf.mul(xt, st), ct);
    const r = randArr(size(xs), 6);
    const got = await valueAndGrads(
      f,
      [
        { a: x, shape: xs },
        { a: s, shape: [3] },
        { a: c, shape: [1, 1, 1, 1, 3] },
      ],
      r,
    );
    const ref = (v: F64[]) =>
      broadcastRef(
        broadcastRef(v[0], xs, v[1], [3], (p, q) => p * q),
        xs,
        v[2],
        [3],
        (p, q) => p + q,
      );
    const want = numGrad(ref, [x, s, c], r);
    for (const [i, g] of got.grads.entries()) expect(relErr(g, want[i]), `grad ${i}`).toBeLessThan(1e-4);
    expect(takeWebgpuErrors()).toEqual([]);
  });

  it("tf.where at rank 5 (stock: 'Where for rank 5 is not yet supported'), forward and gradient", async () => {
    const s = [1, 3, 4, 2, 4];
    const x = randArr(size(s), 7);
    const y = randArr(size(s), 8);
    const r = randArr(size(s), 9);
    // the condition is data, not differentiated (as in the losses and leakyRelu's gradient)
    const m = x.map((p, i) => (p > y[i] ? 1 : 0));
    const mask = tf.tensor(Float32Array.from(m), s, "bool");
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.where(mask, a, tf.mul(b, 2));
    const got = await valueAndGrads(
      f,
      [
        { a: x, shape: s },
        { a: y, shape: s },
      ],
      r,
    );
    mask.dispose();
    const ref = (v: F64[]) => v[0].map((p, i) => (m[i] ? p : 2 * v[1][i]));
    expect(relErr(got.y, ref([x, y]))).toBeLessThan(1e-6);
    const want = numGrad(ref, [x, y], r);
    for (const [i, g] of got.grads.entries()) expect(relErr(g, want[i]), `grad ${i}`).toBeLessThan(1e-4);
    // leakyRelu's gradient goes through Select too
    const lr = await valueAndGrads((a) => tf.leakyRelu(a, 0.01), [{ a: x, shape: s }], r);
    const lref = (v: F64[]) => v[0].map((p) => (p > 0 ? p : 0.01 * p));
    expect(relErr(lr.grads[0], numGrad(lref, [x], r)[0])).toBeLessThan(1e-4);
    expect(takeWebgpuErrors()).toEqual([]);
  });

  it("tile, pad and reflect-pad at rank 5 match their definitions", async () => {
    const s = [1, 2, 3, 2, 3];
    const a = Float32Array.from(randArr(size(s), 10));
    const x = tf.tensor(a, s);
    const t = tf.tile(x, [2, 1, 1, 2, 1]);
    const tRef = new Float32Array(size(t.shape));
    const pad = tf.pad(
      x,
      [
        [0, 0],
        [1, 0],
        [0, 2],
        [1, 1],
        [0, 0],
      ],
      0.5,
    );
    const mp = tf.mirrorPad(
      x,
      [
        [0, 0],
        [1, 1],
        [2, 1],
        [1, 0],
        [0, 0],
      ],
      "reflect",
    );
    const at = (i: number[]) => a[(((i[0] * s[1] + i[1]) * s[2] + i[2]) * s[3] + i[3]) * s[4] + i[4]];
    const walk = (shape: number[], f: (i: number[], flat: number) => void) => {
      const n = size(shape);
      for (let flat = 0; flat < n; flat++) {
        const i: number[] = [];
        let rest = flat;
        for (let d = shape.length - 1; d >= 0; d--) {
          i[d] = rest % shape[d];
          rest = Math.floor(rest / shape[d]);
        }
        f(i, flat);
      }
    };
    walk(t.shape, (i, flat) => {
      tRef[flat] = at(i.map((v, d) => v % s[d]));
    });
    expect(Array.from(await t.data())).toEqual(Array.from(tRef));
    const before = [0, 1, 0, 1, 0];
    const pRef: number[] = [];
    walk(pad.shape, (i) => {
      const j = i.map((v, d) => v - before[d]);
      pRef.push(j.every((v, d) => v >= 0 && v < s[d]) ? at(j) : 0.5);
    });
    expect(Array.from(await pad.data())).toEqual(Array.from(Float32Array.from(pRef)));
    const mb = [0, 1, 2, 1, 0];
    const reflect = (v: number, n: number) => (v < 0 ? -v : v >= n ? 2 * (n - 1) - v : v);
    const mRef: number[] = [];
    walk(mp.shape, (i) => mRef.push(at(i.map((v, d) => reflect(v - mb[d], s[d])))));
    expect(Array.from(await mp.data())).toEqual(Array.from(Float32Array.from(mRef)));
    tf.dispose([x, t, pad, mp]);
    expect(takeWebgpuErrors()).toEqual([]);
  });

  it("conv3d (tfjs' Conv3D and its two backprop kernels) matches float64, gradients central differences", async () => {
    const xs = [1, 4, 3, 4, 2];
    const ws = [3, 3, 3, 2, 3];
    const x = randArr(size(xs), 11);
    const w = randArr(size(ws), 12, 0.5);
    const pads: [[number, number], [number, number], [number, number]] = [
      [1, 1],
      [1, 1],
      [1, 1],
    ];
    const ref = (v: F64[]) => conv3dRef(v[0], xs, v[1], ws, [1, 1, 1], pads).y;
    const r = randArr(size([1, 4, 3, 4, 3]), 13);
    for (const impl of ["auto", "conv2d", "taps"] as const) {
      const got = await valueAndGrads(
        (a, b) => conv3d(a as tf.Tensor5D, b as tf.Tensor5D, { impl }),
        [
          { a: x, shape: xs },
          { a: w, shape: ws },
        ],
        r,
      );
      expect(relErr(got.y, ref([x, w])), `${impl} forward`).toBeLessThan(1e-5);
      const want = numGrad(ref, [x, w], r);
      for (const [i, g] of got.grads.entries()) expect(relErr(g, want[i]), `${impl} grad ${i}`).toBeLessThan(1e-4);
    }
    // stride 2 (tfjs' own conv3d and input gradient: right on webgpu, unlike wasm)
    const ref2 = (v: F64[]) =>
      conv3dRef(
        v[0],
        xs,
        v[1],
        ws,
        [2, 2, 2],
        [
          [0, 1],
          [1, 1],
          [0, 1],
        ],
      ).y;
    const r2 = randArr(size([1, 2, 2, 2, 3]), 14);
    const got2 = await valueAndGrads(
      (a, b) => conv3d(a as tf.Tensor5D, b as tf.Tensor5D, { strides: 2 }),
      [
        { a: x, shape: xs },
        { a: w, shape: ws },
      ],
      r2,
    );
    expect(relErr(got2.y, ref2([x, w]))).toBeLessThan(1e-5);
    const want2 = numGrad(ref2, [x, w], r2);
    for (const [i, g] of got2.grads.entries()) expect(relErr(g, want2[i]), `stride 2 grad ${i}`).toBeLessThan(1e-4);
    expect(takeWebgpuErrors()).toEqual([]);
  });

  it("the stock kernels fail where the fixes are needed (canaries; run last)", async () => {
    uninstallWebgpuKernelFixes();
    try {
      expect(() =>
        tf.tidy(() => tf.where(tf.ones([1, 2, 2, 2, 2], "bool"), tf.ones([1, 2, 2, 2, 2]), tf.zeros([1, 2, 2, 2, 2]))),
      ).toThrow(/rank 5/);
      const y = tf.tidy(() => tf.add(tf.ones([1, 2, 2, 2, 5]), tf.tensor1d([1, 2, 3, 4, 5])));
      const v = await y.data();
      y.dispose();
      const errs = takeWebgpuErrors();
      // the shader does not compile: reported as an uncaptured WebGPU error, the output is not the sum
      expect(errs.length > 0 || v[0] !== 2).toBe(true);
    } finally {
      installWebgpuKernelFixes();
    }
  });
});
