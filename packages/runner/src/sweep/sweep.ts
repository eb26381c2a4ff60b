import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type BackendChoice,
  Codes,
  compilePipeline,
  type Diagnostic,
  getAt,
  type Logger,
  parsePath,
  VoxelpipeError,
} from "@voxelpipe/core";
import { builtinRegistries } from "../registries.js";
import { Report } from "../report/page.js";
import { runPipeline } from "../run/executor.js";
import { describeAssignment, type SweepSpec, sweepKey, type Variant, variants } from "./grid.js";

export interface SweepOptions {
  file: string;
  spec: SweepSpec;
  sets: string[];
  runsDir: string;
  backend?: BackendChoice;
  logger: Logger;
}

export interface SweepRow {
  variant: string;
  assignment: Record<string, unknown>;
  /** metric → mean, std (sample, n−1), n over seeds; null where no run produced it */
  metrics: Record<string, { mean: number | null; std: number | null; n: number; values: (number | null)[] }>;
}

export interface SweepResult {
  dir: string;
  ran: string[];
  skipped: string[];
  rows: SweepRow[];
}

/** a finished variant has every stage's outputs.json */
function finished(dir: string, stages: string[], pipeline: string): boolean {
  return stages.every((s) => {
    const root = join(dir, pipeline, s);
    return existsSync(root) && readdirSync(root).some((d) => existsSync(join(root, d, "outputs.json")));
  });
}

