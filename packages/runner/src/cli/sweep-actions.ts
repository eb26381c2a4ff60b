import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type BackendChoice, Codes, createLogger, loadPipeline, VoxelpipeError } from "@voxelpipe/core";
import { type ExecutorFlags, executorFrom, flagsFromYaml } from "../executors/options.js";
import { type GridAxis, parseGridOption, parseSeeds, type SweepSpec, specFromYaml } from "../sweep/grid.js";
import { loadPlan, type SweepPlan } from "../sweep/plan.js";
import { runVariant } from "../sweep/run-variant.js";
import type { VariantStatus } from "../sweep/status.js";
import {
  planOf,
  requireMetrics,
  runSweep,
  type SweepResult,
  summariseSweep,
  sweepMarkdown,
  sweepStatuses,
} from "../sweep/sweep.js";
import { textTable } from "../text/table.js";
import { type LoadFlags, loadOptions } from "./args.js";
import type { CliIO } from "./io.js";

// What the sweep commands do; cli/sweep.ts declares them and imports this module only when one runs
// (it loads the registries, the stage executor and the executors).

export interface SweepCliOptions extends LoadFlags, ExecutorFlags {
  grid: string[];
  seeds?: string;
  metric: string[];
  set: string[];
  backend?: BackendChoice;
  runsDir: string;
}

/** the sweep a command line names: its grid, seeds and metrics (flags over the pipeline's `sweep:` block) */
function sweepFrom(file: string, o: SweepCliOptions, io: CliIO) {
  const path = resolve(io.cwd, file);
  const load = loadOptions(o, io.cwd);
  const raw = loadPipeline(path, o.set, load);
  if (raw.diagnostics.length) throw new VoxelpipeError(raw.diagnostics);
  const fromYaml = specFromYaml(raw.value.sweep);
  const grid = new Map<string, GridAxis>((fromYaml.grid ?? []).map((a) => [a.path, a]));
  for (const g of o.grid.map(parseGridOption)) grid.set(g.path, g);
  const spec: SweepSpec = {
    grid: [...grid.values()],
    seeds: o.seeds
      ? parseSeeds(o.seeds)
      : (fromYaml.seeds ?? [typeof raw.value.seed === "number" ? raw.value.seed : 0]),
    metrics: o.metric.length ? o.metric : (fromYaml.metrics ?? []),
  };
  requireMetrics(spec);
  return { path, load, spec, executorYaml: flagsFromYaml(raw.value.sweep) };
}

function statusTable(statuses: VariantStatus[]): string {
  return textTable(
    ["variant", "state", "job", "detail"],
    statuses.map((s) => [s.variant, s.state, s.job ?? "", s.detail ?? ""]),
    { rule: true },
  );
}

function counts(statuses: VariantStatus[]): string {
  const by = new Map<string, number>();
  for (const s of statuses) by.set(s.state, (by.get(s.state) ?? 0) + 1);
  return [...by].map(([k, v]) => `${v} ${k}`).join(", ");
}

function failedError(r: Pick<SweepResult, "failed" | "dir">, total: number): VoxelpipeError {
  return new VoxelpipeError({
    code: Codes.sweepFailed,
    message: `${r.failed.length} of ${total} sweep variants failed: ${r.failed
      .slice(0, 3)
      .map((f) => f.variant)
      .join(", ")}${r.failed.length > 3 ? ", ..." : ""}`,
    got: r.failed
      .slice(0, 3)
      .map((f) => `${f.variant}: ${f.diagnostics[0]?.code} ${f.diagnostics[0]?.message.split("\n")[0]}`)
      .join("; "),
    hint: `their diagnostics are in ${r.dir}/summary.md; re-run the same command to retry them (finished variants are skipped)`,
  });
}

