import { Codes, type Diagnostic, isPlainObject, sweepSchema, VoxelpipeError } from "@voxelpipe/core";
import { makeExecutor } from "./index.js";
import type { Executor, ExecutorOptions, ExecutorSettings } from "./types.js";

/** the executor flags `sweep` and `infer` share */
export interface ExecutorFlags extends ExecutorSettings {
  executor?: string;
  sbatchArg: string[];
}

/** the flags only slurm takes */
const SLURM_FLAGS = ["partition", "time", "cpusPerTask", "mem", "gpus", "maxParallel"] as const;

/** a pipeline's `sweep:` block may set the executor: `executor`, `jobs` and a `slurm:` mapping (core's shape) */
const yamlSchema = sweepSchema.pick({ executor: true, jobs: true, slurm: true }).loose();

export function flagsFromYaml(block: unknown): Partial<ExecutorFlags> {
  if (!isPlainObject(block)) return {};
  const r = yamlSchema.safeParse(block);
  if (!r.success) {
    throw new VoxelpipeError(
      r.error.issues.map(
        (i): Diagnostic => ({
          code: Codes.executorOptions,
          message: `sweep.${i.path.join(".")}: ${i.message}`,
          path: `sweep.${i.path.join(".")}`,
        }),
      ),
    );
  }
  const s = r.data.slurm ?? {};
  return {
    executor: r.data.executor,
    jobs: r.data.jobs,
    partition: s.partition,
    time: s.time,
    cpusPerTask: s.cpus_per_task,
    mem: s.mem,
    gpus: s.gpus === undefined ? undefined : String(s.gpus),
    maxParallel: s.max_parallel,
    sbatchArg: s.sbatch_args ?? [],
  };
}

/**
 * The executor the flags (over the YAML's) ask for. Flags an executor does not take are an error,
 * not silently ignored: `--jobs` belongs to local, the resource flags to slurm.
 */
export function executorFrom(
  flags: ExecutorFlags,
  yaml: Partial<ExecutorFlags> = {},
  sink?: (line: string) => void,
): Executor {
  const given = (k: keyof ExecutorFlags) =>
    flags[k] !== undefined && !(Array.isArray(flags[k]) && (flags[k] as string[]).length === 0);
  const pick = <K extends keyof ExecutorFlags>(k: K): ExecutorFlags[K] | undefined => (given(k) ? flags[k] : yaml[k]);
  const name = pick("executor") ?? "local";
  const o: ExecutorOptions = {
    jobs: pick("jobs"),
    partition: pick("partition"),
    time: pick("time"),
    cpusPerTask: pick("cpusPerTask"),
    mem: pick("mem"),
    gpus: pick("gpus"),
    maxParallel: pick("maxParallel"),
    sbatchArgs: pick("sbatchArg") ?? [],
    sink,
  };
  const kebab = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (name !== "local" && given("jobs")) {
    throw new VoxelpipeError({
      code: Codes.executorOptions,
      message: `--jobs is an option of --executor local, not ${name}`,
      hint: `${name} runs as many tasks at once as the cluster gives; limit them with --max-parallel`,
    });
  }
  if (name === "local") {
    const slurmOnly = [
      ...SLURM_FLAGS.filter((k) => given(k)).map(kebab),
      ...(given("sbatchArg") ? ["--sbatch-arg"] : []),
    ];
    if (slurmOnly.length) {
      throw new VoxelpipeError({
        code: Codes.executorOptions,
        message: `${slurmOnly.join(", ")} ${slurmOnly.length > 1 ? "are options" : "is an option"} of --executor slurm, not local`,
        hint: "add --executor slurm, or drop them",
      });
    }
  }
  return makeExecutor(name, o);
}
