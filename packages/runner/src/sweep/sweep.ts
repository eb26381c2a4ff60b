import { existsSync } from "node:fs";
import { join } from "node:path";
import type { BackendChoice, Logger } from "@voxelpipe/core";
import { type Batch, type Executor, type LaunchResult, makeExecutor, queuedTasks } from "../executors/index.js";
import { allReusable } from "../run/reuse.js";
import { describeAssignment, type SweepSpec } from "./grid.js";
import { type CompiledVariant, compileVariant, type LoadOptions, prepareSweep, type SweepPlan } from "./plan.js";
import { runVariant } from "./run-variant.js";
import { readRecord, type VariantStatus, variantState } from "./status.js";
import { type SweepFailure, type SweepRow, summarise, writeSummary } from "./summary.js";

export { checkMetrics, requireMetrics } from "./metrics.js";
export { readMetric, type SweepFailure, type SweepRow, sweepMarkdown } from "./summary.js";

export interface SweepOptions {
  file: string;
  spec: SweepSpec;
  sets: string[];
  runsDir: string;
  backend?: BackendChoice;
  logger: Logger;
  /** plugin trust and file size cap, as for every command that loads pipelines */
  load?: LoadOptions;
  /** where the variants run (default: this process, one after the other) */
  executor?: Executor;
  /** the working directory tasks run in (default: this process's) */
  cwd?: string;
}

export interface SweepResult {
  dir: string;
  /** variants that ran now (local) */
  ran: string[];
  /** variants finished before this invocation */
  skipped: string[];
  failed: SweepFailure[];
  /** every variant's state after this invocation */
  statuses: VariantStatus[];
  /** the summary rows; written to the folder only when `complete` */
  rows: SweepRow[];
  /** every variant finished or failed: the summary was written */
  complete: boolean;
  /** what a scheduler was given (detached executors) */
  submitted?: LaunchResult;
}

/**
 * Each variant's state: what any executor's scheduler still holds (queued/running), else its run
 * folders (finished with this configuration), else its status record (failed, running, or left by
 * a process that is gone: interrupted).
 */
export async function sweepStatuses(
  plan: SweepPlan,
  compiled?: Map<string, CompiledVariant>,
  current?: string,
  warn?: (message: string) => void,
): Promise<VariantStatus[]> {
  const { active, ended: accounting } = await queuedTasks(plan.dir, {
    current,
    what: "variants",
    warn,
    accounting: true,
  });
  const out: VariantStatus[] = [];
  for (const v of plan.variants) {
    const vdir = join(plan.dir, v.id);
    const queued = active.get(v.id);
    // what a scheduler still holds is queued or running whatever its run folders say: not compiled
    let c = queued ? undefined : compiled?.get(v.id);
    if (!queued && !c && existsSync(vdir)) {
      const { r, registries } = await compileVariant(plan, v);
      if (r.pipeline) c = { pipeline: r.pipeline, registries };
    }
    const finished = !!c && existsSync(vdir) && allReusable(c.pipeline, c.registries, vdir);
    out.push(
      variantState(v.id, {
        finished,
        record: readRecord(plan.dir, v.id),
        active: queued,
        accounting: accounting.get(v.id),
        started: existsSync(vdir),
      }),
    );
  }
  return out;
}

/** failures (with their diagnostics) of the variants whose state is failed */
function failures(plan: SweepPlan, statuses: VariantStatus[]): SweepFailure[] {
  return statuses
    .filter((s) => s.state === "failed")
    .map((s) => ({ variant: s.variant, diagnostics: readRecord(plan.dir, s.variant)?.diagnostics ?? [] }));
}

/** write the summary when every variant finished or failed; returns the rows either way */
export function summariseSweep(
  plan: SweepPlan,
  statuses: VariantStatus[],
): { rows: SweepRow[]; complete: boolean; failed: SweepFailure[] } {
  const failed = failures(plan, statuses);
  const rows = summarise(plan.variants, plan.dir, plan.name, plan.spec.metrics, failed);
  const complete = statuses.every((s) => s.state === "finished" || s.state === "failed");
  if (complete) writeSummary(plan.dir, rows, plan.spec.metrics, failed);
  return { rows, complete, failed };
}

