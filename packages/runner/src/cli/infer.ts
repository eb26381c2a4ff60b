import { resolve } from "node:path";
import { backendNames, Codes, compilePipeline, createLogger, isPlainObject, VoxelpipeError } from "@voxelpipe/core";
import type { Command } from "commander";
import { executorFrom } from "../executors/options.js";
import { checkCases, checkText, incompleteError, readShardPlan } from "../infer/shards.js";
import {
  addLoadFlags,
  backendArg,
  byteSizeArg,
  collect,
  intArg,
  type LoadFlags,
  loadOptions,
  threadsArg,
} from "./args.js";
import { addExecutorFlags } from "./executor-flags.js";
import type { InferCliOptions } from "./infer-shards.js";
import type { CliIO } from "./io.js";

export const CLI_INFER_STAGE = "infer-cli";

/**
 * The infer stage `voxelpipe infer` adds to the pipeline: a copy of the pipeline's own infer stage,
 * or one built from a train stage (its model, its validation transforms, its validation inferer),
 * pointed at the given checkpoint, inputs and output folder. It then runs through the ordinary
 * validation and executor, so the CLI and a YAML `infer` stage behave the same.
 */
export function cliInferStage(
  value: Record<string, unknown>,
  o: Pick<
    InferCliOptions,
    "stage" | "checkpoint" | "checkpointFormat" | "input" | "split" | "output" | "saveProbabilities"
  > &
    Partial<InferCliOptions>,
  cwd: string,
): { name: string; stage: Record<string, unknown> } {
  const stages = (isPlainObject(value.stages) ? value.stages : {}) as Record<string, Record<string, unknown>>;
  const names = Object.keys(stages);
  const pick =
    o.stage ??
    names.find((n) => stages[n]?.kind === "infer") ??
    [...names].reverse().find((n) => stages[n]?.kind === "train");
  if (!pick || !stages[pick]) {
    throw new VoxelpipeError({
      code: Codes.unknownStage,
      message: o.stage
        ? `no stage "${o.stage}" in the pipeline`
        : "the pipeline has no infer or train stage to take the model and preprocessing from",
      expected: names.length ? `one of: ${names.join(", ")}` : "a pipeline with a train or infer stage",
    });
  }
  const src = stages[pick];
  const common = {
    checkpoint: resolve(cwd, o.checkpoint),
    checkpoint_format: o.checkpointFormat,
    input: resolve(cwd, o.input),
    split: o.split,
    output_dir: resolve(cwd, o.output),
    save_probabilities: o.saveProbabilities,
  };
  if (src.kind === "infer") {
    const { needs: _n, data: _d, ...rest } = src;
    return { name: pick, stage: { ...rest, ...common } };
  }
  if (src.kind !== "train") {
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: `stage "${pick}" is a ${String(src.kind)} stage`,
      expected: "a train or infer stage",
    });
  }
  const validate = (src.validate ?? {}) as Record<string, unknown>;
  const transforms = (src.transforms ?? {}) as Record<string, unknown>;
  return {
    name: pick,
    stage: {
      kind: "infer",
      model: `@stages.${pick}.model`,
      ...(transforms.val ? { transforms: `@stages.${pick}.transforms.val` } : {}),
      ...(validate.inferer ? { inferer: `@stages.${pick}.validate.inferer` } : {}),
      ...common,
    },
  };
}

