import { backendNames } from "@voxelpipe/core";
import type { Command } from "commander";
import { addLoadFlags, backendArg, collect, intArg } from "./args.js";
import { addExecutorFlags } from "./executor-flags.js";
import type { CliIO } from "./io.js";
import type { SweepCliOptions } from "./sweep-actions.js";

/** the actions load the sweep planner, the registries and the executors: only when a sweep command runs */
const actions = () => import("./sweep-actions.js");

/** `voxelpipe sweep`: the same pipeline over a grid of overrides × seeds, summarised as mean ± std. */
export function registerSweep(program: Command, io: CliIO): void {
  const sweep = addExecutorFlags(
    addLoadFlags(
      program
        .command("sweep")
        .description(
          "run a pipeline over a grid of values × seeds (resumable; here or on Slurm) and summarise metrics as mean ± std",
        ),
    ),
    "--executor local: variants run at once in child processes (default 1: one after the other in this process)",
  )
    .argument("<pipeline>", "pipeline YAML (its `sweep:` block gives defaults)")
    .option(
      "--grid <path=v1,v2,...>",
      "a config path and its values (YAML; `none` removes the key); repeatable",
      collect,
      [],
    )
    .option("--seeds <list>", "seeds, e.g. 0..2 or 0,1,2 (default: the pipeline's seed)")
    .option(
      "--metric <stage.path>",
      "a number from a stage's summary/report, e.g. score.mean.dice.mean; repeatable",
      collect,
      [],
    )
    .option("--set <path=value>", "override applied to every variant; repeatable", collect, [])
    .option("--backend <backend>", `tensor backend: auto or ${backendNames.join(", ")}`, backendArg)
    .option(
      "--runs-dir <dir>",
      "where the sweep folder goes (with --executor slurm: on a filesystem every node shares)",
      "runs",
    )
    .action(async (file: string, o: SweepCliOptions) => (await actions()).sweepRun(file, o, io));

  // `voxelpipe sweep status <dir | pipeline + the sweep's flags>`: the parent command parses the flags
  sweep
    .command("status")
    .description("show each variant's state (scheduler queue, run folders); writes the summary once all have ended")
    .argument("<target>", "the sweep folder, or the pipeline with the same flags as the sweep command")
    .action(async (target: string) => (await actions()).sweepStatus(target, sweep.opts() as SweepCliOptions, io));

  // tasks an executor runs (hidden): one variant, and the summary after all of them
  program
    .command("_sweep-variant", { hidden: true })
    .argument("<dir>", "sweep folder")
    .argument("<variant>", "variant id")
    .option("--threads <n>", "threads for this variant", intArg("--threads", 1))
    .option("--via <executor>", "the executor that runs it (recorded in its status)", "local")
    .action(async (dir: string, variant: string, o: { threads?: number; via: string }) =>
      (await actions()).sweepVariantTask(dir, variant, o, io),
    );

  program
    .command("_sweep-summary", { hidden: true })
    .argument("<dir>", "sweep folder")
    .action(async (dir: string) => (await actions()).sweepSummaryTask(dir, io));
}
