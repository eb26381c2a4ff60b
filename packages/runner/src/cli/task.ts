import { resolve } from "node:path";
import { Codes, VoxelpipeError } from "@voxelpipe/core";
import type { Command } from "commander";
import { readTaskFile } from "../executors/task-file.js";
import { MAX_THREADS_ENV } from "../run/threads.js";
import { intArg } from "./args.js";
import type { CliIO } from "./io.js";

/**
 * `voxelpipe _task <task file> <index>` (hidden): what a scheduler's job script runs. It reads the
 * batch's task file (on the shared runs folder: a node that cannot see it is VP274) and runs task
 * `index`'s command line through the ordinary CLI, in the folder the batch was launched from.
 * Under Slurm the task's threads are capped to its allocation (SLURM_CPUS_PER_TASK).
 */
export function registerTask(program: Command, io: CliIO, run: (argv: string[], io: CliIO) => Promise<number>): void {
  program
    .command("_task", { hidden: true })
    .argument("<file>", "task file written by an executor")
    .argument("<index>", "which task", intArg("<index>", 0))
    .action(async (file: string, index: number) => {
      const tasks = readTaskFile(resolve(io.cwd, file));
      const task = tasks.tasks[index];
      if (!task) {
        throw new VoxelpipeError({
          code: Codes.executorOptions,
          message: `${file} has ${tasks.tasks.length} tasks; there is no task ${index}`,
        });
      }
      const cpus = Number(process.env.SLURM_CPUS_PER_TASK);
      if (process.env[MAX_THREADS_ENV] === undefined && Number.isSafeInteger(cpus) && cpus >= 1)
        process.env[MAX_THREADS_ENV] = String(cpus);
      io.err(`task ${task.id}: voxelpipe ${task.argv.join(" ")}`);
      const code = await run(task.argv, { ...io, cwd: tasks.cwd });
      // the task's own exit code, so the scheduler records FAILED for a failed task
      if (code !== 0) throw new TaskExit(code);
    });
}

/** a task that failed has printed its diagnostics already; only its exit code is passed on */
export class TaskExit extends Error {
  constructor(readonly code: number) {
    super(`task exited with ${code}`);
  }
}
