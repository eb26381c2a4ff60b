import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type BackendChoice, backendNames, Codes, createLogger, loadPipeline, VoxelpipeError } from "@voxelpipe/core";
import { type Command, Option } from "commander";
import { addExecutorFlags, type ExecutorFlags, executorFrom, flagsFromYaml } from "../executors/options.js";
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
import { addLoadFlags, intArg, type LoadFlags, loadOptions } from "./args.js";
import type { CliIO } from "./io.js";

interface SweepCliOptions extends LoadFlags, ExecutorFlags {
  grid: string[];
  seeds?: string;
  metric: string[];
  set: string[];
  backend?: BackendChoice;
  runsDir: string;
}

const collect = (v: string, p: string[]) => [...p, v];

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
    .addOption(new Option("--backend <backend>", "tensor backend").choices(["auto", ...backendNames]))
    .option(
      "--runs-dir <dir>",
      "where the sweep folder goes (with --executor slurm: on a filesystem every node shares)",
      "runs",
    )
    .action(async (file: string, o: SweepCliOptions) => {
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
          throw failedError(
            { dir: r.dir, failed: broken.map((s) => ({ variant: s.variant, diagnostics: [] })) },
            total(),
          );
        return;
      }
      io.out(
        `${sweepMarkdown(r.rows, spec.metrics)}\n\nsweep: ${r.dir} (${r.ran.length} run, ${r.skipped.length} already finished${r.failed.length ? `, ${r.failed.length} failed` : ""})`,
      );
      if (r.failed.length) throw failedError(r, total());
    });

  // `voxelpipe sweep status <dir | pipeline + the sweep's flags>`: the parent command parses the flags
  sweep
    .command("status")
    .description("show each variant's state (scheduler queue, run folders); writes the summary once all have ended")
    .argument("<target>", "the sweep folder, or the pipeline with the same flags as the sweep command")
    .action(async (target: string) => {
      const o = sweep.opts() as SweepCliOptions;
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
    });

  // tasks an executor runs (hidden): one variant, and the summary after all of them
  program
    .command("_sweep-variant", { hidden: true })
    .argument("<dir>", "sweep folder")
    .argument("<variant>", "variant id")
    .option("--threads <n>", "threads for this variant", intArg("--threads", 1))
    .option("--via <executor>", "the executor that runs it (recorded in its status)", "local")
    .action(async (dir: string, variant: string, o: { threads?: number; via: string }) => {
      const plan = loadPlan(resolve(io.cwd, dir));
      const logger = createLogger({ write: (_l, line) => io.err(line) });
      const r = await runVariant(plan, variant, { logger, executor: o.via, threads: o.threads });
      if (r.kind === "failed") throw new VoxelpipeError(r.diagnostics);
    });

  program
    .command("_sweep-summary", { hidden: true })
    .argument("<dir>", "sweep folder")
    .action(async (dir: string) => {
      const plan = loadPlan(resolve(io.cwd, dir));
      const statuses = await sweepStatuses(plan, undefined, undefined, (m) => io.err(`warning: ${m}`));
      const { rows, complete } = summariseSweep(plan, statuses);
      io.out(`${statusTable(statuses)}\n`);
      if (complete) io.out(`${sweepMarkdown(rows, plan.spec.metrics)}\n\nsummary: ${join(plan.dir, "summary.md")}`);
      else io.out(`not every variant has ended (${counts(statuses)}): no summary yet; re-run the sweep to resume`);
    });
}
