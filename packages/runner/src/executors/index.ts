import { Codes, didYouMean, VoxelpipeError } from "@voxelpipe/core";
import { LocalExecutor } from "./local.js";
import { SlurmExecutor } from "./slurm.js";
import type { ActiveTask, Executor, ExecutorOptions } from "./types.js";

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
function allExecutors(): Executor[] {
  return [...executors.values()].map((make) => make({}));
}

/**
 * The tasks launched into `dir` that any executor's scheduler still holds (queued or running), by
 * task id, and with `accounting` what the schedulers' accounting says of ended ones. A scheduler
 * that cannot be asked (e.g. the cluster is down and the work goes on locally) holds nothing and
 * `warn` says so, naming `what` it was asked about; but when it is `current`, the executor this
 * command uses, that is an error.
 */
export async function queuedTasks(
  dir: string,
  o: { current?: string; what: string; warn?: (message: string) => void; accounting?: boolean },
): Promise<{ active: Map<string, ActiveTask>; ended: Map<string, string> }> {
  const active = new Map<string, ActiveTask>();
  const ended = new Map<string, string>();
  for (const ex of allExecutors()) {
    try {
      for (const [k, v] of await ex.active(dir)) active.set(k, v);
      if (o.accounting) for (const [k, v] of await ex.ended(dir)) ended.set(k, v);
    } catch (e) {
      if (ex.name === o.current) throw e;
      o.warn?.(`cannot ask ${ex.name} which ${o.what} it still holds: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return { active, ended };
}
