import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import {
  type ArtifactStore,
  type BackendChoice,
  type BackendSelection,
  Codes,
  type CompiledPipeline,
  type Container,
  createLogger,
  engine,
  keepCompiledMark,
  type Logger,
  type Registries,
  runContainer,
  selectBackend,
  stageContainer,
  substituteOutputs,
  VoxelpipeError,
  writeFileAtomicSync,
} from "@voxelpipe/core";
import { withMaxImageBytes } from "@voxelpipe/transforms";
import { stringify } from "yaml";
import { environment } from "./env.js";
import { type Fingerprint, mismatchError, readFingerprint, stageFingerprint, writeFingerprint } from "./fingerprint.js";
import { RunLock } from "./lock.js";
import { MetricsLog } from "./metrics-log.js";
import { assertPreflight } from "./preflight.js";
import { checkpointState, keptByResume } from "./resume-point.js";
import { latestRunDir, newRunDir } from "./run-dir.js";
import { stageRuntime } from "./stage-runtime.js";
import { cappedThreads } from "./threads.js";

export interface RunOptions {
  /** run only this stage (its upstream outputs come from their latest finished runs) */
  stage?: string;
  backend?: BackendChoice;
  /**
   * CPU threads (overrides the pipeline's `threads:`); unset, the pipeline's, capped to a task's
   * share of the cores where an executor set one (VOXELPIPE_MAX_THREADS, run/threads.ts)
   */
  threads?: number | "auto";
  /**
   * the image size limit (`--max-image-bytes`: bytes or a size like "8GiB"); overrides the pipeline's
   * `max_image_bytes:`, which overrides VOXELPIPE_MAX_IMAGE_BYTES
   */
  maxImageBytes?: string | number;
  runsDir?: string;
  resume?: boolean;
  /**
   * with `resume`: what to do with a stage whose latest run was made with another configuration
   * (its fingerprint differs): "refuse" (default, a VP230 diagnostic listing the differing keys)
   * or "new" (start a new run directory for it)
   */
  onChange?: "refuse" | "new";
  logger?: Logger;
}

export interface StageResult {
  name: string;
  dir: string;
  outputs: Record<string, string>;
  skipped?: boolean;
}

const OUTPUTS_FILE = "outputs.json";

/** What every stage of one run shares. */
interface RunContext {
  p: CompiledPipeline;
  registries: Registries;
  opts: RunOptions;
  logger: Logger;
  runsDir: string;
  threads: number;
  backend: BackendSelection;
  /** the run container (runContainer) */
  root: Container;
  /** outputs of the stages that ran (or were reused) so far */
  outputs: Map<string, Record<string, string>>;
}

/** Run the stages of a validated pipeline in dependency order, each in its own run directory. */
export async function runPipeline(
  p: CompiledPipeline,
  registries: Registries,
  opts: RunOptions = {},
): Promise<StageResult[]> {
  // the limit goes into the environment for the run (data worker threads and child processes inherit it),
  // then back as it was
  const at = p.locs.get(["max_image_bytes"])?.value;
  const [limit, from] =
    opts.maxImageBytes !== undefined
      ? [opts.maxImageBytes, "--max-image-bytes"]
      : [p.settings.max_image_bytes, `max_image_bytes: at ${at ? `${at.file}:${at.line}` : p.file}`];
  return withMaxImageBytes(limit, from, () => runStages(p, registries, opts));
}

