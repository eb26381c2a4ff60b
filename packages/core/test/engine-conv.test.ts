/**
 * Engine 3-D convs against float64 references, forward and both gradients, on cpu and wasm (with
 * and without the wasm kernel fixes): conv3d k1 / k3 / even k / valid, every stride-1 form, patch
 * conv (k = s), transposed conv k = s = 2 and 4; tensor leaks; the wasm bug the engine works around.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ConvImpl,
  conv3d,
  convTranspose3d,
  convTranspose3dK2S2,
  installWasmKernelFixes,
  patchConv3d,
  registerGradients,
  uninstallWasmKernelFixes,
} from "../src/engine/index.js";
import { VoxelpipeError } from "../src/errors.js";
import {
  conv3dRef,
  convTransposeRef,
  type F64,
  f32,
  numGrad,
  type Pads,
  randArr,
  relErr,
  size,
  type Triple,
  tensor,
  tfValueAndGrads,
} from "./engine-reference.js";

registerGradients();
const TOL = 2e-5;

interface ConvCase {
  name: string;
  xs: number[];
  ws: number[];
  padding: "same" | "valid";
  strides?: Triple;
  pads: Pads; // the zero padding that padding/strides mean, for the reference
}
const convCases: ConvCase[] = [
  {
    name: "k3 same",
    xs: [1, 4, 5, 3, 2],
    ws: [3, 3, 3, 2, 3],
    padding: "same",
    pads: [
      [1, 1],
      [1, 1],
      [1, 1],
    ],
  },
  {
    name: "k3 same, batch 2",
    xs: [2, 3, 4, 5, 2],
    ws: [3, 3, 3, 2, 2],
    padding: "same",
    pads: [
      [1, 1],
      [1, 1],
      [1, 1],
    ],
  },
  {
    name: "k1",
    xs: [2, 3, 2, 4, 3],
    ws: [1, 1, 1, 3, 4],
    padding: "same",
    pads: [
      [0, 0],
      [0, 0],
      [0, 0],
    ],
  },
  {
    name: "k3 valid",
    xs: [1, 5, 4, 6, 2],
    ws: [3, 3, 3, 2, 3],
    padding: "valid",
    pads: [
      [0, 0],
      [0, 0],
      [0, 0],
    ],
  },
  {
    name: "k2 same (pad after)",
    xs: [1, 3, 4, 3, 2],
    ws: [2, 2, 2, 2, 3],
    padding: "same",
    pads: [
      [0, 1],
      [0, 1],
      [0, 1],
    ],
  },
  {
    name: "k 3×1×3 same",
    xs: [1, 4, 3, 4, 2],
    ws: [3, 1, 3, 2, 2],
    padding: "same",
    pads: [
      [1, 1],
      [0, 0],
      [1, 1],
    ],
  },
];

/** conv3d through the engine vs the float64 reference: forward, dL/dx, dL/dw. */
function checkConv(c: ConvCase, impl: ConvImpl): void {
  const s = c.strides ?? [1, 1, 1];
  const x = f32(randArr(size(c.xs), 1));
  const w = f32(randArr(size(c.ws), 2, 0.5));
  const ref = conv3dRef(x, c.xs, w, c.ws, s, c.pads);
  const r = randArr(ref.y.length, 3);
  const [gx, gw] = numGrad(([a, b]) => conv3dRef(a, c.xs, b, c.ws, s, c.pads).y, [x, w], r, 1e-2);
  const got = tfValueAndGrads(
    (a, b) => conv3d(a as tf.Tensor5D, b as tf.Tensor5D, { padding: c.padding, strides: s, impl }),
    [
      { a: x, shape: c.xs },
      { a: w, shape: c.ws },
    ],
    r,
  );
  expect(got.shape).toEqual(ref.shape);
  expect(relErr(got.y, ref.y)).toBeLessThan(TOL);
  expect(relErr(got.grads[0], gx)).toBeLessThan(TOL);
  expect(relErr(got.grads[1], gw)).toBeLessThan(TOL);
}

