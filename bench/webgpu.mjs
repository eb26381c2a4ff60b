#!/usr/bin/env node
// UNETR forward and training step (forward + backward + Adam) on the webgpu backend, with the
// adapter it ran on, and the forward checked against wasm (relative error of the logits).
// On a real GPU these are the figures that matter; on a software adapter (SwiftShader, what CI and
// GPU-less machines have) the run is a correctness smoke and its timings are a CPU's, not a GPU's.
// Usage (after `npm run build`):
//   node bench/webgpu.mjs [--config tiny|small|demo|btcv] [--reps 3] [--batch 1] [--no-check] [--json]
// Default config: btcv (the tutorial's 96³ UNETR, hidden 768) on a hardware adapter, tiny on a
// software one (the BTCV step takes many minutes on SwiftShader; pass --config btcv to insist).
// Without a GPU driver, WebGPU in Node can run on Debian chromium's SwiftShader:
//   VK_ADD_DRIVER_FILES=/usr/lib/chromium/vk_swiftshader_icd.json XDG_RUNTIME_DIR=/tmp node bench/webgpu.mjs
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { engine, RandomState, selectBackend } from "../packages/core/dist/index.js";
import { countParams, UNETR } from "../packages/models/dist/index.js";
import { UNETR_CONFIGS as CONFIGS } from "./nets.mjs";

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
};
const REPS = Number(opt("reps", "3"));
const BATCH = Number(opt("batch", "1"));
const log = (m) => process.stderr.write(`${m}\n`);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** fixed pseudo-random data (the recipe of bench/unetr.mjs) */
function data(shape, seed) {
  let s = seed >>> 0;
  const a = new Float32Array(shape.reduce((p, q) => p * q, 1));
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296;
  }
  return tf.tensor(a, shape);
}

const sel = await selectBackend("webgpu", { info: log, warn: log, error: log, debug() {}, child: () => null });
engine.prepareBackend("webgpu");
const adapter = sel.adapter;
const name = opt("config", adapter.software ? "tiny" : "btcv");
const cfg = CONFIGS[name];
if (!cfg) throw new Error(`unknown config "${name}" (known: ${Object.keys(CONFIGS)})`);
if (adapter.software)
  log("software adapter: a correctness smoke; the timings below are SwiftShader's (a CPU), not a GPU's");

const net = new UNETR(cfg, new RandomState(0));
const s = cfg.img_size;
const x = data([BATCH, s, s, s, 1], 1);
const target = data([BATCH, s, s, s, cfg.out_channels], 2);
const vars = [...net.params.values()];
const adam = tf.train.adam(1e-4);
const lossFn = () => tf.mean(tf.square(tf.sub(net.apply(x, { training: true }), target)));
const timed = async (f) => {
  const t0 = performance.now();
  const y = f();
  await y.data();
  y.dispose();
  return performance.now() - t0;
};
log(`${name} webgpu: warm-up (compiles the shaders)`);
const firstFwd = await timed(() => net.apply(x));
const firstStep = await timed(() => adam.minimize(lossFn, true, vars));
const fwd = [];
const step = [];
for (let i = 0; i < REPS; i++) fwd.push(await timed(() => net.apply(x)));
for (let i = 0; i < REPS; i++) step.push(await timed(() => adam.minimize(lossFn, true, vars)));
const gpuErrors = engine.takeWebgpuErrors();

let check;
if (!argv.includes("--no-check")) {
  // the forward (with the weights after the steps) on webgpu and on wasm
  const y = net.apply(x);
  const got = await y.data();
  y.dispose();
  const weights = await Promise.all(vars.map((v) => v.data()));
  await tf.setBackend("wasm");
  engine.prepareBackend("wasm");
  // variables moved to wasm with their values; recompute the forward there
  for (const [i, w] of weights.entries()) vars[i].assign(tf.tensor(w, vars[i].shape));
  const xw = data([BATCH, s, s, s, 1], 1);
  const yw = net.apply(xw);
  const want = await yw.data();
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  check = { forward_rel_err_vs_wasm: Math.sqrt(num / den) };
  tf.dispose([xw, yw]);
}

const out = {
  config: name,
  batch: BATCH,
  params: countParams(net.params),
  adapter,
  first_forward_ms: firstFwd,
  first_step_ms: firstStep,
  forward_ms: median(fwd),
  train_ms: median(step),
  webgpu_errors: gpuErrors,
  ...check,
};
log(
  `${name} webgpu on ${adapter.vendor}/${adapter.architecture} (${adapter.description || "?"}): ` +
    `fwd ${out.forward_ms.toFixed(0)} ms, step ${out.train_ms.toFixed(0)} ms` +
    `${check ? `, forward vs wasm ${check.forward_rel_err_vs_wasm.toExponential(2)}` : ""}` +
    `${gpuErrors.length ? `, WebGPU errors: ${gpuErrors[0]}` : ""}`,
);
if (argv.includes("--json")) console.log(JSON.stringify(out));
process.exitCode = gpuErrors.length || (check && !(check.forward_rel_err_vs_wasm < 1e-4)) ? 1 : 0;
