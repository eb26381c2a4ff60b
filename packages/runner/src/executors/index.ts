import { Codes, didYouMean, VoxelpipeError } from "@voxelpipe/core";
import { LocalExecutor } from "./local.js";
import { SlurmExecutor } from "./slurm.js";
import type { Executor, ExecutorOptions } from "./types.js";

export type { ActiveTask, Batch, Executor, ExecutorOptions, LaunchResult, Task } from "./types.js";

/**
 * The executors `--executor` can name. Adding a scheduler is one class implementing `Executor`
 * (launch a batch of command lines, report which are still queued) and one entry here; the sweep
 * and sharding logic do not change.
 */
const executors = new Map<string, (o: ExecutorOptions) => Executor>([
  ["local", (o) => new LocalExecutor(o)],
  ["slurm", (o) => new SlurmExecutor(o)],
]);

export function registerExecutor(name: string, make: (o: ExecutorOptions) => Executor): void {
  executors.set(name, make);
}

export function executorNames(): string[] {
  return [...executors.keys()];
}

export function makeExecutor(name: string, o: ExecutorOptions = {}, where = "--executor"): Executor {
  const make = executors.get(name);
  if (!make) {
    throw new VoxelpipeError({
      code: Codes.executorOptions,
      message: `${where}: unknown executor "${name}"`,
      path: where,
      expected: `one of: ${executorNames().join(", ")}`,
      got: JSON.stringify(name),
      hint: didYouMean(name, executorNames()),
    });
  }
  return make(o);
}

/** every executor, for questions about a folder any of them may have launched into (what is still queued) */
export function allExecutors(): Executor[] {
  return [...executors.values()].map((make) => make({}));
}
