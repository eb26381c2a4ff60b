#!/usr/bin/env node
// The seed's pipelines at their real size, ours (tfjs wasm, bench/realsize-ours.mjs) side by side with the same
// cases in PyTorch written to MONAI 1.4's semantics (bench/realsize_torch.py, 2 threads) when a python3 can
// `import torch`. Every case runs in its own child process on each side (peak RSS = that case's own high-water
// mark), ours and torch interleaved case by case.
// Usage (after `npm run build`):
//   node bench/realsize.mjs [--cases btcv-step-4,btcv-step-1,btcv-forward,ssl-step,sw-ct] [--reps 2] [--warmup 1]
//        [--threads 2] [--ssl-batch 8] [--net btcv|small] [--no-torch] [--no-ours] [--timeout-min 40] [--json]
//        [--sw-crop N]   (development: sw-ct on the first N voxels per dim of the CT only)
// sw-ct preprocesses ../shared/data/totalseg/example_ct.nii.gz once with our BTCV validation chain (Orientation
// RAS, Spacing 1.5×1.5×2 bilinear, ScaleIntensityRange −175..250 → 0..1 clip, CropForeground) and hands the
// identical float32 volume to both sides. The machine may be shared: compare ratios within one run.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, "..");
const SHARED = process.env.VOXELPIPE_SHARED ?? resolve(REPO, "../shared");
const CT = join(SHARED, "data/totalseg/example_ct.nii.gz");
const ALL = ["btcv-step-4", "btcv-step-1", "btcv-forward", "ssl-step", "sw-ct"];

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
};
const cases = opt("cases", ALL.join(",")).split(",");
for (const c of cases) if (!ALL.includes(c)) throw new Error(`unknown case "${c}" (known: ${ALL.join(", ")})`);
const REPS = opt("reps");
const WARMUP = opt("warmup", "1");
const THREADS = opt("threads", "2");
const SSL_BATCH = opt("ssl-batch", "8");
const NET = opt("net", "btcv");
const ROI = NET === "small" ? 32 : 96;
const TIMEOUT_MS = Number(opt("timeout-min", "40")) * 60_000;
// development only: crop the preprocessed CT to its first N voxels per dim (0 = the whole volume)
const SW_CROP = Number(opt("sw-crop", "0"));
const JSON_OUT = argv.includes("--json");
const log = (m) => process.stderr.write(`${m}\n`);
// the wasm32 heap (4 GB) running out, as the child's message or a crash's stderr shows it
const WASM_OOM =
  /memory access out of bounds|Aborted\(|Cannot enlarge memory|Out of memory|Array buffer allocation failed/i;

/** the python3 that can import torch: $PYTHON, the PATH's python3, then Debian's (python3-torch) */
function findTorch() {
  if (argv.includes("--no-torch")) return { skipped: "--no-torch" };
  const python = [process.env.PYTHON, "python3", "/usr/bin/python3"]
    .filter(Boolean)
    .find((p) => spawnSync(p, ["-c", "import torch"], { encoding: "utf8" }).status === 0);
  return python ? { python } : { skipped: "no python3 that can import torch (apt-get install python3-torch)" };
}

/** BTCV validation chain on the example CT, with our transforms (as bench/preprocess.mjs builds them) */
async function preprocessCt() {
  const runner = join(REPO, "packages/runner/dist/index.js");
  if (!existsSync(runner)) throw new Error("packages/runner/dist is not built (npm run build)");
  const { buildChain, builtinRegistries, DataLoader } = await import(runner);
  const { RngStreams } = await import(join(REPO, "packages/core/dist/index.js"));
  const transforms = [
    { type: "LoadImage", keys: ["image"] },
    { type: "Orientation", keys: ["image"], axcodes: "RAS" },
    { type: "Spacing", keys: ["image"], pixdim: [1.5, 1.5, 2.0], mode: "bilinear" },
    { type: "ScaleIntensityRange", keys: ["image"], a_min: -175, a_max: 250, b_min: 0, b_max: 1, clip: true },
    { type: "CropForeground", keys: ["image"], source_key: "image" },
  ];
  const source = {
    pipeline: { value: { stages: { bench: { transforms } } }, baseDir: REPO, seed: 0, stageOutputs: {} },
    stage: "bench",
    list: "transforms",
    rngSeed: new RngStreams(0).child("stage", "bench").seed,
    backend: "cpu",
  };
  const loader = new DataLoader({
    dataset: { splits: () => ["training"], size: () => 1, get: () => ({ image: CT }) },
    split: "training",
    chain: await buildChain(source, builtinRegistries()),
    rng: new RngStreams(source.rngSeed),
    config: { cache_rate: 0, num_workers: 0 },
    source,
  });
  await loader.start();
  let image;
  for await (const { samples } of loader.items(0)) image ??= samples[0].image;
  await loader.close();
  if (image.channels !== 1) throw new Error(`expected a 1-channel CT, got ${image.channels} channels`);
  // channel-last [S0, S1, S2, 1] C-order = channel-first [1, S0, S1, S2] C-order: one buffer serves both sides
  return { data: Float32Array.from(image.data), shape: image.shape };
}

/** the first n voxels per dim of a [S0, S1, S2] C-order volume */
function cropVolume(v, n) {
  const [a, b, c] = v.shape;
  const shape = [Math.min(a, n), Math.min(b, n), Math.min(c, n)];
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  let p = 0;
  for (let i = 0; i < shape[0]; i++)
    for (let j = 0; j < shape[1]; j++) {
      const row = (i * b + j) * c;
      data.set(v.data.subarray(row, row + shape[2]), p);
      p += shape[2];
    }
  return { data, shape };
}

/** run one case in a child; its stdout's last line is the case's JSON */
function child(cmd, args, env) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env, maxBuffer: 16 << 20, timeout: TIMEOUT_MS });
  const lines = (r.stdout || "").trim().split("\n");
  const last = lines[lines.length - 1];
  if (last?.startsWith("{")) {
    try {
      return JSON.parse(last);
    } catch {
      // fall through
    }
  }
  const err = (r.stderr || "").trim();
  if (r.error?.code === "ETIMEDOUT") return { error: `timed out after ${TIMEOUT_MS / 60_000} min` };
  if (WASM_OOM.test(err)) return { error: "out of memory (wasm heap)", oom: true };
  if (r.signal === "SIGKILL") return { error: "killed (out of memory?)" };
  return { error: `exit ${r.status ?? r.signal}: ${err.split("\n").pop()?.slice(0, 200) ?? ""}` };
}

