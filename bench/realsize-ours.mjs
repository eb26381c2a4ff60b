#!/usr/bin/env node
// Our side of bench/realsize.mjs: the seed's pipelines at their real size on tfjs wasm, one exported async
// function per case, each self-contained (builds its network and data, warms up, times, disposes) and returning
// `{ ms (median), samples, ... }`. The data-parallel / micro-batched trainer will replace the bodies of
// btcvStep / sslStep / slidingWindowCt; keep the signatures.
//
// Standalone (one case per process, so that the peak RSS is the case's own):
//   node bench/realsize-ours.mjs --case btcv-step-1 [--reps 2] [--warmup 1] [--ssl-batch 8] [--net btcv|small]
//        [--volume FILE.f32 --shape S0,S1,S2]   (sw-ct: raw float32 C-order [S0,S1,S2], written by realsize.mjs)
// prints one JSON line {case, ms, samples, peak_rss_mb, threads, backend, ...} or {case, error, oom, peak_rss_mb}.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { availableParallelism } from "node:os";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { engine, RandomState, selectBackend } from "../packages/core/dist/index.js";
import { SlidingWindow, UNETR } from "../packages/models/dist/index.js";
import { openStepSession } from "../packages/runner/dist/index.js";
import { UNETR_CONFIGS, VIT_AUTOENC_CONFIGS } from "./nets.mjs";

/** UNETR / ViTAutoEnc configurations (bench/nets.mjs): the seed's ("btcv") and a 32³ smoke-test size ("small") */
export const NETS = {
  btcv: { unetr: UNETR_CONFIGS.btcv, ssl: VIT_AUTOENC_CONFIGS.btcv },
  small: { unetr: UNETR_CONFIGS.small, ssl: VIT_AUTOENC_CONFIGS.small },
};

const THREADS = Number(process.env.VOXELPIPE_BENCH_THREADS ?? availableParallelism());
let backendReady;
/** tfjs wasm with voxelpipe's kernel fixes and gradients (once per process) */
export function ready() {
  backendReady ??= (async () => {
    tf.env().set("PROD", true);
    // as `voxelpipe run` does: single-threaded wasm here; the threads go to model replicas
    await selectBackend("wasm");
    engine.prepareBackend("wasm");
  })();
  return backendReady;
}

/** fixed pseudo-random values in [0, 1) (LCG, as bench/unetr.mjs) */
function lcg(n, seed) {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296;
  }
  return a;
}
const rand = (shape, seed) =>
  tf.tensor(
    lcg(
      shape.reduce((p, q) => p * q, 1),
      seed,
    ),
    shape,
  );