function checkTransposed(xs: number[], ws: number[], op: (x: tf.Tensor5D, w: tf.Tensor5D) => tf.Tensor5D): void {
  const x = f32(randArr(size(xs), 4));
  const w = f32(randArr(size(ws), 5, 0.5));
  const ref = convTransposeRef(x, xs, w, ws);
  const r = randArr(ref.y.length, 6);
  const [gx, gw] = numGrad(([a, b]) => convTransposeRef(a, xs, b, ws).y, [x, w], r, 1e-2);
  const got = tfValueAndGrads(
    (a, b) => op(a as tf.Tensor5D, b as tf.Tensor5D),
    [
      { a: x, shape: xs },
      { a: w, shape: ws },
    ],
    r,
  );
  expect(got.shape).toEqual(ref.shape);
  expect(relErr(got.y, ref.y)).toBeLessThan(TOL);
  expect(relErr(got.grads[0], gx)).toBeLessThan(TOL);
  expect(relErr(got.grads[1], gw)).toBeLessThan(TOL);
}

/** Counts tensors (engine) and backend buffers before/after fn; both must come back. */
function expectNoLeak(fn: () => void): void {
  fn(); // first call may allocate caches
  const t0 = tf.memory().numTensors;
  const d0 = tf.backend().numDataIds();
  fn();
  expect(tf.memory().numTensors).toBe(t0);
  expect(tf.backend().numDataIds()).toBe(d0);
}

const setups = [
  { name: "cpu", backend: "cpu", fixes: false },
  { name: "wasm + kernel fixes", backend: "wasm", fixes: true },
  { name: "wasm stock kernels", backend: "wasm", fixes: false },
];

