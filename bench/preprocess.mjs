#!/usr/bin/env node
/**
 * Data-loading throughput: BTCV deterministic preprocessing of a real CT and the SSL random chain on
 * 96³ crops, in the main thread and with worker threads. Build first: `npx tsc -p packages/runner`
 * (and its dependencies). Usage: node bench/preprocess.mjs [--volumes N] [--epochs E] [--workers W]
 * [--ssl-only] (the SSL random chain in the main thread only, and numpy)
 * Prints a table (volumes/s, MB/s of output, CPU time, peak RSS); asserts nothing.
 *
 * MONAI 1.4 reference (2 threads): deterministic part 2.66 s per volume, output 243×193×168;
 * SSL random chain 24 ms per volume. MONAI itself is not needed: when `python3 -c "import numpy"` works
 * (or $PYTHON), the same SSL random chain re-implemented in numpy with MONAI's draws and array work
 * (bench/ssl_chain_numpy.py) runs in the same benchmark run, on the same input shape, and is compared.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SHARED = process.env.VOXELPIPE_SHARED ?? resolve(REPO, "../shared");
const CT = join(SHARED, "data/totalseg/example_ct.nii.gz");
if (!existsSync(CT)) {
  console.log(`skipped: ${CT} not found (the benchmark needs ../shared)`);
  process.exit(0);
}
const RUNNER = join(REPO, "packages/runner/dist/index.js");
if (!existsSync(join(REPO, "packages/runner/dist/data/worker.js"))) {
  console.log("skipped: packages/runner/dist is not built (npx tsc -p packages/core ... -p packages/runner)");
  process.exit(0);
}

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const VOLUMES = arg("volumes", 4);
const EPOCHS = arg("epochs", 3);
const WORKERS = arg("workers", 2);
/** --ssl-only: just the SSL random chain in the main thread (and numpy), for quick before/after runs */
const SSL_ONLY = process.argv.includes("--ssl-only");

const { buildChain, builtinRegistries, DataLoader } = await import(RUNNER);
const { RngStreams, isVolume } = await import(join(REPO, "packages/core/dist/index.js"));

const DET = [
  { type: "LoadImage", keys: ["image"] },
  { type: "Orientation", keys: ["image"], axcodes: "RAS" },
  { type: "Spacing", keys: ["image"], pixdim: [1.5, 1.5, 2.0], mode: "bilinear" },
  { type: "ScaleIntensityRange", keys: ["image"], a_min: -175, a_max: 250, b_min: 0, b_max: 1, clip: true },
  { type: "CropForeground", keys: ["image"], source_key: "image" },
];
const cutout = (key) => ({
  type: "OneOf",
  transforms: [
    {
      type: "RandCoarseDropout",
      keys: [key],
      prob: 1,
      holes: 6,
      spatial_size: 5,
      dropout_holes: true,
      max_spatial_size: 32,
    },
    {
      type: "RandCoarseDropout",
      keys: [key],
      prob: 1,
      holes: 6,
      spatial_size: 20,
      dropout_holes: false,
      max_spatial_size: 64,
    },
  ],
});
const SSL = [
  { type: "RandSpatialCropSamples", keys: ["image"], roi_size: 96, num_samples: 2 },
  { type: "CopyItems", keys: ["image"], times: 2, names: ["gt_image", "image_2"] },
  cutout("image"),
  { type: "RandCoarseShuffle", keys: ["image"], prob: 0.8, holes: 10, spatial_size: 8 },
  cutout("image_2"),
  { type: "RandCoarseShuffle", keys: ["image_2"], prob: 0.8, holes: 10, spatial_size: 8 },
];

const pipeline = (list) => ({
  value: { stages: { bench: { transforms: list } } },
  baseDir: REPO,
  seed: 0,
  stageOutputs: {},
});
const source = (list) => ({
  pipeline: pipeline(list),
  stage: "bench",
  list: "transforms",
  rngSeed: new RngStreams(0).child("stage", "bench").seed,
  backend: "cpu",
});
const dataset = { splits: () => ["training"], size: () => VOLUMES, get: () => ({ image: CT }) };

/** process RSS high-water mark (workers are threads of this process, so they are included) */
let peak = 0;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().rss);
};
const timer = setInterval(sample, 10);

const bytesOf = (samples) => {
  let b = 0;
  for (const s of samples) for (const v of Object.values(s)) if (isVolume(v)) b += v.data.byteLength;
  return b;
};

