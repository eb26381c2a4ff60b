import type { Command } from "commander";
import { executorNames } from "../executors/index.js";
import { collect, intArg } from "./args.js";

/** the executor flags `sweep` and `infer` share (their values: `ExecutorFlags` in executors/options.ts) */
export function addExecutorFlags(cmd: Command, jobsHelp: string): Command {
  return cmd
    .option("--executor <name>", `where tasks run: ${executorNames().join(" or ")} (default local)`)
    .option("--jobs <n>", jobsHelp, intArg("--jobs", 1, 1024))
    .option("--partition <name>", "slurm: partition (sbatch --partition)")
    .option("--time <limit>", "slurm: time limit per task, e.g. 2:00:00 (sbatch --time)")
    .option("--cpus-per-task <n>", "slurm: CPUs per task; the task's threads follow it", intArg("--cpus-per-task", 1))
    .option("--mem <size>", "slurm: memory per task, e.g. 16G (sbatch --mem)")
    .option("--gpus <n>", "slurm: GPUs per task, e.g. 1 or a100:1 (sbatch --gpus-per-task)")
    .option("--max-parallel <n>", "slurm: at most this many tasks at once (--array=...%n)", intArg("--max-parallel", 1))
    .option(
      "--sbatch-arg <arg>",
      "slurm: one more sbatch argument, e.g. --sbatch-arg=--account=proj; repeatable",
      collect,
      [],
    );
}