for (const setup of setups) {
  describe(`engine convs on ${setup.name}`, () => {
    beforeAll(async () => {
      await tf.setBackend(setup.backend);
      await tf.ready();
      if (setup.backend === "wasm") {
        if (setup.fixes) installWasmKernelFixes();
        else uninstallWasmKernelFixes();
      }
    });
    afterAll(() => {
      if (setup.backend === "wasm") installWasmKernelFixes();
    });

    // native tf.conv3d only where its gradients are right
    const impls: ConvImpl[] =
      setup.backend === "cpu" ? ["auto", "conv2d", "taps", "native"] : ["auto", "conv2d", "taps"];
    for (const c of convCases) {
      for (const impl of impls) {
        it(`conv3d ${c.name} [${impl}]: forward, dx, dw = float64 reference`, () => checkConv(c, impl));
      }
    }

    it("patch conv (k = s, non-cubic) via patchConv3d and via conv3d(strides = k)", () => {
      const pc: ConvCase = {
        name: "patch",
        xs: [2, 8, 4, 6, 2],
        ws: [4, 2, 3, 2, 5],
        padding: "valid",
        strides: [4, 2, 3],
        pads: [
          [0, 0],
          [0, 0],
          [0, 0],
        ],
      };
      checkConv(pc, "auto");
      checkConv({ ...pc, padding: "same" }, "auto"); // divisible: same = valid
      // direct call, trailing voxels dropped like PyTorch (9 = 2·4 + 1)
      const xs = [1, 9, 5, 7, 1];
      const ws = [4, 2, 3, 1, 3];
      const x = f32(randArr(size(xs), 7));
      const w = f32(randArr(size(ws), 8));
      const ref = conv3dRef(
        x,
        xs,
        w,
        ws,
        [4, 2, 3],
        [
          [0, 0],
          [0, 0],
          [0, 0],
        ],
      );
      const r = randArr(ref.y.length, 9);
      const [gx, gw] = numGrad(
        ([a, b]) =>
          conv3dRef(
            a,
            xs,
            b,
            ws,
            [4, 2, 3],
            [
              [0, 0],
              [0, 0],
              [0, 0],
            ],
          ).y,
        [x, w],
        r,
        1e-2,
      );
      const got = tfValueAndGrads(
        (a, b) => patchConv3d(a as tf.Tensor5D, b as tf.Tensor5D),
        [
          { a: x, shape: xs },
          { a: w, shape: ws },
        ],
        r,
      );
      expect(got.shape).toEqual([1, 2, 2, 2, 3]);
      expect(relErr(got.y, ref.y)).toBeLessThan(TOL);
      expect(relErr(got.grads[0], gx)).toBeLessThan(TOL);
      expect(relErr(got.grads[1], gw)).toBeLessThan(TOL);
    });

    it("transposed conv k = s = 2 (UNETR), 4 (ViTAutoEnc) and non-cubic: forward and gradients", () => {
      checkTransposed([2, 2, 3, 2, 3], [2, 2, 2, 4, 3], convTranspose3dK2S2);
      checkTransposed([1, 2, 1, 2, 3], [4, 4, 4, 2, 3], convTranspose3d);
      checkTransposed([1, 3, 2, 2, 2], [2, 1, 3, 3, 2], convTranspose3d);
    });

    it("hand-computed: 1×1×1 conv and a 2×2×2 transposed conv of ones", () => {
      // k1: y = x·w per voxel: x = [1, 2] (2 channels), w = [[3], [4]] → 1·3 + 2·4 = 11
      const y = conv3d(tf.tensor5d([1, 2], [1, 1, 1, 1, 2]), tf.tensor5d([3, 4], [1, 1, 1, 2, 1]));
      expect(Array.from(y.dataSync())).toEqual([11]);
      // one input voxel of value 2, kernel values 0..7 → the 2×2×2 output is 2·kernel in C order
      const t = convTranspose3dK2S2(
        tf.tensor5d([2], [1, 1, 1, 1, 1]),
        tf.tensor5d([0, 1, 2, 3, 4, 5, 6, 7], [2, 2, 2, 1, 1]),
      );
      expect(t.shape).toEqual([1, 2, 2, 2, 1]);
      expect(Array.from(t.dataSync())).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
      // 3×3×3 'same' conv of a constant 1 with an all-ones kernel counts the in-volume neighbours
      const c = conv3d(tf.ones([1, 3, 3, 3, 1]) as tf.Tensor5D, tf.ones([3, 3, 3, 1, 1]) as tf.Tensor5D);
      const v = c.dataSync();
      expect([v[0], v[4], v[13]]).toEqual([8, 18, 27]); // corner 2·2·2, voxel (0,1,1) 2·3·3, centre 3·3·3
      tf.dispose([y, t, c]);
    });

    it("no tensor leaks: forward under tidy and forward + gradients", () => {
      const x = tf.randomUniform([1, 4, 4, 4, 3]) as tf.Tensor5D;
      const w = tf.randomUniform([3, 3, 3, 3, 2]) as tf.Tensor5D;
      const wt = tf.randomUniform([2, 2, 2, 2, 3]) as tf.Tensor5D;
      const wp = tf.randomUniform([2, 2, 2, 3, 4]) as tf.Tensor5D;
      for (const impl of ["auto", "conv2d", "taps"] as ConvImpl[]) {
        expectNoLeak(() => tf.tidy(() => void conv3d(x, w, { impl })));
        expectNoLeak(() =>
          tf.dispose(tf.grads((a, b) => tf.sum(conv3d(a as tf.Tensor5D, b as tf.Tensor5D, { impl })))([x, w])),
        );
      }
      expectNoLeak(() =>
        tf.dispose(tf.grads((a, b) => tf.sum(convTranspose3dK2S2(a as tf.Tensor5D, b as tf.Tensor5D)))([x, wt])),
      );
      expectNoLeak(() =>
        tf.dispose(tf.grads((a, b) => tf.sum(patchConv3d(a as tf.Tensor5D, b as tf.Tensor5D)))([x, wp])),
      );
      // a plain call outside tidy returns exactly one new tensor
      const n0 = tf.memory().numTensors;
      const y = conv3d(x, w);
      expect(tf.memory().numTensors).toBe(n0 + 1);
      tf.dispose([x, w, wt, wp, y]);
    });

    it("clear errors for wrong shapes", () => {
      const x = tf.zeros([1, 4, 4, 4, 3]) as tf.Tensor5D;
      const bad = () => conv3d(x, tf.zeros([3, 3, 3, 2, 4]) as tf.Tensor5D);
      expect(bad).toThrow(VoxelpipeError);
      expect(bad).toThrow(/input channels/);
      expect(() => convTranspose3dK2S2(x, tf.zeros([3, 3, 3, 2, 3]) as tf.Tensor5D)).toThrow(/2×2×2/);
      expect(() =>
        conv3d(tf.zeros([4, 4, 4, 3]) as unknown as tf.Tensor5D, tf.zeros([1, 1, 1, 3, 1]) as tf.Tensor5D),
      ).toThrow(/rank 5/);
      expect(() => patchConv3d(x, tf.zeros([8, 8, 8, 3, 2]) as tf.Tensor5D)).toThrow(/patch larger/);
      tf.dispose(x);
    });
  });
}