/** the task that runs one variant wherever an executor puts it: `voxelpipe _sweep-variant <dir> <variant>` */
export const variantArgv = (dir: string, variant: string, executor: string) => [
  "_sweep-variant",
  dir,
  variant,
  "--via",
  executor,
];
/** the task that writes the summary after the array: `voxelpipe _sweep-summary <dir>` */
export const summaryArgv = (dir: string) => ["_sweep-summary", dir];

/**
 * Run (or submit) every variant of a sweep that is not finished and not already queued. Every
 * variant is validated before the first starts. A local executor runs them and the summary is
 * written before this returns; a scheduler gets them as one batch, with the summary as a job after
 * it, and this returns once they are queued (`voxelpipe sweep status` follows them; re-running
 * the command submits only what is neither finished nor queued).
 */
export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  const { plan, compiled } = await prepareSweep(o);
  const executor = o.executor ?? makeExecutor("local");
  const n = plan.variants.length;
  o.logger.info(`sweep of ${n} variants in ${plan.dir}`);
  const warn = (m: string) => o.logger.warn(m);
  const before = await sweepStatuses(plan, compiled, executor.name, warn);
  const skipped = before.filter((s) => s.state === "finished").map((s) => s.variant);
  const busy = before.filter((s) => s.state === "queued" || s.state === "running");
  const todo = plan.variants.filter((v) => !skipped.includes(v.id) && !busy.some((b) => b.variant === v.id));
  for (const [i, s] of before.entries()) {
    if (s.state === "finished") o.logger.info(`[${i + 1}/${n}] ${s.variant}: finished earlier, skipped`);
    else if (busy.includes(s)) o.logger.info(`[${i + 1}/${n}] ${s.variant}: ${s.state} (${s.job ?? s.detail ?? ""})`);
  }
  let submitted: LaunchResult | undefined;
  if (todo.length) {
    const index = (id: string) => plan.variants.findIndex((v) => v.id === id) + 1;
    const batch: Batch = {
      name: `vp-${plan.name}`.slice(0, 40),
      dir: plan.dir,
      cwd: o.cwd ?? process.cwd(),
      tasks: todo.map((v) => ({
        id: v.id,
        argv: variantArgv(plan.dir, v.id, executor.name),
        inProcess: async () => {
          o.logger.info(`[${index(v.id)}/${n}] ${v.id}: ${describeAssignment(v.assignment)} seed ${v.seed}`);
          await runVariant(plan, v.id, { logger: o.logger, executor: executor.name });
        },
      })),
      finalize: executor.detached ? { id: "summary", argv: summaryArgv(plan.dir) } : undefined,
    };
    // one at a time on this machine, each variant's line is logged as it starts (inProcess above)
    if (executor.name !== "local" || executor.parallel !== 1)
      for (const v of todo)
        o.logger.info(
          `[${index(v.id)}/${n}] ${v.id}: ${describeAssignment(v.assignment)} seed ${v.seed} → ${executor.name}`,
        );
    const r = await executor.launch(batch, o.logger);
    if (r.mode === "submitted") submitted = r;
  }
  const statuses = await sweepStatuses(plan, submitted ? undefined : compiled, executor.name, warn);
  const { rows, complete, failed } = summariseSweep(plan, statuses);
  const ran = submitted ? [] : todo.filter((v) => statuses.find((s) => s.variant === v.id)?.state === "finished");
  return {
    dir: plan.dir,
    ran: ran.map((v) => v.id),
    skipped,
    failed,
    statuses,
    rows,
    complete,
    submitted,
  };
}

/** a sweep's folder from its pipeline and flags, without running anything (for `sweep status <pipeline>`) */
export async function planOf(o: Omit<SweepOptions, "logger" | "executor">): Promise<SweepPlan> {
  const { plan } = await prepareSweep({ ...o, record: false });
  return plan;
}