async function runStages(p: CompiledPipeline, registries: Registries, opts: RunOptions): Promise<StageResult[]> {
  const logger = opts.logger ?? createLogger();
  const runsDir = resolve(opts.runsDir ?? process.env.VOXELPIPE_RUNS_DIR ?? "runs");
  const wanted = opts.threads ?? cappedThreads(p.threads, availableParallelism()) ?? p.threads;
  const cpuThreads = wanted === "auto" ? availableParallelism() : wanted;
  // Threads go to model replicas (worker threads with a heap each), not to wasm's threaded build:
  // that build gained only 1.2× on the demo's step on an idle 2-core machine, and when its heap runs
  // out it hangs in its thread pool instead of trapping (measured), which would turn a VP260 into a
  // run that never ends. `selectBackend(…, { threads })` stays available to programs that want it.
  const backend = await selectBackend(opts.backend ?? p.backend, logger);
  // webgpu: one GPU queue does the work; replicas would each open a device of their own and read
  // results synchronously, which webgpu in Node cannot do
  const threads = backend.tfBackend === "webgpu" ? 1 : cpuThreads;
  if (threads < cpuThreads) logger.info(`threads: 1 on webgpu (${cpuThreads} requested: no model replicas on a GPU)`);
  // engine fixes for the chosen backend (e.g. wasm kernel replacements), when the engine provides them
  const prepare = (engine as Record<string, unknown>).prepareBackend;
  if (typeof prepare === "function") await prepare(backend.tfBackend);
  registries.freeze();

  // components are built from the compiled tree (parsed once by compilePipeline)
  const root = runContainer({
    logger,
    registries,
    seed: p.seed,
    backend: backend.tfBackend,
    config: { root: p.compiled, locs: p.locs, baseDir: p.baseDir },
  });
  const run: RunContext = { p, registries, opts, logger, runsDir, threads, backend, root, outputs: new Map() };

  const selected = opts.stage ? [opts.stage] : p.order;
  if (opts.stage && !p.stages.has(opts.stage)) {
    throw new VoxelpipeError({
      code: Codes.unknownStage,
      message: `no stage "${opts.stage}" in ${p.name}`,
      expected: `one of: ${p.order.join(", ")}`,
    });
  }
  // data files and cross-component constraints of every selected stage, before anything runs
  await assertPreflight(p, selected, registries);
  if (opts.stage) readUpstreamOutputs(run, opts.stage);

  const results: StageResult[] = [];
  for (const name of selected) {
    const place = placeRun(run, name, stageFingerprint(p, name, registries, run.outputs));
    if ("skipped" in place) {
      results.push(place.skipped);
      continue;
    }
    try {
      results.push(await runStage(run, name, place.dir, place.resumed));
    } finally {
      place.lock.release();
    }
  }
  return results;
}

/** `--stage`: the outputs of each stage it needs come from that stage's latest finished run */
function readUpstreamOutputs(run: RunContext, stage: string): void {
  const { p, runsDir } = run;
  for (const need of p.stages.get(stage)!.needs) {
    const dir = latestRunDir(runsDir, p.name, need);
    const file = dir && join(dir, OUTPUTS_FILE);
    if (!file || !existsSync(file)) {
      throw new VoxelpipeError({
        code: Codes.runtime,
        message: `stage "${stage}" needs the outputs of "${need}", which has no finished run in ${runsDir}`,
        hint: `run it first: voxelpipe run ${p.file} --stage ${need}`,
      });
    }
    run.outputs.set(need, JSON.parse(readFileSync(file, "utf8")));
  }
}

/**
 * Where a stage runs: with `resume`, its latest run directory when the fingerprint matches (a
 * finished one is skipped, a partial one resumed; another configuration is VP230, or a new run with
 * `onChange: "new"`); else a new run directory. The directory is returned locked.
 */
