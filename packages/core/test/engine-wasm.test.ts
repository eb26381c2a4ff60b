/**
 * The user-land wasm kernel fixes (Slice / SplitV / Unpack / BatchMatMul), prepareBackend and the
 * gradient registration: exact agreement with the cpu backend / float64, install idempotence,
 * stock-kernel bugs they remove, and no leaked tensors or heap buffers.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { assert, beforeAll, describe, expect, it } from "vitest";
import {
  installWasmKernelFixes,
  prepareBackend,
  registerGradients,
  uninstallWasmKernelFixes,
  wasmKernelFixesInstalled,
  wasmKernelFixNames,
} from "../src/engine/index.js";
import { f32, matMulRef, randArr, relErr, size } from "./engine-reference.js";

/** Runs fn on cpu and on wasm (fixes installed) with the same input values; returns both outputs. */
async function onBoth(
  inputs: { values: Float32Array | Int32Array; shape: number[]; dtype?: "float32" | "int32" | "bool" }[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<{ cpu: number[][]; wasm: number[][] }> {
  const out: Record<string, number[][]> = {};
  for (const be of ["cpu", "wasm"]) {
    await tf.setBackend(be);
    const xs = inputs.map((i) => tf.tensor(i.values, i.shape, i.dtype ?? "float32"));
    const r = fn(...xs);
    const rs = Array.isArray(r) ? r : [r];
    out[be] = rs.map((t) => [...t.shape, -1, ...Array.from(t.dataSync())]);
    tf.dispose([...xs, ...rs]);
  }
  await tf.setBackend("wasm");
  return { cpu: out.cpu, wasm: out.wasm };
}

const seq = (n: number) => Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);

describe("wasm kernel fixes", () => {
  beforeAll(async () => {
    await tf.setBackend("wasm");
    await tf.ready();
    installWasmKernelFixes();
  });

  it("install is idempotent, uninstall restores the stock kernels", () => {
    uninstallWasmKernelFixes();
    expect(wasmKernelFixesInstalled()).toBe(false);
    const stock = tf.getKernel(tf.BatchMatMul, "wasm");
    expect(installWasmKernelFixes()).toBe(true);
    expect(installWasmKernelFixes()).toBe(false);
    expect(wasmKernelFixesInstalled()).toBe(true);
    expect(tf.getKernel(tf.BatchMatMul, "wasm")).not.toBe(stock);
    uninstallWasmKernelFixes();
    expect(tf.getKernel(tf.BatchMatMul, "wasm")).toBe(stock);
    installWasmKernelFixes();
    expect([...wasmKernelFixNames].sort()).toEqual(
      [tf.BatchMatMul, tf.Concat, tf.Identity, tf.Mean, tf.Slice, tf.SplitV, tf.Sum, tf.Transpose, tf.Unpack].sort(),
    );
  });

  it("prepareBackend installs the fixes on wasm only and reports the gradients", () => {
    uninstallWasmKernelFixes();
    const p = prepareBackend("wasm");
    expect(p.kernelFixes.sort()).toEqual([...wasmKernelFixNames].sort());
    expect(wasmKernelFixesInstalled()).toBe(true);
    expect(prepareBackend("cpu").kernelFixes).toEqual([]);
    const g = p.gradients;
    assert(g, "prepareBackend without inferenceOnly reports the gradients");
    expect(g.skipped).toEqual([]);
    const all = [...g.registered, ...g.existing];
    for (const k of [tf.Sum, tf.BatchMatMul, tf.Erf, tf.Softmax, tf.PadV2, tf.Slice, tf.Concat, tf.LeakyRelu]) {
      expect(all).toContain(k);
    }
    expect(registerGradients()).toBe(g); // once per process
  });

  it("slice: bit-identical to cpu for every rank, contiguous or not, float32/int32/bool, size −1", async () => {
    const cases: [number[], number[], number[]][] = [
      [[7], [2], [4]],
      [
        [5, 6],
        [1, 2],
        [3, 3],
      ],
      [
        [4, 5, 6],
        [1, 0, 2],
        [2, 5, 3],
      ],
      [
        [3, 4, 5, 6],
        [0, 1, 0, 0],
        [3, 2, 5, 6],
      ], // contiguous runs of 30
      [
        [2, 4, 5, 6, 3],
        [1, 1, 1, 1, 0],
        [1, 2, 3, 4, 3],
      ], // conv tap
      [
        [2, 4, 5, 6, 3],
        [0, 0, 0, 0, 1],
        [2, 4, 5, 6, 2],
      ], // channel slice: runs of 2
      [
        [2, 3, 4, 2, 3, 5],
        [1, 0, 1, 0, 1, 2],
        [1, 3, 2, 2, 2, 3],
      ], // rank 6
      [
        [2, 3, 4, 5, 6],
        [1, 1, 2, 0, 3],
        [-1, -1, -1, -1, -1],
      ], // size −1 = to the end
    ];
    for (const [shape, begin, sz] of cases) {
      const n = size(shape);
      for (const dtype of ["float32", "int32", "bool"] as const) {
        const values =
          dtype === "float32" ? seq(n) : Int32Array.from({ length: n }, (_, i) => (dtype === "bool" ? (i % 3) & 1 : i));
        const r = await onBoth([{ values, shape, dtype }], (x) => tf.slice(x, begin, sz));
        expect(r.wasm, `${shape} ${begin} ${sz} ${dtype}`).toEqual(r.cpu);
      }
    }
  });

  it("slice of a large tensor (2 M floats) copies only the slice, correctly", () => {
    const shape = [1, 64, 64, 64, 8];
    const x = tf.tensor(
      Float32Array.from({ length: size(shape) }, (_, i) => i % 1000003),
      shape,
    );
    const y = tf.slice(x, [0, 1, 2, 3, 0], [1, 62, 62, 61, 8]);
    const v = y.dataSync();
    let bad = 0;
    let o = 0;
    for (let i = 1; i < 63; i++)
      for (let j = 2; j < 64; j++)
        for (let k = 3; k < 64; k++)
          for (let c = 0; c < 8; c++) if (v[o++] !== (((i * 64 + j) * 64 + k) * 8 + c) % 1000003) bad++;
    expect(o).toBe(v.length);
    expect(bad).toBe(0);
    tf.dispose([x, y]);
  });

  it("split (SplitV, concat's gradient) and unstack (Unpack) agree with cpu", async () => {
    const shape = [2, 3, 4, 5, 6];
    const values = seq(size(shape));
    for (const axis of [0, 1, 3, 4]) {
      const r = await onBoth([{ values, shape }], (x) => tf.split(x, [1, shape[axis] - 1], axis));
      expect(r.wasm).toEqual(r.cpu);
      const u = await onBoth([{ values, shape }], (x) => tf.unstack(x, axis));
      expect(u.wasm).toEqual(u.cpu);
    }
    const even = await onBoth([{ values, shape }], (x) => tf.split(x, 3, 4));
    expect(even.wasm).toEqual(even.cpu);
    // stridedSlice still goes through the stock kernel's own paths
    const ss = await onBoth([{ values, shape }], (x) =>
      tf.stridedSlice(x, [0, 1, 0, 1, 0], [2, 3, 4, 5, 6], [1, 1, 2, 1, 3]),
    );
    expect(ss.wasm).toEqual(ss.cpu);
  });

  it("transpose: rank 5-6 permutations (done as rank-4 steps) bit-identical to cpu", async () => {
    const cases: [number[], number[]][] = [
      [
        [2, 3, 4, 5, 6],
        [4, 2, 3, 0, 1],
      ],
      [
        [4, 6, 3, 2, 5],
        [2, 0, 3, 1, 4],
      ], // attention's qkv split with batch 4
      [
        [2, 3, 1, 4, 5, 2],
        [5, 0, 3, 2, 1, 4],
      ], // a size-1 dim
      [
        [2, 3, 4, 2, 3, 5],
        [0, 3, 1, 4, 2, 5],
      ], // depth-to-space
      [
        [3, 2, 2, 4, 5],
        [0, 1, 3, 2, 4],
      ], // reduces to rank 3: stock path
      [
        [2, 3, 4, 5, 6],
        [0, 1, 2, 3, 4],
      ], // identity
    ];
    for (const [shape, perm] of cases) {
      for (const dtype of ["float32", "int32"] as const) {
        const values = dtype === "float32" ? seq(size(shape)) : Int32Array.from({ length: size(shape) }, (_, i) => i);
        const r = await onBoth([{ values, shape, dtype }], (x) => tf.transpose(x, perm));
        expect(r.wasm, `${shape} ${perm}`).toEqual(r.cpu);
      }
    }
  });

  it("batchMatMul: larger shapes, every transpose, batches and broadcasts = float64", () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[37, 70], [70, 29], false, false],
      [[70, 37], [70, 29], true, false],
      [[37, 70], [29, 70], false, true],
      [[70, 37], [29, 70], true, true],
      [[3, 2, 17, 33], [3, 2, 33, 9], false, false],
      [[3, 2, 33, 17], [3, 2, 9, 33], true, true],
      [[4, 16, 40], [40, 24], false, false],
      [[16, 40], [5, 40, 24], false, false],
      [[5, 1, 16, 40], [1, 3, 24, 40], false, true],
    ];
    cases.forEach(([as, bs, tA, tB], i) => {
      const a = f32(randArr(size(as), 2 * i + 1));
      const b = f32(randArr(size(bs), 2 * i + 2));
      const ref = matMulRef(a, as, b, bs, tA, tB);
      const y = tf.matMul(tf.tensor(Float32Array.from(a), as), tf.tensor(Float32Array.from(b), bs), tA, tB);
      expect(y.shape).toEqual(ref.shape);
      expect(relErr(y.dataSync(), ref.y), `case ${i}`).toBeLessThan(1e-5);
      y.dispose();
    });
    // inner dimension 0: a sum over nothing is 0 (the output buffer is not left uninitialised)
    const z = tf.matMul(tf.zeros([2, 3, 0]), tf.zeros([2, 0, 4]));
    expect(z.shape).toEqual([2, 3, 4]);
    expect(Array.from(z.dataSync()).every((v) => v === 0)).toBe(true);
    z.dispose();
  });

  it("batchMatMul: the same weights under two shapes give right answers (stock caches a stale XNNPACK operator)", () => {
    const w = tf.tensor(
      Float32Array.from({ length: 24 }, (_, i) => i + 1),
      [4, 6],
    );
    const y1 = tf.matMul(tf.ones([1, 4]), w);
    const y2 = tf.matMul(tf.ones([1, 6]), tf.reshape(w, [6, 4]));
    expect(Array.from(y1.dataSync())).toEqual([40, 44, 48, 52, 56, 60]);
    expect(Array.from(y2.dataSync())).toEqual([66, 72, 78, 84]); // stock wasm returns 40, 44, 48, 52
    tf.dispose([w, y1, y2]);
  });

  it("no leaked tensors or heap buffers from the fixed kernels (incl. gradients)", () => {
    const a = tf.randomUniform([2, 3, 8, 5]);
    const b = tf.randomUniform([2, 3, 8, 6]);
    const x = tf.randomUniform([2, 4, 4, 4, 6]);
    const step = () => {
      tf.dispose(tf.grads((p, q) => tf.sum(tf.matMul(p, q, true, false)))([a, b]));
      tf.dispose(
        tf.grads((v) =>
          tf.sum(
            tf.concat(
              tf.split(v, 3, 4).map((s, i) => tf.mul(s, i + 1)),
              4,
            ),
          ),
        )([x]),
      );
      tf.dispose(tf.unstack(x, 1));
      tf.dispose(tf.slice(x, [0, 1, 1, 1, 2], [2, 2, 2, 2, 3]));
      tf.dispose(tf.grads((v) => tf.sum(tf.mul(tf.transpose(v, [4, 2, 3, 0, 1]), 2)))([x]));
    };
    step();
    const t0 = tf.memory().numTensors;
    const d0 = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(t0);
    expect(tf.backend().numDataIds()).toBe(d0);
    tf.dispose([a, b, x]);
  });
});

describe("gradient registration", () => {
  it("tf.grad works through tfjs-core ops once the engine is loaded (tfjs-core alone registers none)", async () => {
    await tf.setBackend("cpu");
    const g = tf.grad((x) => tf.sum(tf.mul(x, x)))(tf.tensor1d([1, 2, 3]));
    expect(Array.from(g.dataSync())).toEqual([2, 4, 6]);
    g.dispose();
  });

  it("matMul gradient with a broadcast weight (x[B,N,D]·w[D,F]) has the weight's shape", async () => {
    for (const be of ["cpu", "wasm"]) {
      await tf.setBackend(be);
      const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
      const w = tf.tensor2d([1, 0, 0, 1], [2, 2]);
      const [gx, gw] = tf.grads((a, b) => tf.sum(tf.matMul(a, b)))([x, w]);
      expect(gw.shape).toEqual([2, 2]);
      // dL/dw[i][j] = Σ_{b,n} x[b,n,i]: (1+3+5+7, 2+4+6+8) repeated over j
      expect(Array.from(gw.dataSync())).toEqual([16, 16, 20, 20]);
      expect(Array.from(gx.dataSync())).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
      tf.dispose([x, w, gx, gw]);
    }
  });
});