const rows = [];
let outShape = "";
async function measure(list, config, epochs) {
  global.gc?.();
  peak = process.memoryUsage().rss;
  const src = source(list);
  const chain = await buildChain(src, builtinRegistries());
  const loader = new DataLoader({
    dataset,
    split: "training",
    chain,
    rng: new RngStreams(src.rngSeed),
    config,
    source: src,
  });
  const t0 = performance.now();
  await loader.start(); // worker start-up is reported apart from throughput
  const startup = (performance.now() - t0) / 1000;
  const timed = [];
  for (const epoch of epochs) {
    const t0 = performance.now();
    const c0 = process.cpuUsage(); // the whole process: worker threads and GC included
    let n = 0;
    let bytes = 0;
    for await (const { samples } of loader.items(epoch)) {
      n++;
      bytes += bytesOf(samples);
      if (list === DET) outShape ||= samples[0].image.shape.join("×");
      sample();
    }
    const c = process.cpuUsage(c0);
    timed.push({ epoch, s: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, n, bytes });
  }
  // the cached deterministic output's shape (what the numpy side gets as its input)
  const cachedImage = loader.memory?.get(0)?.[0]?.image;
  if (isVolume(cachedImage)) outShape ||= cachedImage.shape.join("×");
  await loader.close();
  return { timed, peak, startup };
}

function row(what, mode, t, peakRss, startup) {
  const n = t.reduce((a, x) => a + x.n, 0);
  const s = t.reduce((a, x) => a + x.s, 0);
  const mb = t.reduce((a, x) => a + x.bytes, 0) / 1e6;
  const cpu = t.reduce((a, x) => a + x.cpu, 0);
  rows.push({
    what,
    mode,
    volumes: n,
    "s/volume": (s / n).toFixed(3),
    "cpu s/volume": (cpu / n).toFixed(3),
    "volumes/s": (n / s).toFixed(2),
    "MB/s": (mb / s).toFixed(1),
    "peak RSS MB": (peakRss / 1e6).toFixed(0),
    "worker start s": mode === "main thread" ? "-" : startup.toFixed(2),
  });
}

console.log(`input ${CT}; ${VOLUMES} volumes, random chain over ${EPOCHS} epochs; workers: ${WORKERS}`);
for (const workers of SSL_ONLY || WORKERS === 0 ? [0] : [0, WORKERS]) {
  const mode = workers ? `${workers} workers` : "main thread";
  if (!SSL_ONLY) {
    // deterministic part only: every volume computed (no cache)
    const det = await measure(DET, { cache_rate: 0, num_workers: workers }, [0]);
    row("load + BTCV deterministic", mode, det.timed, det.peak, det.startup);
  }
  // full SSL chain with the deterministic prefix cached: epoch 0 fills the cache, later epochs time
  // the deep copy + random crops/cutouts/shuffles of 2×96³ samples on both views
  const full = await measure([...DET, ...SSL], { cache_rate: 1, num_workers: workers }, [...Array(EPOCHS + 1).keys()]);
  row("SSL random chain (cached prefix)", mode, full.timed.slice(1), full.peak, full.startup);
}
clearInterval(timer);

/** The numpy re-implementation of MONAI's SSL random chain (bench/ssl_chain_numpy.py), same input shape. */
function numpyChain() {
  const py = process.env.PYTHON ?? "python3";
  if (spawnSync(py, ["-c", "import numpy"], { stdio: "ignore" }).status !== 0) return null;
  const shape = (outShape || "243×193×168").split("×");
  const r = spawnSync(
    py,
    [join(REPO, "bench/ssl_chain_numpy.py"), "--shape", ...shape, "--volumes", String(VOLUMES * EPOCHS)],
    {
      encoding: "utf8",
    },
  );
  if (r.status !== 0) {
    console.log(`numpy SSL chain failed: ${r.stderr.trim().split("\n").pop()}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split("\n").pop());
}
const np = numpyChain();
if (np) {
  rows.push({
    what: `SSL random chain, numpy ${np.numpy} (MONAI-equivalent)`,
    mode: "main thread",
    volumes: np.volumes,
    "s/volume": (np.ms_per_volume / 1000).toFixed(3),
    "cpu s/volume": (np.cpu_ms_per_volume / 1000).toFixed(3),
    "volumes/s": (1000 / np.ms_per_volume).toFixed(2),
    "MB/s": "-",
    "peak RSS MB": "-",
    "worker start s": "-",
  });
}
console.log(
  `deterministic output ${outShape || "?"} (MONAI: 243×193×168, 2.66 s/volume; SSL random chain 24 ms/volume)`,
);
console.table(rows);
const ours = rows.find((r) => r.what.startsWith("SSL random chain (cached") && r.mode === "main thread");
if (np && ours) {
  const wall = np.ms_per_volume / 1000 / Number(ours["s/volume"]);
  const cpu = np.cpu_ms_per_volume / 1000 / Number(ours["cpu s/volume"]);
  console.log(
    `SSL random chain, main thread, throughput vs numpy (MONAI-equivalent): ${wall.toFixed(2)}× (wall), ${cpu.toFixed(2)}× (CPU time)`,
  );
} else {
  console.log("SSL random chain: numpy comparison skipped (python3 with numpy not found; set $PYTHON)");
}