function placeRun(
  run: RunContext,
  name: string,
  fp: Fingerprint,
): { dir: string; lock: RunLock; resumed: boolean } | { skipped: StageResult } {
  const { p, opts, runsDir } = run;
  const log = run.logger.child(name);
  const finished = (d: string): StageResult | undefined => {
    if (!existsSync(join(d, OUTPUTS_FILE))) return undefined;
    const done = JSON.parse(readFileSync(join(d, OUTPUTS_FILE), "utf8"));
    run.outputs.set(name, done);
    log.info(`already finished in ${d}; skipping`);
    return { name, dir: d, outputs: done, skipped: true };
  };
  if (opts.resume) {
    let dir = latestRunDir(runsDir, p.name, name);
    const old = dir ? readFingerprint(dir) : undefined;
    if (dir && old?.hash !== fp.hash) {
      const err = mismatchError(dir, name, old, fp);
      if (opts.onChange !== "new") throw err;
      log.warn(`${err.diagnostics[0].message}${err.diagnostics[0].got ?? ""}\nstarting a new run (--new-on-change)`);
      dir = undefined;
    }
    if (dir) {
      const done = finished(dir);
      if (done) return { skipped: done };
      const lock = RunLock.acquire(dir);
      // finished by the process that held the lock a moment ago?
      const now = finished(dir);
      if (now) {
        lock.release();
        return { skipped: now };
      }
      log.info(`resuming in ${dir}`);
      return { dir, lock, resumed: true };
    }
  }
  const dir = newRunDir(runsDir, p.name, name);
  const lock = RunLock.acquire(dir);
  writeFingerprint(dir, fp);
  return { dir, lock, resumed: false };
}

/** One stage in its run directory, through its own DI container, with the config compilation made. */
async function runStage(run: RunContext, name: string, dir: string, resuming: boolean): Promise<StageResult> {
  const { p, registries, backend, outputs } = run;
  const stage = p.stages.get(name)!;
  const log = run.logger.child(name);
  const published: Record<string, string> = {};
  const artifacts: ArtifactStore = {
    dir,
    publish: (k, v) => {
      published[k] = v;
    },
    outputs: published,
  };
  const container = stageContainer(run.root, {
    logger: log,
    artifacts,
    stageOutputs: (s, k) => outputs.get(s)?.[k],
  });
  writeFileSync(join(dir, "pipeline.resolved.yaml"), stringify(p.value));
  writeFileSync(join(dir, "env.json"), `${JSON.stringify(environment(p, registries, backend), null, 2)}\n`);
  const metrics = new MetricsLog(join(dir, "metrics.jsonl"));
  if (resuming) {
    // the log goes back to what the restored state had written: the records up to the last
    // checkpoint, none without one; a torn last line (killed mid-write, disk full) is dropped
    const state = checkpointState(dir);
    const r = metrics.keep(keptByResume(state));
    if (r.torn) log.warn(`metrics.jsonl ended in a torn line; dropped it`);
    log.info(
      state
        ? `metrics.jsonl rewound to the checkpoint at iteration ${state.iteration}: ${r.kept} records kept, ${r.dropped} dropped`
        : `no checkpoint to resume from: the stage starts over (${r.dropped} records dropped)`,
    );
  }
  // the compiled config with the upstream outputs in place of `@stages.<s>.outputs.<k>` (string for
  // string; the same object when it has none): what `run` receives, nothing parsed again
  const config = substituteOutputs(stage.config, (s, k, text) => stageOutput(text, s, k, outputs), keepCompiledMark);
  const rt = stageRuntime({
    p,
    name,
    container,
    config,
    metrics,
    backend: backend.tfBackend,
    threads: run.threads,
    resume: !!run.opts.resume,
    outputs,
  });
  log.info(`stage ${name} (${stage.kind}) → ${dir}`);
  await stage.def.run(config, rt);
  outputs.set(name, published);
  writeFileAtomicSync(join(dir, OUTPUTS_FILE), `${JSON.stringify(published, null, 2)}\n`);
  return { name, dir, outputs: published };
}

/** the published value of `@stages.<s>.outputs.<k>`; one the upstream stage did not publish is an error */
function stageOutput(ref: string, stage: string, key: string, outputs: Map<string, Record<string, string>>): string {
  const v = outputs.get(stage)?.[key];
  if (v === undefined) {
    throw new VoxelpipeError({
      code: Codes.danglingReference,
      message: `${ref} is not available: stage "${stage}" has not produced output "${key}"`,
      hint: "stages run in `needs` order; does this stage need it?",
    });
  }
  return v;
}
