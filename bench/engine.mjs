#!/usr/bin/env node
// Engine micro-benchmarks: tfjs cpu vs stock wasm vs wasm with voxelpipe's kernel fixes, for the
// ops the networks spend their time in. Prints a markdown table (median ms) for docs/engine.md.
// Usage (after `npx tsc -p packages/core`): node bench/engine.mjs [--reps 5] [--quick]
// The machine may be shared: compare ratios within one run, not across runs.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { engine } from "../packages/core/dist/index.js";

const argv = process.argv.slice(2);
const REPS = Number(argv[argv.indexOf("--reps") + 1]) || 5;
const QUICK = argv.includes("--quick");

function rand(shape, seed) {
  let s = seed >>> 0;
  const a = new Float32Array(shape.reduce((p, q) => p * q, 1));
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return tf.tensor(a, shape);
}

/** median wall time (ms) of fn; results disposed; cpu/wasm run synchronously. */
function time(fn, reps = REPS) {
  tf.dispose(fn()); // warm-up (also compiles XNNPACK operators)
  const ts = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const out = fn();
    ts.push(performance.now() - t0);
    tf.dispose(out);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

const sumOf =
  (f) =>
  (...xs) =>
    tf.sum(f(...xs));
const grads = (f, xs) => () => tf.grads(sumOf(f))(xs);

const cases = [
  {
    name: "conv3d fwd 32³ 16→16 k3 — tf.conv3d",
    setup: () => [rand([1, 32, 32, 32, 16], 1), rand([3, 3, 3, 16, 16], 2)],
    run:
      ([x, w]) =>
      () =>
        tf.conv3d(x, w, 1, "same"),
  },
  {
    name: "conv3d fwd — engine conv2d form",
    setup: () => [rand([1, 32, 32, 32, 16], 1), rand([3, 3, 3, 16, 16], 2)],
    run:
      ([x, w]) =>
      () =>
        engine.conv3d(x, w, { impl: "conv2d" }),
  },
  {
    name: "conv3d fwd — engine taps form",
    setup: () => [rand([1, 32, 32, 32, 16], 1), rand([3, 3, 3, 16, 16], 2)],
    run:
      ([x, w]) =>
      () =>
        engine.conv3d(x, w, { impl: "taps" }),
    skipOn: ["cpu"], // ≈12 s: tfjs-cpu's rank-5 slice is per element; never used on cpu
  },
  {
    name: "conv3d fwd+bwd — tf.conv3d (input grad wrong on wasm)",
    setup: () => [rand([1, 32, 32, 32, 16], 1), rand([3, 3, 3, 16, 16], 2)],
    run: (xs) => grads((x, w) => tf.conv3d(x, w, 1, "same"), xs),
    slow: true,
  },
  {
    name: "conv3d fwd+bwd — engine conv2d form",
    setup: () => [rand([1, 32, 32, 32, 16], 1), rand([3, 3, 3, 16, 16], 2)],
    run: (xs) => grads((x, w) => engine.conv3d(x, w, { impl: "conv2d" }), xs),
    skipOn: ["cpu"], // ≈9 s on cpu, where tf.conv3d is used
  },
  {
    name: "conv3d fwd+bwd — engine taps form",
    setup: () => [rand([1, 32, 32, 32, 16], 1), rand([3, 3, 3, 16, 16], 2)],
    run: (xs) => grads((x, w) => engine.conv3d(x, w, { impl: "taps" }), xs),
    skipOn: ["cpu"],
  },
  {
    name: "k2s2 transposed conv fwd 16³ 32→16 — tf.conv3dTranspose (wrong on wasm)",
    setup: () => [rand([1, 16, 16, 16, 32], 3), rand([2, 2, 2, 16, 32], 4)],
    run:
      ([x, w]) =>
      () =>
        tf.conv3dTranspose(x, w, [1, 32, 32, 32, 16], 2, "valid"),
  },
  {
    name: "k2s2 transposed conv fwd+bwd — engine matMul form",
    setup: () => [rand([1, 16, 16, 16, 32], 3), rand([2, 2, 2, 16, 32], 4)],
    run: (xs) => grads((x, w) => engine.convTranspose3dK2S2(x, w), xs),
  },
  {
    name: "patch conv 96³→6³ p16 1→768 fwd+bwd — engine",
    setup: () => [rand([1, 96, 96, 96, 1], 5), rand([16, 16, 16, 1, 768], 6)],
    run: (xs) => grads((x, w) => engine.patchConv3d(x, w), xs),
  },
  {
    name: "dense 216×768 · 768×768 fwd",
    setup: () => [rand([216, 768], 7), rand([768, 768], 8)],
    run:
      ([x, w]) =>
      () =>
        tf.matMul(x, w),
  },
  {
    name: "dense 216×768 · 768×768 fwd+bwd",
    setup: () => [rand([216, 768], 7), rand([768, 768], 8)],
    run: (xs) => grads((x, w) => tf.matMul(x, w), xs),
  },
  {
    name: "attention 12×216×64 · (12×216×64)ᵀ fwd+bwd",
    setup: () => [rand([1, 12, 216, 64], 9), rand([1, 12, 216, 64], 10)],
    run: (xs) => grads((q, k) => tf.matMul(q, k, false, true), xs),
  },
  {
    name: "transpose [4,216,3,12,64] → [3,4,12,216,64] (qkv split, batch 4) fwd+bwd",
    setup: () => [rand([4, 216, 3, 12, 64], 12)],
    run: (xs) => grads((x) => tf.transpose(x, [2, 0, 3, 1, 4]), xs),
  },
  {
    name: "27-way split of 32³×432 (56 MB; concat's backward)",
    setup: () => [rand([1, 32, 32, 32, 432], 11)],
    run:
      ([x]) =>
      () =>
        tf.split(x, 27, 4),
    slow: true,
  },
];

const columns = [
  { name: "cpu", backend: "cpu", fixes: false },
  { name: "wasm stock", backend: "wasm", fixes: false },
  { name: "wasm + fixes", backend: "wasm", fixes: true },
];

const results = cases.map(() => []);
for (const col of columns) {
  await tf.setBackend(col.backend);
  await tf.ready();
  if (col.backend === "wasm") col.fixes ? engine.installWasmKernelFixes() : engine.uninstallWasmKernelFixes();
  for (const [i, c] of cases.entries()) {
    if ((QUICK && c.slow) || c.skipOn?.includes(col.backend)) {
      results[i].push("–");
      continue;
    }
    const inputs = c.setup();
    const reps = c.slow ? Math.max(1, Math.floor(REPS / 3)) : REPS;
    const ms = time(c.run(inputs), reps);
    tf.dispose(inputs);
    results[i].push(ms < 10 ? ms.toFixed(1) : ms.toFixed(0));
    process.stderr.write(`${col.name}: ${c.name}: ${results[i].at(-1)} ms\n`);
  }
}

console.log(`| op (median ms, ${REPS} reps) | ${columns.map((c) => c.name).join(" | ")} |`);
console.log(`|---|${columns.map(() => "---").join("|")}|`);
for (const [i, c] of cases.entries()) console.log(`| ${c.name} | ${results[i].join(" | ")} |`);
