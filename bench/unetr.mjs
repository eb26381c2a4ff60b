#!/usr/bin/env node
// UNETR forward and training-step (forward + backward + Adam) timings on each tfjs backend, and the
// identical network in PyTorch (bench/unetr_torch.py, 2 threads) when `import torch` works.
// Usage (after `npx tsc -p packages/core && npx tsc -p packages/models`):
//   node bench/unetr.mjs [--configs small,demo,btcv] [--backends cpu,wasm] [--reps 3] [--batch 1] [--no-torch] [--json]
// Configs (bench/nets.mjs): small = 32³ UNETR, feature 16, hidden 96, mlp 384, 4 heads; demo = pipelines/demo.yaml's;
// btcv = the tutorial's 96³, feature 16, hidden 768, mlp 3072, 12 heads, 14 classes (slow on cpu:
// minutes per step). Batch 1. The machine may be shared: compare ratios within one run.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { engine, RandomState } from "../packages/core/dist/index.js";
import { countParams, UNETR } from "../packages/models/dist/index.js";
import { UNETR_CONFIGS } from "./nets.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
};
// the configs bench/unetr_torch.py also builds
const CONFIGS = { small: UNETR_CONFIGS.small, demo: UNETR_CONFIGS.demo, btcv: UNETR_CONFIGS.btcv };
const configs = opt("configs", "small,btcv").split(",");
const backends = opt("backends", "cpu,wasm").split(",");
const REPS = Number(opt("reps", "3"));
const BATCH = Number(opt("batch", "1"));
const JSON_OUT = argv.includes("--json");
const log = (m) => process.stderr.write(`${m}\n`);

for (const c of configs) if (!CONFIGS[c]) throw new Error(`unknown config "${c}" (known: ${Object.keys(CONFIGS)})`);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** fixed pseudo-random data (same recipe as bench/unetr_torch.py) */
function data(shape, seed) {
  let s = seed >>> 0;
  const a = new Float32Array(shape.reduce((p, q) => p * q, 1));
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296;
  }
  return tf.tensor(a, shape);
}

async function benchTfjs(backend, name) {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} unavailable`);
  await tf.ready();
  engine.prepareBackend(backend);
  const cfg = CONFIGS[name];
  const net = new UNETR(cfg, new RandomState(0));
  const s = cfg.img_size;
  const x = data([BATCH, s, s, s, 1], 1);
  const target = data([BATCH, s, s, s, cfg.out_channels], 2);
  const vars = [...net.params.values()];
  const adam = tf.train.adam(1e-4);
  // loss = mean squared error to a fixed target: the same arithmetic in the torch script
  const lossFn = () => tf.mean(tf.square(tf.sub(net.apply(x, { training: true }), target)));
  const fwd = async () => {
    const t0 = performance.now();
    const y = net.apply(x);
    await y.data();
    y.dispose();
    return performance.now() - t0;
  };
  const step = async () => {
    const t0 = performance.now();
    const cost = adam.minimize(lossFn, true, vars);
    await cost.data();
    cost.dispose();
    return performance.now() - t0;
  };
  const reps = name === "btcv" ? Math.min(REPS, 2) : REPS;
  log(`${name} ${backend}: warm-up`);
  await fwd();
  await step();
  const f = [];
  const st = [];
  for (let i = 0; i < reps; i++) f.push(await fwd());
  for (let i = 0; i < reps; i++) st.push(await step());
  const out = { params: countParams(net.params), forward_ms: median(f), train_ms: median(st) };
  adam.dispose();
  tf.dispose([x, target]);
  net.dispose();
  log(`${name} ${backend}: fwd ${out.forward_ms.toFixed(0)} ms, step ${out.train_ms.toFixed(0)} ms`);
  return out;
}

function benchTorch(name) {
  if (argv.includes("--no-torch")) return { skipped: "--no-torch" };
  // $PYTHON, then the PATH's python3, then Debian's (apt-get install python3-torch puts torch there)
  const python = [process.env.PYTHON, "python3", "/usr/bin/python3"]
    .filter(Boolean)
    .find((p) => spawnSync(p, ["-c", "import torch"], { encoding: "utf8" }).status === 0);
  if (!python) return { skipped: "no python3 that can import torch (apt-get install python3-torch)" };
  const env = { ...process.env, OMP_NUM_THREADS: "2", MKL_NUM_THREADS: "2" };
  const reps = name === "btcv" ? Math.min(REPS, 2) : REPS;
  const args = [join(here, "unetr_torch.py"), "--config", name, "--reps", String(reps), "--batch", String(BATCH)];
  log(`${name} torch: running`);
  const r = spawnSync(python, args, { encoding: "utf8", env, maxBuffer: 1 << 20 });
  if (r.status !== 0) return { skipped: `unetr_torch.py failed: ${(r.stderr || "").trim().split("\n").pop()}` };
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

const rows = [];
for (const name of configs) {
  const torch = benchTorch(name);
  for (const backend of backends) {
    let r;
    try {
      r = await benchTfjs(backend, name);
    } catch (e) {
      r = { error: e.message };
    }
    rows.push({ config: name, backend, ...r, torch });
  }
}

if (JSON_OUT) {
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
} else {
  const f = (v) => (typeof v === "number" ? v.toFixed(0) : "—");
  const ratio = (a, b) => (typeof a === "number" && typeof b === "number" ? `${(a / b).toFixed(1)}×` : "—");
  console.log(
    "| config | backend | params | fwd ms | step ms | torch fwd ms | torch step ms | fwd / torch | step / torch |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    const t = r.torch ?? {};
    console.log(
      `| ${r.config} | ${r.backend}${r.error ? ` (error: ${r.error})` : ""} | ${r.params ?? "—"} | ${f(r.forward_ms)} | ${f(r.train_ms)} | ` +
        `${f(t.forward_ms)} | ${f(t.train_ms)} | ${ratio(r.forward_ms, t.forward_ms)} | ${ratio(r.train_ms, t.train_ms)} |`,
    );
  }
  const skipped = [...new Set(rows.map((r) => r.torch?.skipped).filter(Boolean))];
  if (skipped.length) console.log(`\nPyTorch column skipped: ${skipped.join("; ")}`);
  console.log(`\nmedian of ${REPS} (btcv: ≤ 2) after one warm-up; step = forward + backward + Adam; batch ${BATCH}.`);
}
