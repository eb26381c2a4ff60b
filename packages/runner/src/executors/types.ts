/**
 * The executor seam. Sweeps and sharded inference decide *what* to run (which variants or shards are
 * unfinished, what each one's command is); an executor decides *where*: in this process or in child
 * processes (`local`), or as a Slurm job array (`slurm`). A task is an ordinary voxelpipe command line,
 * so a task runs the same code wherever it runs, and what it writes (run folders, predictions,
 * status records) lies in the shared runs folder, never with the executor. Another scheduler
 * (Kubernetes Jobs, AWS Batch, ...) is one more `Executor` registered in `executors/index.ts`.
 */
import type { Logger } from "@voxelpipe/core";

/** one unit of work: a voxelpipe command line (argv after `voxelpipe`) */
export interface Task {
  /** stable id (variant id, shard name): scripts, logs and the scheduler's view are keyed by it */
  id: string;
  argv: string[];
  /** run it in this process instead of a child (a local executor with one job may call it) */
  inProcess?: () => Promise<void>;
}

/** a set of tasks launched together, and what runs once all of them ended */
export interface Batch {
  /** a short name for the scheduler (job name) */
  name: string;
  /** the folder the batch belongs to (sweep folder, shards folder): the executor's files go in `<dir>/<executor>/` */
  dir: string;
  tasks: Task[];
  /** run after every task ended, whatever their outcome (writes the summary, checks the cases) */
  finalize?: Task;
  /** the working directory the tasks run in (relative paths in their command lines resolve there) */
  cwd: string;
}

/** what a scheduler says about a task it still holds */
export interface ActiveTask {
  /** scheduler's state, e.g. PENDING, RUNNING (Slurm) */
  state: string;
  /** the scheduler's id for it, e.g. 1234_5 */
  job: string;
  /** e.g. the reason it waits, or the node it runs on */
  detail?: string;
}

export interface LaunchResult {
  /** `completed`: the tasks ran and ended before launch returned; `submitted`: they are queued */
  mode: "completed" | "submitted";
  /** scheduler job ids (submitted mode) */
  jobs: string[];
  /** one line for the user: where the tasks went and how to follow them */
  note: string;
}

export interface Executor {
  readonly name: string;
  /** launch returns once the tasks are queued, before they ran (a scheduler): the batch's finalize task matters */
  readonly detached: boolean;
  /**
   * how many tasks of a batch may run at once: what a sharded command splits its work into (one
   * shard each), and whether a sweep runs its variants one after the other (1)
   */
  readonly parallel: number;
  /** run (local) or submit (scheduler) the batch's tasks, then its finalize task after them */
  launch(batch: Batch, log: Logger): Promise<LaunchResult>;
  /** tasks of batches launched into `dir` that the scheduler still holds (queued or running), by task id */
  active(dir: string): Promise<Map<string, ActiveTask>>;
  /** what the scheduler's accounting says about ended tasks, by task id (empty where there is none) */
  ended(dir: string): Promise<Map<string, string>>;
}

/** the settings the flags and a pipeline's `sweep:` block give by name; each executor reads the ones it understands */
export interface ExecutorSettings {
  /** local: how many tasks run at once */
  jobs?: number;
  /** slurm: resources per task */
  partition?: string;
  time?: string;
  cpusPerTask?: number;
  mem?: string;
  gpus?: string;
  /** at most this many array tasks at once (`--array=...%N`) */
  maxParallel?: number;
}

/** options every executor may take */
export interface ExecutorOptions extends ExecutorSettings {
  /** slurm: extra sbatch arguments per task */
  sbatchArgs?: string[];
  /** where log lines of child processes go */
  sink?: (line: string) => void;
}
