import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import {
  type ArtifactStore,
  type BackendChoice,
  Codes,
  type CompiledPipeline,
  type ComponentKind,
  createLogger,
  engine,
  followReferences,
  formatPath,
  getAt,
  keepCompiledMark,
  type Logger,
  parsePath,
  type Registries,
  RngStreams,
  runContainer,
  Services,
  type StageRuntime,
  selectBackend,
  stageContainer,
  substituteOutputs,
  VoxelpipeError,
  writeFileAtomicSync,
} from "@voxelpipe/core";
import { stringify } from "yaml";
import { environment } from "./env.js";
import { mismatchError, readFingerprint, stageFingerprint, writeFingerprint } from "./fingerprint.js";
import { RunLock } from "./lock.js";
import { MetricsLog } from "./metrics-log.js";
import { assertPreflight } from "./preflight.js";
import { checkpointState, keptByResume } from "./resume-point.js";
import { latestRunDir, newRunDir } from "./run-dir.js";

export interface RunOptions {
  /** run only this stage (its upstream outputs come from their latest finished runs) */
  stage?: string;
  backend?: BackendChoice;
  /** CPU threads (overrides the pipeline's `threads:`) */
  threads?: number | "auto";
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

/** Run the stages of a validated pipeline in dependency order, each in its own run directory. */
export async function runPipeline(
  p: CompiledPipeline,
  registries: Registries,
  opts: RunOptions = {},
): Promise<StageResult[]> {
  const logger = opts.logger ?? createLogger();
  const runsDir = resolve(opts.runsDir ?? process.env.VOXELPIPE_RUNS_DIR ?? "runs");
  const wanted = opts.threads ?? p.threads;
  const threads = wanted === "auto" ? availableParallelism() : wanted;
  // Threads go to model replicas (worker threads with a heap each), not to wasm's threaded build:
  // that build gained only 1.2× on the demo's step on an idle 2-core machine, and when its heap runs
  // out it hangs in its thread pool instead of trapping (measured), which would turn a VP260 into a
  // run that never ends. `selectBackend(…, { threads })` stays available to programs that want it.
  const backend = await selectBackend(opts.backend ?? p.backend, logger);
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

  const outputs = new Map<string, Record<string, string>>();
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
  if (opts.stage) {
    // upstream outputs come from the latest finished run of each needed stage
    for (const need of p.stages.get(opts.stage)!.needs) {
      const dir = latestRunDir(runsDir, p.name, need);
      const file = dir && join(dir, OUTPUTS_FILE);
      if (!file || !existsSync(file)) {
        throw new VoxelpipeError({
          code: Codes.runtime,
          message: `stage "${opts.stage}" needs the outputs of "${need}", which has no finished run in ${runsDir}`,
          hint: `run it first: voxelpipe run ${p.file} --stage ${need}`,
        });
      }
      outputs.set(need, JSON.parse(readFileSync(file, "utf8")));
    }
  }

  const results: StageResult[] = [];
  let currentName = "";
  for (const name of selected) {
    currentName = name;
    const log = logger.child(name);
    const fp = stageFingerprint(p, name, registries, outputs);
    let dir: string | undefined;
    let lock: RunLock | undefined;
    let resumed = false;
    if (opts.resume) {
      dir = latestRunDir(runsDir, p.name, name);
      const old = dir ? readFingerprint(dir) : undefined;
      if (dir && old?.hash !== fp.hash) {
        const err = mismatchError(dir, name, old, fp);
        if (opts.onChange !== "new") throw err;
        log.warn(`${err.diagnostics[0].message}${err.diagnostics[0].got ?? ""}\nstarting a new run (--new-on-change)`);
        dir = undefined;
      }
      const finished = (d: string): boolean => {
        if (!existsSync(join(d, OUTPUTS_FILE))) return false;
        const done = JSON.parse(readFileSync(join(d, OUTPUTS_FILE), "utf8"));
        outputs.set(name, done);
        log.info(`already finished in ${d}; skipping`);
        results.push({ name, dir: d, outputs: done, skipped: true });
        return true;
      };
      if (dir && finished(dir)) continue;
      if (dir) {
        lock = RunLock.acquire(dir);
        // finished by the process that held the lock a moment ago?
        if (finished(dir)) {
          lock.release();
          continue;
        }
        resumed = true;
        log.info(`resuming in ${dir}`);
      }
    }
    if (!dir) {
      dir = newRunDir(runsDir, p.name, name);
      lock = RunLock.acquire(dir);
      writeFingerprint(dir, fp);
    }
    try {
      results.push(await runStage(dir, resumed));
    } finally {
      lock?.release();
    }
  }
  return results;

  async function runStage(dir: string, resuming: boolean): Promise<StageResult> {
    const name = currentName;
    const stage = p.stages.get(name)!;
    const log = logger.child(name);
    const published: Record<string, string> = {};
    const artifacts: ArtifactStore = {
      dir,
      publish: (k, v) => {
        published[k] = v;
      },
      outputs: published,
    };
    const stageOutputs = (s: string, k: string) => outputs.get(s)?.[k];
    const container = stageContainer(root, { logger: log, artifacts, stageOutputs });
    const resolver = container.get(Services.components);
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
    const base = ["stages", name];
    // the compiled config with the upstream outputs in place of `@stages.<s>.outputs.<k>` (string for
    // string; the same object when it has none): what `run` receives, nothing parsed again
    const config = substituteOutputs(stage.config, (s, k, text) => stageOutput(text, s, k, outputs), keepCompiledMark);
    const rt: StageRuntime = {
      name,
      logger: log,
      seed: p.seed,
      rng: new RngStreams(p.seed).child("stage", name),
      backend: backend.tfBackend,
      threads,
      artifacts,
      baseDir: p.baseDir,
      resume: !!opts.resume,
      pipeline: {
        value: p.value,
        baseDir: p.baseDir,
        seed: p.seed,
        stageOutputs: Object.fromEntries(outputs),
        trust: p.trust ?? {},
      },
      build: <T>(path: string, kind: ComponentKind) => resolver.build<T>(kind, [...base, ...parsePath(path)]),
      buildEntry: <T>(entry: unknown, kind: ComponentKind, path: string) =>
        resolver.buildValue<T>(kind, entry, [...base, ...parsePath(path)]),
      get: (path: string) => getAt(config, parsePath(path)).value,
      deref: (v: unknown) => followReferences(p.compiled, v),
      where: (path: string) => {
        const l = p.locs.nearest([...base, ...parsePath(path)])?.value;
        return l
          ? `${l.file}:${l.line}:${l.col} (${formatPath([...base, ...parsePath(path)])})`
          : formatPath([...base, ...parsePath(path)]);
      },
      log: (r) => metrics.append({ stage: name, ...r }),
      rewindLog: (keep) => metrics.truncateAfter((r) => !keep(r)),
    };
    log.info(`stage ${name} (${stage.kind}) → ${dir}`);
    await stage.def.run(config, rt);
    outputs.set(name, published);
    writeFileAtomicSync(join(dir, OUTPUTS_FILE), `${JSON.stringify(published, null, 2)}\n`);
    return { name, dir, outputs: published };
  }
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