describe("why the engine exists: stock tfjs-backend-wasm 3-D conv kernels", () => {
  beforeAll(async () => {
    await tf.setBackend("wasm");
    await tf.ready();
    installWasmKernelFixes();
  });

  // Canary: if this starts failing, tfjs fixed Conv3DBackpropInputV2 and the engine's custom
  // gradient could be retired on wasm (docs/engine.md).
  it("tf.conv3d's input gradient is wrong on wasm (Conv3DBackpropInputV2), the engine's is right", () => {
    const xs = [1, 4, 5, 3, 2];
    const ws = [3, 3, 3, 2, 3];
    const x = f32(randArr(size(xs), 1));
    const w = f32(randArr(size(ws), 2, 0.5));
    const pads: Pads = [
      [1, 1],
      [1, 1],
      [1, 1],
    ];
    const r = randArr(size([1, 4, 5, 3, 3]), 3);
    const [gx] = numGrad(([a]) => conv3dRef(a, xs, w, ws, [1, 1, 1], pads).y, [x], r, 1e-2);
    const inputs = [
      { a: x, shape: xs },
      { a: w, shape: ws },
    ];
    const stock = tfValueAndGrads((a, b) => tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, 1, "same"), inputs, r);
    const ours = tfValueAndGrads((a, b) => conv3d(a as tf.Tensor5D, b as tf.Tensor5D), inputs, r);
    expect(relErr(stock.grads[0], gx)).toBeGreaterThan(1e-2);
    expect(relErr(ours.grads[0], gx)).toBeLessThan(TOL);
  });

  it("stride ≠ 1 and ≠ kernel is refused while recording gradients on wasm, allowed for inference", () => {
    const x = tf.randomUniform([1, 4, 4, 4, 2]) as tf.Tensor5D;
    const w = tf.randomUniform([3, 3, 3, 2, 2]) as tf.Tensor5D;
    expect(() => tf.grad((a) => tf.sum(conv3d(a as tf.Tensor5D, w, { strides: 2 })))(x)).toThrow(
      /cannot be trained on the wasm/,
    );
    const y = conv3d(x, w, { strides: 2 });
    expect(y.shape).toEqual([1, 2, 2, 2, 2]);
    tf.dispose([x, w, y]);
  });

  it("strided conv (k3 s2) forward matches the reference", () => {
    const xs = [1, 5, 4, 6, 2];
    const ws = [3, 3, 3, 2, 2];
    const x = f32(randArr(size(xs), 11));
    const w = f32(randArr(size(ws), 12));
    // TF 'same' for stride 2: out = ceil(n/2), total pad = max((out-1)·2 + 3 - n, 0), extra after
    const pads: Pads = [
      [1, 1], // n 5 → out 3, pad 2
      [0, 1], // n 4 → out 2, pad 1
      [0, 1], // n 6 → out 3, pad 1
    ];
    const ref = conv3dRef(x, xs, w, ws, [2, 2, 2], pads);
    const y = conv3d(tensor(x, xs) as tf.Tensor5D, tensor(w, ws) as tf.Tensor5D, { strides: 2 });
    expect(y.shape).toEqual(ref.shape);
    expect(relErr(y.dataSync(), ref.y as F64)).toBeLessThan(TOL);
    y.dispose();
  });
});
