/**
 * tfjs-backend-wasm's threaded build in Node (engine/wasm-threads.ts): it really runs XNNPACK with
 * more than one thread, gives bit-identical results to the single-thread build on the engine's
 * conv3d / matMul (with voxelpipe's kernel fixes installed), and falls back to the single-thread
 * build, with the reason reported, when the threaded one cannot start.
 *
 * Each case re-registers the "wasm" backend, so this file owns the wasm backend for its process
 * (vitest runs each test file in its own worker).
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../src/backend.js";
import {
  configureWasmThreads,
  conv3d,
  prepareBackend,
  resolveWasmThreads,
  WASM_MAX_THREADS,
  wasmThreadsStatus,
} from "../src/engine/index.js";
import { createMemoryLogger } from "../src/logger.js";
import { randArr } from "./engine-reference.js";

// sizes big enough that XNNPACK splits the work between threads (it runs tiny GEMMs on one)
const xv = Float32Array.from(randArr(2 * 12 * 12 * 12 * 8, 1));
const wv = Float32Array.from(randArr(3 * 3 * 3 * 8 * 16, 2));
const av = Float32Array.from(randArr(4 * 96 * 64, 3));
const bv = Float32Array.from(randArr(64 * 80, 4));

/** conv3d forward + both gradients, and a batched matMul with a transposed operand and its gradient */
function compute(): Float32Array[] {
  const outs = tf.tidy(() => {
    const x = tf.tensor(xv, [2, 12, 12, 12, 8]) as tf.Tensor5D;
    const w = tf.tensor(wv, [3, 3, 3, 8, 16]) as tf.Tensor5D;
    const a = tf.tensor(av, [4, 96, 64]);
    const b = tf.tensor(bv, [80, 64]);
    const conv = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(conv3d(xx as tf.Tensor5D, ww as tf.Tensor5D)));
    const mm = (aa: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.square(tf.matMul(aa, tf.broadcastTo(bb, [4, 80, 64]), false, true)));
    return [
      conv3d(x, w),
      ...tf.grads(conv)([x, w]),
      tf.matMul(a, tf.broadcastTo(b, [4, 80, 64]), false, true),
      ...tf.grads(mm)([a, b]),
    ];
  });
  const out = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  return out;
}

function expectBitIdentical(got: Float32Array[], want: Float32Array[]): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(got[i].length).toBe(want[i].length);
    // compare bit patterns: toEqual on floats would also accept -0 for 0
    expect(new Uint32Array(got[i].buffer)).toEqual(new Uint32Array(want[i].buffer));
  }
}

describe("wasm threads", () => {
  let single: Float32Array[];

  beforeAll(async () => {
    // tfjs's own single-thread SIMD build: the reference
    await configureWasmThreads(1);
    expect(await tf.setBackend("wasm")).toBe(true);
    prepareBackend("wasm");
    expect(getThreadsCount()).toBe(1);
    single = compute();
  });

  afterAll(() => {
    // removing the backend terminates its pthread workers
    tf.removeBackend("wasm");
  });

  it("resolves thread counts", () => {
    expect(resolveWasmThreads(3)).toBe(3);
    expect(resolveWasmThreads(0)).toBe(1);
    expect(resolveWasmThreads(100)).toBe(WASM_MAX_THREADS);
    expect(resolveWasmThreads("auto")).toBeGreaterThanOrEqual(1);
    expect(() => resolveWasmThreads(Number.NaN)).toThrow(/threads/);
  });

  it("runs XNNPACK on 2 threads with results bit-identical to 1 thread", async () => {
    const logger = createMemoryLogger();
    expect(await configureWasmThreads(2, { logger })).toBe(true);
    expect(await configureWasmThreads(2)).toBe(false); // same count: nothing to redo
    expect(await tf.setBackend("wasm")).toBe(true);
    const prep = prepareBackend("wasm");
    expect(getThreadsCount()).toBe(2);
    expect(prep.wasmThreads).toEqual({ requested: 2, threads: 2, build: "threaded-simd" });
    // the heap is the threaded build's shared memory (the single-thread build's is not shared)
    const { wasm } = tf.backend() as unknown as {
      wasm: { HEAPU8: Uint8Array; PThread: { runningWorkers: unknown[] } };
    };
    expect(wasm.HEAPU8.buffer).toBeInstanceOf(SharedArrayBuffer);
    // XNNPACK's pool: the calling thread + one pthread worker, running
    expect(wasm.PThread.runningWorkers.length).toBe(1);
    expect(logger.lines.join("\n")).toMatch(/2 threads/);
    const before = tf.memory().numTensors;
    expectBitIdentical(compute(), single);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("falls back to the single-thread build, with the reason, when the threaded one cannot start", async () => {
    const logger = createMemoryLogger();
    await configureWasmThreads(2, { logger, paths: { wasm: "/nonexistent/tfjs-backend-wasm-threaded-simd.wasm" } });
    expect(await tf.setBackend("wasm")).toBe(true);
    prepareBackend("wasm");
    expect(getThreadsCount()).toBe(1);
    const st = wasmThreadsStatus();
    expect(st?.build).toBe("simd");
    expect(st?.fallback).toMatch(/ENOENT/);
    expect(logger.lines.join("\n")).toMatch(/threaded build unavailable.*ENOENT.*single-thread/);
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8;
    expect(heap.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expectBitIdentical(compute(), single);
  });

  it("selectBackend takes a thread count and reports it", async () => {
    const sel = await selectBackend("wasm", undefined, { threads: 2 });
    expect(sel.name).toBe("wasm");
    expect(sel.threads).toEqual({ requested: 2, actual: 2, fallback: undefined });
    expect(getThreadsCount()).toBe(2);
    prepareBackend("wasm");
    expectBitIdentical(compute(), single);
  });
});