function caseArgs(name, volume) {
  const a = ["--case", name, "--warmup", WARMUP, "--ssl-batch", SSL_BATCH, "--net", NET];
  if (REPS) a.push("--reps", REPS);
  else if (name === "sw-ct") a.push("--reps", "1"); // minutes per whole-volume inference
  if (name === "sw-ct") a.push("--volume", volume.file, "--shape", volume.shape.join(","));
  return a;
}

const torch = findTorch();
let volume;
let tmp;
if (cases.includes("sw-ct")) {
  if (!existsSync(CT)) {
    log(`sw-ct skipped: ${CT} not found (needs ../shared)`);
    cases.splice(cases.indexOf("sw-ct"), 1);
  } else {
    log("sw-ct: preprocessing the example CT with the BTCV validation chain");
    const t0 = performance.now();
    let v = await preprocessCt();
    if (SW_CROP > 0) v = cropVolume(v, SW_CROP);
    tmp = mkdtempSync(join(tmpdir(), "voxelpipe-realsize-"));
    volume = { file: join(tmp, "ct.f32"), shape: v.shape };
    writeFileSync(volume.file, new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength));
    log(`sw-ct: volume ${v.shape.join("×")} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
}

const load = loadavg()[0];
const rows = [];
try {
  for (const name of cases) {
    const row = { case: name };
    if (!argv.includes("--no-ours")) {
      log(`${name} ours: running`);
      row.ours = child(process.execPath, [join(here, "realsize-ours.mjs"), ...caseArgs(name, volume)], {
        ...process.env,
        VOXELPIPE_BENCH_THREADS: THREADS,
      });
      log(`${name} ours: ${row.ours.error ?? `${row.ours.ms.toFixed(0)} ms`}, peak ${row.ours.peak_rss_mb} MB`);
    } else row.ours = { skipped: "--no-ours" };
    if (torch.python) {
      log(`${name} torch: running`);
      const env = { ...process.env, OMP_NUM_THREADS: THREADS, MKL_NUM_THREADS: THREADS };
      const args = [join(here, "realsize_torch.py"), ...caseArgs(name, volume), "--threads", THREADS];
      row.torch = child(torch.python, args, env);
      log(`${name} torch: ${row.torch.error ?? `${row.torch.ms.toFixed(0)} ms`}, peak ${row.torch.peak_rss_mb} MB`);
    } else row.torch = { skipped: torch.skipped };
    if (typeof row.ours.ms === "number" && typeof row.torch.ms === "number") row.ratio = row.ours.ms / row.torch.ms;
    rows.push(row);
  }
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

if (JSON_OUT) {
  const meta = { net: NET, threads: Number(THREADS), ssl_batch: Number(SSL_BATCH), loadavg_1m: load };
  process.stdout.write(`${JSON.stringify({ meta, volume: volume?.shape, rows }, null, 2)}\n`);
} else {
  const ms = (r) => r.error ?? r.skipped ?? (typeof r.ms === "number" ? r.ms.toFixed(0) : "—");
  const mb = (r) => (typeof r.peak_rss_mb === "number" ? `${r.peak_rss_mb.toFixed(0)} MB` : "—");
  console.log("| case | ours ms | ours peak RSS | torch ms | torch peak RSS | ratio |");
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) {
    const ratio = r.ratio === undefined ? "—" : `${r.ratio.toFixed(2)}×`;
    console.log(`| ${r.case} | ${ms(r.ours)} | ${mb(r.ours)} | ${ms(r.torch)} | ${mb(r.torch)} | ${ratio} |`);
  }
  const t = rows.find((r) => r.torch?.torch)?.torch;
  const o = rows.find((r) => r.ours?.backend)?.ours;
  console.log(
    `\nours: tfjs ${o ? `${o.backend}, ${o.threads} thread(s)` : "wasm"}; torch: ${t ? `${t.torch}, ${t.threads} threads` : (torch.skipped ?? "—")}; ` +
      `net ${NET}; btcv-step-N = UNETR ${ROI}³ DiceCE + Adam at batch N; ssl-step = ViTAutoEnc, 2 views × ${SSL_BATCH} ` +
      `crops, L1 + CL·L1, Adam${volume ? `; sw-ct = ${volume.shape.join("×")} CT, roi ${ROI}³, sw_batch 4, overlap 0.5, gaussian` : ""}.`,
  );
  console.log(
    `median of ${REPS ?? "2 (sw-ct: 1)"} after ${WARMUP} warm-up (sw-ct: one window batch); peak RSS per case process; ` +
      `1-min load average at start ${load.toFixed(1)} (2 cores: a shared machine slows both sides).`,
  );
}