const randLabels = (shape, classes, seed) =>
  tf.tensor(
    lcg(
      shape.reduce((p, q) => p * q, 1),
      seed,
    ).map((u) => Math.floor(u * classes)),
    shape,
  );

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** `warmup` untimed calls, then `reps` timed ones; each call must await its result */
async function timed(fn, { reps = 2, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return { ms: median(samples), samples: samples.map((v) => Math.round(v)) };
}

/** a train stage as data, for the runner's step session (the code path `voxelpipe run` takes) */
const pipeline = (stage) => ({
  value: { version: 1, name: "bench", stages: { fit: { kind: "train", ...stage } } },
  baseDir: process.cwd(),
  seed: 0,
  stageOutputs: {},
});

/** the step as the trainer runs it: memory plan, micro-batches, replicas, the runner's Adam (lr 1e-4) */
async function trainerStep(stage, batch, inputs, opts) {
  const session = await openStepSession({
    pipeline: pipeline({ optimizer: { type: "Adam", lr: 1.0e-4 }, ...stage }),
    stage: "fit",
    backend: "wasm",
    threads: THREADS,
    batch,
  });
  let loss = Number.NaN;
  try {
    const r = await timed(async () => {
      const { scalars, grads } = await session.runner.step(inputs, 0);
      session.apply(grads);
      loss = scalars.loss;
    }, opts);
    const p = session.plan;
    return {
      ...r,
      batch,
      loss,
      plan: {
        micro_batch: p.microBatch,
        checkpointing: p.checkpointing,
        replicas: p.replicas,
        step_gb: p.memory.step_bytes && +(p.memory.step_bytes / 2 ** 30).toFixed(2),
      },
    };
  } finally {
    await session.runner.close();
    await session.close();
  }
}

/** btcv-step-N: UNETR train step at `batch` 96³ crops, DiceCE(to_onehot_y, softmax) on labels 0..13, Adam 1e-4 */
export async function btcvStep(batch, opts = {}) {
  await ready();
  const cfg = NETS[opts.net ?? "btcv"].unetr;
  const s = cfg.img_size;
  const x = rand([batch, s, s, s, 1], 1);
  const labels = randLabels([batch, s, s, s, 1], cfg.out_channels, 2);
  try {
    return await trainerStep(
      {
        model: { type: "UNETR", ...cfg },
        step: {
          logits: { call: "model", in: "image" },
          loss: { call: { type: "DiceCELoss", to_onehot_y: true, softmax: true }, in: ["logits", "label"] },
        },
      },
      batch,
      { image: x, label: labels },
      opts,
    );
  } finally {
    tf.dispose([x, labels]);
  }
}

/** btcv-forward: UNETR inference on one 96³ crop */
export async function btcvForward(opts = {}) {
  await ready();
  const cfg = NETS[opts.net ?? "btcv"].unetr;
  const s = cfg.img_size;
  const net = new UNETR(cfg, new RandomState(0));
  const x = rand([1, s, s, s, 1], 1);
  try {
    const r = await timed(async () => {
      const y = net.apply(x);
      await y.data();
      y.dispose();
    }, opts);
    return { ...r, batch: 1 };
  } finally {
    x.dispose();
    net.dispose();
  }
}

/** ssl-step: ViTAutoEnc on two views of `batch` 96³ crops; loss = L1(recon1, gt) + CL(T 0.05)(recon1, recon2)·L1 */
export async function sslStep(batch, opts = {}) {
  await ready();
  const cfg = NETS[opts.net ?? "btcv"].ssl;
  const s = cfg.img_size;
  // the corruption itself is data loading (bench/preprocess.mjs); here: three fixed random volumes
  const gt = rand([batch, s, s, s, 1], 1);
  const view1 = rand([batch, s, s, s, 1], 2);
  const view2 = rand([batch, s, s, s, 1], 3);
  try {
    const r = await trainerStep(
      {
        model: { type: "ViTAutoEnc", in_channels: 1, ...cfg },
        step: {
          recon1: { call: "model", in: "image" },
          recon2: { call: "model", in: "image_2" },
          l1: { call: { type: "L1Loss" }, in: ["recon1", "gt_image"] },
          cl: { call: { type: "ContrastiveLoss", temperature: 0.05 }, in: ["recon1", "recon2"] },
          loss: "l1 + cl * l1",
        },
      },
      batch,
      { image: view1, image_2: view2, gt_image: gt },
      opts,
    );
    return { ...r, views: 2 };
  } finally {
    tf.dispose([gt, view1, view2]);
  }
}

/**
 * sw-ct: sliding-window inference (roi 96³, sw_batch_size 4, overlap 0.5, gaussian, σ 0.125) of a whole
 * preprocessed CT `{ data: Float32Array, shape: [S0, S1, S2] }` with the BTCV UNETR. The warm-up is one
 * window batch (4 × 96³), not the whole volume; the timed part is the whole inference.
 */
export async function slidingWindowCt(volume, opts = {}) {
  await ready();
  const cfg = NETS[opts.net ?? "btcv"].unetr;
  const roi = cfg.img_size;
  const session = await openStepSession({
    pipeline: pipeline({
      optimizer: { type: "Adam", lr: 1.0e-4 },
      model: { type: "UNETR", ...cfg },
      step: {
        logits: { call: "model", in: "image" },
        loss: { call: { type: "DiceCELoss", to_onehot_y: true, softmax: true }, in: ["logits", "label"] },
      },
    }),
    stage: "fit",
    backend: "wasm",
    threads: THREADS,
    batch: 1,
  });
  const inferer = new SlidingWindow({
    roi_size: roi,
    sw_batch_size: 4,
    overlap: 0.5,
    mode: "gaussian",
    sigma_scale: 0.125,
  });
  const x = tf.tensor5d(volume.data, [1, ...volume.shape, 1]);
  const predictor = (b) => session.predict(b);
  let outShape = [];
  let outMean = Number.NaN;
  try {
    const { warmup = 1, reps = 1 } = opts;
    for (let i = 0; i < warmup; i++) {
      const w = tf.zeros([4, roi, roi, roi, 1]);
      const y = await predictor(w);
      await y.data();
      tf.dispose([w, y]);
    }
    const r = await timed(
      async () => {
        const y = await inferer.infer(x, predictor, { concurrency: session.concurrency });
        outShape = y.shape;
        const m = tf.mean(y);
        outMean = (await m.data())[0];
        tf.dispose([y, m]);
      },
      { reps, warmup: 0 },
    );
    return { ...r, volume: volume.shape, roi, out_shape: outShape, out_mean: outMean, replicas: session.concurrency };
  } finally {
    x.dispose();
    await session.close();
  }
}

/** the wasm32 heap (4 GB) running out shows up as one of these */
export const WASM_OOM =
  /memory access out of bounds|Aborted\(|Cannot enlarge memory|Out of memory|Array buffer allocation failed/i;

const CASES = {
  "btcv-step-4": (o) => btcvStep(4, o),
  "btcv-step-1": (o) => btcvStep(1, o),
  "btcv-forward": (o) => btcvForward(o),
  "ssl-step": (o) => sslStep(o.sslBatch ?? 8, o),
  "sw-ct": (o) => {
    if (!o.volume || !o.shape) throw new Error("sw-ct needs --volume FILE.f32 --shape S0,S1,S2");
    const buf = readFileSync(o.volume);
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const shape = o.shape.split(",").map(Number);
    if (data.length !== shape[0] * shape[1] * shape[2])
      throw new Error(`${o.volume}: ${data.length} values, expected ${shape.join("×")}`);
    return slidingWindowCt({ data, shape }, o);
  },
};
export const CASE_NAMES = Object.keys(CASES);

async function cli() {
  const argv = process.argv.slice(2);
  const opt = (name, def) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
  };
  const name = opt("case");
  if (!CASES[name]) throw new Error(`--case must be one of ${CASE_NAMES.join(", ")}`);
  const o = {
    reps: Number(opt("reps", name === "sw-ct" ? "1" : "2")),
    warmup: Number(opt("warmup", "1")),
    sslBatch: Number(opt("ssl-batch", "8")),
    net: opt("net", "btcv"),
    volume: opt("volume"),
    shape: opt("shape"),
  };
  const peak = () => Math.round(process.resourceUsage().maxRSS / 102.4) / 10; // KiB → MiB
  let out;
  try {
    const r = await CASES[name](o);
    out = {
      case: name,
      ...r,
      peak_rss_mb: peak(),
      threads: THREADS,
      xnnpack_threads: getThreadsCount(),
      backend: "wasm",
      net: o.net,
    };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const oom = WASM_OOM.test(msg);
    out = { case: name, error: oom ? "out of memory (wasm heap)" : msg.split("\n")[0], oom, peak_rss_mb: peak() };
    if (oom) out.detail = msg.split("\n")[0].slice(0, 200);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  // a trapped wasm module leaves tfjs unusable (later calls print Aborted()): leave at once
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await cli();