export function registerInfer(
  program: Command,
  io: CliIO,
  report: (file: string, overrides: string[], flags: LoadFlags) => Promise<never>,
): void {
  const cmd = addLoadFlags(program.command("infer"))
    .description(
      "predict label maps with a checkpoint: the pipeline's preprocessing, sliding window, argmax, written on each input's grid (a cohort: in shards, here or on Slurm)",
    )
    .argument("<pipeline>", "pipeline YAML whose train (or infer) stage defines model, preprocessing and inferer")
    .requiredOption("--checkpoint <file>", "weights (.safetensors)")
    .option(
      "--checkpoint-format <format>",
      "voxelpipe or monai (a MONAI/PyTorch state dict as safetensors)",
      "voxelpipe",
    )
    .requiredOption("--input <path>", "a NIfTI file, a folder of them, or a datalist .json")
    .requiredOption("--output <dir>", "where <case>_seg.nii.gz files go")
    .option(
      "--stage <name>",
      "the stage to take model and preprocessing from (default: the infer stage, else the last train stage)",
    )
    .option("--split <name>", "datalist split to predict", "validation")
    .option("--save-probabilities", "also write <case>_prob.nii.gz", false)
    .option("--set <path=value>", "override a config value (YAML value); repeatable", collect, [])
    .option("--backend <backend>", `tensor backend: auto or ${backendNames.join(", ")}`, backendArg)
    .option("--runs-dir <dir>", "where the run directory goes", "runs")
    .option(
      "--max-image-bytes <size>",
      "refuse inputs declaring more voxel data than this (e.g. 2GiB; default: the pipeline's max_image_bytes:, else VOXELPIPE_MAX_IMAGE_BYTES, else 1/16 of memory)",
      byteSizeArg,
    )
    .option(
      "--threads <n>",
      "CPU threads (model replicas for sliding windows): a number or auto (every core); default: the pipeline's threads:",
      threadsArg,
    )
    .option(
      "--shards <n>",
      "split the cases into n shards, one task each (default: --jobs locally, else --max-parallel or 16; at most one per case)",
      intArg("--shards", 1, 10000),
    );
  addExecutorFlags(cmd, "--executor local: shards run at once in child processes (default 1)");
  cmd.action((file: string, o: InferCliOptions) => inferCommand(file, o, io, report));

  // the step after every shard (hidden): were all cases written? lists the missing ones with their errors
  program
    .command("_infer-check", { hidden: true })
    .argument("<dir>", "shards folder")
    .action(async (dir: string) => {
      const plan = readShardPlan(resolve(io.cwd, dir));
      const check = checkCases(plan);
      io.out(checkText(plan, check));
      if (check.missing.length) throw incompleteError(plan, check);
    });
}

/** `voxelpipe infer`: compile the pipeline with the infer stage added, then run it here or in shards */
async function inferCommand(
  file: string,
  o: InferCliOptions,
  io: CliIO,
  report: (file: string, overrides: string[], flags: LoadFlags) => Promise<never>,
): Promise<void> {
  // the readers, the registries, the stage executor and the shard runner load only when infer runs
  const [{ builtinRegistries }, { runPipeline }, { shardedInfer }] = await Promise.all([
    import("../registries.js"),
    import("../run/executor.js"),
    import("./infer-shards.js"),
  ]);
  // checked even when not sharding: a slurm flag without --executor slurm is refused as in `sweep`, not ignored
  const chosen = executorFrom(o, {}, (line) => io.err(line));
  // sharding is asked for by --shards, --jobs > 1 or a scheduler (the limit reaches each shard as its flag)
  const executor = o.shards !== undefined || chosen.name !== "local" || chosen.parallel > 1 ? chosen : undefined;
  const registries = builtinRegistries();
  const path = resolve(io.cwd, file);
  const load = loadOptions(o, io.cwd);
  const first = await compilePipeline(path, { overrides: o.set, registries: builtinRegistries(), ...load });
  if (!first.pipeline) return report(path, o.set, o);
  const { stage } = cliInferStage(first.pipeline.value, o, io.cwd);
  const overrides = [...o.set, `stages.${CLI_INFER_STAGE}=${JSON.stringify(stage)}`];
  const r = await compilePipeline(path, { overrides, registries, ...load });
  if (!r.pipeline) return report(path, overrides, o);
  if (executor) return shardedInfer({ pipeline: r.pipeline, file: path, o, io, executor });
  const results = await runPipeline(r.pipeline, registries, {
    stage: CLI_INFER_STAGE,
    backend: o.backend,
    // unset: the pipeline's, and a shard run by an executor gets its share of the cores (VOXELPIPE_MAX_THREADS)
    threads: o.threads,
    // the flag over the pipeline's max_image_bytes: (runPipeline applies whichever is set)
    maxImageBytes: o.maxImageBytes,
    runsDir: resolve(io.cwd, o.runsDir),
    logger: createLogger({ write: (_l, line) => io.err(line) }),
  });
  io.out(`predictions: ${results[0]?.outputs.predictions}`);
}