/** `<stage>.<path>`: a number inside the JSON artifact (train: summary, evaluate: report) of the stage's latest run */
export function readMetric(dir: string, pipeline: string, metric: string): number | null {
  const [stage, ...rest] = metric.split(".");
  const root = join(dir, pipeline, stage);
  if (!existsSync(root)) return null;
  const runs = readdirSync(root).sort();
  const outFile = join(root, runs[runs.length - 1] ?? "", "outputs.json");
  if (!existsSync(outFile)) return null;
  const outputs = JSON.parse(readFileSync(outFile, "utf8")) as Record<string, string>;
  const json = [outputs.report, outputs.summary].find((f) => f?.endsWith(".json") && existsSync(f));
  if (!json) return null;
  const v = getAt(JSON.parse(readFileSync(json, "utf8")), parsePath(rest.join("."))).value;
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function stats(values: (number | null)[]): { mean: number | null; std: number | null; n: number } {
  const v = values.filter((x): x is number => x !== null);
  if (!v.length) return { mean: null, std: null, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std, n: v.length };
}

/**
 * Run every variant of a sweep in its own runs folder. Every variant is validated before the first
 * one starts; a variant whose stages all finished is skipped, an interrupted one resumes; the
 * summary (mean ± std over seeds) is written as markdown, CSV and JSON.
 */
export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  const all = variants(o.spec);
  // validate everything first: one problem anywhere stops the sweep before any compute
  const problems: Diagnostic[] = [];
  let name = "";
  let stageNames: string[] = [];
  for (const v of all) {
    const r = await compilePipeline(o.file, {
      overrides: [...o.sets, ...v.overrides],
      registries: builtinRegistries(),
    });
    if (!r.pipeline) problems.push(...r.diagnostics.map((d) => ({ ...d, message: `variant ${v.id}: ${d.message}` })));
    else {
      name = r.pipeline.name;
      stageNames = r.pipeline.order;
    }
  }
  if (problems.length) throw new VoxelpipeError(problems);
  const dir = join(o.runsDir, name, `sweep-${sweepKey(name, o.spec, o.sets)}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "sweep.json"),
    `${JSON.stringify({ pipeline: o.file, spec: o.spec, sets: o.sets, variants: all.map((v) => v.id) }, null, 2)}\n`,
  );
  o.logger.info(`sweep of ${all.length} variants in ${dir}`);
  const ran: string[] = [];
  const skipped: string[] = [];
  for (const [i, v] of all.entries()) {
    const vdir = join(dir, v.id);
    if (finished(vdir, stageNames, name)) {
      skipped.push(v.id);
      o.logger.info(`[${i + 1}/${all.length}] ${v.id}: finished earlier, skipped`);
      continue;
    }
    o.logger.info(`[${i + 1}/${all.length}] ${v.id}: ${describeAssignment(v.assignment)} seed ${v.seed}`);
    const registries = builtinRegistries();
    const r = await compilePipeline(o.file, { overrides: [...o.sets, ...v.overrides], registries });
    if (!r.pipeline) throw new VoxelpipeError(r.diagnostics);
    await runPipeline(r.pipeline, registries, {
      runsDir: vdir,
      backend: o.backend,
      resume: existsSync(vdir),
      logger: o.logger.child(v.id),
    });
    ran.push(v.id);
  }
  const rows = summarise(all, dir, name, o.spec.metrics);
  writeSummary(dir, rows, o.spec.metrics);
  return { dir, ran, skipped, rows };
}

function summarise(all: Variant[], dir: string, pipeline: string, metrics: string[]): SweepRow[] {
  const groups = new Map<string, Variant[]>();
  for (const v of all) {
    const k = JSON.stringify(v.assignment);
    groups.set(k, [...(groups.get(k) ?? []), v]);
  }
  return [...groups.values()].map((vs) => ({
    variant: describeAssignment(vs[0].assignment) || "(base)",
    assignment: vs[0].assignment,
    metrics: Object.fromEntries(
      metrics.map((m) => {
        const values = vs.map((v) => readMetric(join(dir, v.id), pipeline, m));
        return [m, { ...stats(values), values }];
      }),
    ),
  }));
}

const fmt = (x: number | null) => (x === null ? "–" : Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(4));

/** the summary table as markdown (also printed) */
export function sweepMarkdown(rows: SweepRow[], metrics: string[]): string {
  const head = `| variant | ${metrics.map((m) => `${m} (mean ± std)`).join(" | ")} | n |`;
  const sep = `|---|${metrics.map(() => "---").join("|")}|---|`;
  const body = rows.map((r) => {
    const n = Math.max(0, ...metrics.map((m) => r.metrics[m].n));
    return `| ${r.variant} | ${metrics.map((m) => `${fmt(r.metrics[m].mean)} ± ${fmt(r.metrics[m].std)}`).join(" | ")} | ${n} |`;
  });
  return [head, sep, ...body].join("\n");
}

function writeSummary(dir: string, rows: SweepRow[], metrics: string[]): void {
  const rep = new Report(
    dir,
    `sweep ${dir.split("/").slice(-2).join("/")}`,
    `${rows.length} variants × seeds; mean ± std over seeds`,
  );
  rep.heading("Metrics");
  for (const m of metrics)
    rep.bars(
      m,
      rows.map((r) => ({ label: r.variant, value: r.metrics[m].mean, err: r.metrics[m].std })),
    );
  rep.heading("Table").table(
    ["variant", ...metrics.map((m) => `${m} mean ± std`), ...metrics.map((m) => `${m} per seed`)],
    rows.map((r) => [
      r.variant,
      ...metrics.map((m) => `${fmt(r.metrics[m].mean)} ± ${fmt(r.metrics[m].std)}`),
      ...metrics.map((m) => r.metrics[m].values.map(fmt).join(", ")),
    ]),
  );
  rep.write();
  writeFileSync(join(dir, "summary.md"), `${sweepMarkdown(rows, metrics)}\n`);
  writeFileSync(join(dir, "summary.json"), `${JSON.stringify({ metrics, rows }, null, 2)}\n`);
  const csv = [
    [
      "variant",
      ...Object.keys(rows[0]?.assignment ?? {}),
      ...metrics.flatMap((m) => [`${m}_mean`, `${m}_std`, `${m}_n`]),
    ].join(","),
    ...rows.map((r) =>
      [
        JSON.stringify(r.variant),
        ...Object.values(r.assignment).map((v) => JSON.stringify(v)),
        ...metrics.flatMap((m) => [r.metrics[m].mean ?? "", r.metrics[m].std ?? "", r.metrics[m].n]),
      ].join(","),
    ),
  ];
  writeFileSync(join(dir, "summary.csv"), `${csv.join("\n")}\n`);
}

export function requireMetrics(spec: SweepSpec): void {
  if (!spec.metrics.length) {
    throw new VoxelpipeError({
      code: Codes.missingArgument,
      message: "a sweep needs at least one metric to summarise",
      hint: "--metric <stage>.<path>, e.g. --metric fit.best or --metric score.mean.dice.mean (or sweep.metrics in the YAML)",
    });
  }
}
