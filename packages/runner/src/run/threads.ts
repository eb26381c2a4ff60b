/**
 * The thread cap a task gets from where it runs: a local executor running N tasks at once gives
 * each its share of the cores; a Slurm task its allocation (SLURM_CPUS_PER_TASK). runPipeline applies
 * it as min(pipeline threads, cap), so it never raises what a pipeline asks for, and an explicit
 * `threads` (--threads) is taken as given.
 */
export const MAX_THREADS_ENV = "VOXELPIPE_MAX_THREADS";

function threadCap(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = Number(env[MAX_THREADS_ENV]);
  return Number.isSafeInteger(v) && v >= 1 ? v : undefined;
}

/** pipeline threads (a number or "auto" = every core) under the cap, or undefined when nothing caps them */
export function cappedThreads(wanted: number | "auto", cores: number, cap = threadCap()): number | undefined {
  if (cap === undefined) return undefined;
  return Math.max(1, Math.min(wanted === "auto" ? cores : wanted, cap));
}
