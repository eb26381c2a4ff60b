import { join, resolve } from "node:path";
import { type BackendChoice, type CompiledPipeline, createLogger } from "@voxelpipe/core";
import { inputRecords } from "../data/records.js";
import { type Executor, queuedTasks } from "../executors/index.js";
import type { ExecutorFlags } from "../executors/options.js";
import {
  caseName,
  checkCases,
  checkText,
  incompleteError,
  missingCases,
  type ShardPlan,
  shardsDir,
  splitShards,
  writeShardInputs,
  writeShardPlan,
} from "../infer/shards.js";
import type { LoadFlags } from "./args.js";
import type { CliIO } from "./io.js";

export interface InferCliOptions extends LoadFlags, ExecutorFlags {
  checkpoint: string;
  checkpointFormat: "voxelpipe" | "monai";
  input: string;
  output: string;
  stage?: string;
  split: string;
  saveProbabilities: boolean;
  set: string[];
  backend?: BackendChoice;
  runsDir: string;
  maxImageBytes?: string;
  threads?: number | "auto";
  shards?: number;
}

/** the name of the stage `voxelpipe infer` adds (cli/infer.ts) */
const CLI_STAGE = "infer-cli";

/** one shard's command line: the same `voxelpipe infer`, with the shard's datalist as input */
function shardArgv(file: string, o: InferCliOptions, cwd: string, input: string, runsDir: string): string[] {
  const abs = (p: string) => resolve(cwd, p);
  return [
    "infer",
    file,
    "--checkpoint",
    abs(o.checkpoint),
    "--checkpoint-format",
    o.checkpointFormat,
    "--input",
    input,
    "--split",
    "cases",
    "--output",
    abs(o.output),
    "--runs-dir",
    runsDir,
    ...(o.stage ? ["--stage", o.stage] : []),
    ...(o.saveProbabilities ? ["--save-probabilities"] : []),
    ...o.set.flatMap((s) => ["--set", s]),
    ...(o.backend ? ["--backend", o.backend] : []),
    ...(o.maxImageBytes ? ["--max-image-bytes", o.maxImageBytes] : []),
    ...(o.threads ? ["--threads", String(o.threads)] : []),
    ...o.allowPlugin.flatMap((p) => ["--allow-plugin", abs(p)]),
    ...(o.allowPluginsAnywhere ? ["--allow-plugins-anywhere"] : []),
    ...(o.maxPipelineBytes ? ["--max-pipeline-bytes", String(o.maxPipelineBytes)] : []),
  ];
}

/**
 * `voxelpipe infer ... --shards N` / `--jobs N` / `--executor slurm`: the cases not yet written are
 * split into shards, each an ordinary `voxelpipe infer` run by the executor, then a final step
 * checks every case was written and lists the failures (locally before this returns; on a
 * scheduler as a job after the shards). Re-running the command shards only the missing cases;
 * while shards of an earlier run are still queued, nothing new is submitted.
 */
export async function shardedInfer(a: {
  pipeline: CompiledPipeline;
  file: string;
  o: InferCliOptions;
  io: CliIO;
  executor: Executor;
}): Promise<void> {
  const { pipeline: p, o, io, executor } = a;
  const plan = await planShards(a);
  const { dir, output } = plan;
  writeShardPlan(plan);
  const log = (line: string) => io.err(line);
  // shard tasks of an earlier run still queued or running, on any executor (the chosen one must answer)
  const { active } = await queuedTasks(dir, {
    current: executor.name,
    what: "shards",
    warn: (m) => log(`warning: ${m}`),
  });
  if (active.size) {
    io.out(
      `${[...active].map(([k, v]) => `${k}: ${v.job} ${v.state}`).join("\n")}\n\n${active.size} shard tasks of an earlier run are still queued or running; nothing new submitted (shards: ${dir})`,
    );
    return;
  }
  const todo = missingCases(plan);
  if (!todo.length) {
    io.out(`${checkText(plan, checkCases(plan))}\npredictions: ${output}`);
    return;
  }
  const shards = splitShards(todo, o.shards ?? executor.parallel);
  const { files, n } = writeShardInputs(plan, shards);
  log(
    `${todo.length} of ${plan.cases.length} cases to predict in ${shards.length} shard${shards.length === 1 ? "" : "s"} (${executor.name}); shards folder ${dir}`,
  );
  const result = await executor.launch(
    {
      name: `vp-infer-${p.name}`.slice(0, 40),
      dir,
      cwd: io.cwd,
      tasks: files.map((f, k) => ({
        id: `shard-${n}-${k}`,
        argv: shardArgv(a.file, o, io.cwd, f, join(dir, "runs", `shard-${n}-${k}`)),
        // one job at a time: the same command line in this process (no start-up per shard)
        inProcess: async () => {
          const { main } = await import("./main.js"); // imported when run: main.ts imports this file
          await main(shardArgv(a.file, o, io.cwd, f, join(dir, "runs", `shard-${n}-${k}`)), io);
        },
      })),
      // a scheduler runs the check as a job after the shards; locally it runs below
      finalize: executor.detached ? { id: "check", argv: ["_infer-check", dir] } : undefined,
    },
    createLogger({ write: (_l, line) => log(line) }),
  );
  if (result.mode === "submitted") {
    io.out(
      `submitted ${result.note}\nthe last job checks every case was written (${join(dir, "check.json")}); re-run this command to predict only missing cases\npredictions: ${output}`,
    );
    return;
  }
  const check = checkCases(plan);
  io.out(`${checkText(plan, check)}\npredictions: ${output}`);
  if (check.missing.length) throw incompleteError(plan, check);
}

/** the shard plan: every case of the input, in the shards folder this command's identity names */
async function planShards(a: {
  pipeline: CompiledPipeline;
  file: string;
  o: InferCliOptions;
  io: CliIO;
}): Promise<ShardPlan> {
  const { pipeline: p, o, io } = a;
  const stage = (p.value.stages as Record<string, Record<string, unknown>>)[CLI_STAGE] ?? {};
  const imageKey = typeof stage.image_key === "string" ? stage.image_key : "image";
  const postfix = typeof stage.output_postfix === "string" ? stage.output_postfix : "seg";
  const output = resolve(io.cwd, o.output);
  const input = resolve(io.cwd, o.input);
  const records = await inputRecords(input, o.split, imageKey);
  const identity = {
    pipeline: a.file,
    checkpoint: resolve(io.cwd, o.checkpoint),
    input,
    split: o.split,
    output,
    sets: o.set,
    stage: o.stage,
  };
  const dir = shardsDir(resolve(io.cwd, o.runsDir), p.name, identity);
  return {
    dir,
    output,
    postfix,
    imageKey,
    cases: records.map((record) => ({ name: caseName(record, imageKey), record })),
  };
}