/** `voxelpipe sweep <pipeline>`: plan, run or submit the variants, then summarise */
export async function sweepRun(file: string, o: SweepCliOptions, io: CliIO): Promise<void> {
  const { path, load, spec, executorYaml } = sweepFrom(file, o, io);
  const executor = executorFrom(o, executorYaml, (line) => io.err(line));
  const total = () => r.statuses.length;
  const r = await runSweep({
    file: path,
    spec,
    sets: o.set,
    runsDir: resolve(io.cwd, o.runsDir),
    backend: o.backend,
    logger: createLogger({ write: (_l, line) => io.err(line) }),
    load,
    executor,
    cwd: io.cwd,
  });
  if (r.submitted) {
    io.out(
      `sweep: ${r.dir}\nsubmitted ${r.submitted.note}\nfollow it with: voxelpipe sweep status ${r.dir}\nthe summary is written when every variant has ended (by the job after the array, or by re-running this command)`,
    );
    return;
  }
  if (!r.complete) {
    io.out(
      `${statusTable(r.statuses)}\n\nsweep: ${r.dir} (${counts(r.statuses)}); the summary is written when every variant has ended`,
    );
    const broken = r.statuses.filter((s) => s.state === "interrupted" || s.state === "pending");
    if (broken.length && !r.statuses.some((s) => s.state === "queued" || s.state === "running"))
      throw failedError({ dir: r.dir, failed: broken.map((s) => ({ variant: s.variant, diagnostics: [] })) }, total());
    return;
  }
  io.out(
    `${sweepMarkdown(r.rows, spec.metrics)}\n\nsweep: ${r.dir} (${r.ran.length} run, ${r.skipped.length} already finished${r.failed.length ? `, ${r.failed.length} failed` : ""})`,
  );
  if (r.failed.length) throw failedError(r, total());
}

/** `voxelpipe sweep status`: each variant's state; the summary once all have ended */
export async function sweepStatus(target: string, o: SweepCliOptions, io: CliIO): Promise<void> {
  const at = resolve(io.cwd, target);
  let plan: SweepPlan;
  if (existsSync(at) && statSync(at).isDirectory()) plan = loadPlan(at);
  else {
    const { path, load, spec } = sweepFrom(target, o, io);
    plan = await planOf({
      file: path,
      spec,
      sets: o.set,
      runsDir: resolve(io.cwd, o.runsDir),
      backend: o.backend,
      load,
    });
  }
  const statuses = await sweepStatuses(plan, undefined, undefined, (m) => io.err(`warning: ${m}`));
  const { rows, complete } = summariseSweep(plan, statuses);
  io.out(`${statusTable(statuses)}\n\nsweep: ${plan.dir} (${counts(statuses)})`);
  if (complete) io.out(`\n${sweepMarkdown(rows, plan.spec.metrics)}\n\nsummary: ${join(plan.dir, "summary.md")}`);
}

/** `_sweep-variant` (an executor's task): run one variant */
export async function sweepVariantTask(
  dir: string,
  variant: string,
  o: { threads?: number; via: string },
  io: CliIO,
): Promise<void> {
  const plan = loadPlan(resolve(io.cwd, dir));
  const logger = createLogger({ write: (_l, line) => io.err(line) });
  const r = await runVariant(plan, variant, { logger, executor: o.via, threads: o.threads });
  if (r.kind === "failed") throw new VoxelpipeError(r.diagnostics);
}

/** `_sweep-summary` (an executor's last task): the summary after every variant */
export async function sweepSummaryTask(dir: string, io: CliIO): Promise<void> {
  const plan = loadPlan(resolve(io.cwd, dir));
  const statuses = await sweepStatuses(plan, undefined, undefined, (m) => io.err(`warning: ${m}`));
  const { rows, complete } = summariseSweep(plan, statuses);
  io.out(`${statusTable(statuses)}\n`);
  if (complete) io.out(`${sweepMarkdown(rows, plan.spec.metrics)}\n\nsummary: ${join(plan.dir, "summary.md")}`);
  else io.out(`not every variant has ended (${counts(statuses)}): no summary yet; re-run the sweep to resume`);
}
