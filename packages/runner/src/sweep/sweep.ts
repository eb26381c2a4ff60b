import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type BackendChoice,
  Codes,
  type CompiledPipeline,
  type CompileOptions,
  compilePipeline,
  type Diagnostic,
  didYouMean,
  getAt,
  isVoxelpipeError,
  type Logger,
  parsePath,
  VoxelpipeError,
} from "@voxelpipe/core";
import { builtinRegistries } from "../registries.js";
import { Report } from "../report/page.js";
import { runPipeline } from "../run/executor.js";
import { allReusable } from "../run/reuse.js";
import { removeEmptyRunDirs, runDirMark } from "../run/run-dir.js";
import { describeAssignment, type SweepSpec, sweepKey, type Variant, variants } from "./grid.js";

export interface SweepOptions {
  file: string;
  spec: SweepSpec;
  sets: string[];
  runsDir: string;
  backend?: BackendChoice;
  logger: Logger;
  /** plugin trust and file size cap, as for every command that loads pipelines */
  load?: Pick<CompileOptions, "trust" | "maxFileBytes">;
}

/** a variant that failed: its diagnostics (or the error's first line) */
export interface SweepFailure {
  variant: string;
  diagnostics: Diagnostic[];
}

export interface SweepRow {
  variant: string;
  assignment: Record<string, unknown>;
  /** metric → mean, std (sample, n−1), n over seeds; null where no run produced it */
  metrics: Record<string, { mean: number | null; std: number | null; n: number; values: (number | null)[] }>;
  /** variants of this row (seeds) that failed, with the first diagnostic */
  failed: { variant: string; code: string; message: string }[];
}

export interface SweepResult {
  dir: string;
  ran: string[];
  skipped: string[];
  failed: SweepFailure[];
  rows: SweepRow[];
}

/** `<stage>.<path>`: a number inside the JSON artifact (train: summary, evaluate: report) of the stage's latest run */
export function readMetric(dir: string, pipeline: string, metric: string): number | null {
  const [stage, ...rest] = metric.split(".");
  const root = join(dir, pipeline, stage);
  if (!existsSync(root)) return null;
  const runs = readdirSync(root).sort();
  const outFile = join(root, runs[runs.length - 1] ?? "", "outputs.json");
  if (!existsSync(outFile)) return null;
  try {
    const outputs = JSON.parse(readFileSync(outFile, "utf8")) as Record<string, string>;
    const json = [outputs.report, outputs.summary].find((f) => f?.endsWith(".json") && existsSync(f));
    if (!json) return null;
    const v = getAt(JSON.parse(readFileSync(json, "utf8")), parsePath(rest.join("."))).value;
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  } catch {
    return null; // a torn or foreign file: no value
  }
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
 * one starts; a variant whose stages all finished with the configuration compiled now (run
 * fingerprints) is skipped, an interrupted one resumes, a changed one runs again; the
 * summary (mean ± std over seeds) is written as markdown, CSV and JSON.
 */
export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  const all = variants(o.spec);
  // validate everything first: one problem anywhere stops the sweep before any compute
  const problems: Diagnostic[] = [];
  let name = "";
  let first: CompiledPipeline | undefined;
  for (const v of all) {
    const r = await compilePipeline(o.file, {
      overrides: [...o.sets, ...v.overrides],
      registries: builtinRegistries(),
      ...o.load,
    });
    if (!r.pipeline) problems.push(...r.diagnostics.map((d) => ({ ...d, message: `variant ${v.id}: ${d.message}` })));
    else {
      first ??= r.pipeline;
      name = r.pipeline.name;
    }
  }
  if (problems.length) throw new VoxelpipeError(problems);
  // every metric must name something a stage publishes, before anything runs
  if (first) checkMetrics(first, o.spec.metrics);
  const dir = join(o.runsDir, name, `sweep-${sweepKey(name, o.spec, o.sets)}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "sweep.json"),
    `${JSON.stringify({ pipeline: o.file, spec: o.spec, sets: o.sets, variants: all.map((v) => v.id) }, null, 2)}\n`,
  );
  o.logger.info(`sweep of ${all.length} variants in ${dir}`);
  const ran: string[] = [];
  const skipped: string[] = [];
  const failed: SweepFailure[] = [];
  for (const [i, v] of all.entries()) {
    const vdir = join(dir, v.id);
    // one failing variant is recorded and the sweep goes on
    const mark = runDirMark();
    try {
      const registries = builtinRegistries();
      const r = await compilePipeline(o.file, { overrides: [...o.sets, ...v.overrides], registries, ...o.load });
      if (!r.pipeline) throw new VoxelpipeError(r.diagnostics);
      // skipped only when every stage finished with this very configuration (its fingerprint): a
      // pipeline edited since, or changed inputs, run the variant again
      if (existsSync(vdir) && allReusable(r.pipeline, registries, vdir)) {
        skipped.push(v.id);
        o.logger.info(`[${i + 1}/${all.length}] ${v.id}: finished earlier, skipped`);
        continue;
      }
      o.logger.info(`[${i + 1}/${all.length}] ${v.id}: ${describeAssignment(v.assignment)} seed ${v.seed}`);
      await runPipeline(r.pipeline, registries, {
        runsDir: vdir,
        backend: o.backend,
        // finished matching stages are reused, interrupted ones resume; a stage whose
        // configuration changed starts a new run directory (its latest run is what the summary reads)
        resume: existsSync(vdir),
        onChange: "new",
        logger: o.logger.child(v.id),
      });
      ran.push(v.id);
    } catch (e) {
      removeEmptyRunDirs(mark);
      const diagnostics: Diagnostic[] = isVoxelpipeError(e)
        ? e.diagnostics
        : [{ code: Codes.runtime, message: String((e as Error)?.message ?? e).split("\n")[0] }];
      failed.push({ variant: v.id, diagnostics });
      o.logger.error(`[${i + 1}/${all.length}] ${v.id} failed: ${diagnostics[0].code} ${diagnostics[0].message}`);
    }
  }
  const rows = summarise(all, dir, name, o.spec.metrics, failed);
  writeSummary(dir, rows, o.spec.metrics, failed);
  return { dir, ran, skipped, failed, rows };
}

/** what a stage's summary (train) or report (evaluate) holds at its top level */
const METRIC_ROOTS: Record<string, string[]> = {
  train: ["metric", "select", "best", "best_iteration", "iterations", "epochs", "last_validation"],
  evaluate: ["mean", "cases"],
};

/**
 * `<stage>.<path>`: the stage must exist and publish a summary or report, and for the built-in
 * kinds the path's first key must be one they write; a typo is an error with a did-you-mean.
 */
export function checkMetrics(p: CompiledPipeline, metrics: string[]): void {
  const problems: Diagnostic[] = [];
  const stages = [...p.stages.values()];
  const publishing = stages.filter((s) => s.def.outputs.includes("summary") || s.def.outputs.includes("report"));
  const all = publishing.flatMap((s) => (METRIC_ROOTS[s.kind] ?? []).map((k) => `${s.name}.${k}`));
  for (const m of metrics) {
    const [stage = "", ...rest] = parsePath(m).map(String);
    const st = p.stages.get(stage);
    if (!st || !publishing.includes(st)) {
      problems.push({
        code: Codes.unknownMetric,
        message: st
          ? `--metric ${m}: stage "${stage}" (${st.kind}) publishes no summary or report to read a metric from`
          : `--metric ${m}: no stage "${stage}" in ${p.name}`,
        path: m,
        expected: `<stage>.<path> with a stage of: ${publishing.map((s) => s.name).join(", ") || "(none publishes metrics)"}`,
        got: JSON.stringify(m),
        hint: st
          ? undefined
          : didYouMean(
              stage,
              publishing.map((s) => s.name),
            ),
      });
      continue;
    }
    const roots = METRIC_ROOTS[st.kind];
    if (rest.length === 0 || (roots && !roots.includes(rest[0]))) {
      problems.push({
        code: Codes.unknownMetric,
        message: `--metric ${m}: a ${st.kind} stage publishes no "${rest[0] ?? ""}"`,
        path: m,
        expected: roots ? `one of: ${roots.map((k) => `${stage}.${k}`).join(", ")}` : "<stage>.<path>",
        got: JSON.stringify(m),
        hint: didYouMean(m, all),
      });
    }
  }
  if (problems.length) throw new VoxelpipeError(problems);
}

function summarise(
  all: Variant[],
  dir: string,
  pipeline: string,
  metrics: string[],
  failed: SweepFailure[] = [],
): SweepRow[] {
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
        const values = vs.map((v) =>
          failed.some((f) => f.variant === v.id) ? null : readMetric(join(dir, v.id), pipeline, m),
        );
        return [m, { ...stats(values), values }];
      }),
    ),
    failed: failed
      .filter((f) => vs.some((v) => v.id === f.variant))
      .map((f) => ({
        variant: f.variant,
        code: f.diagnostics[0]?.code ?? "",
        message: f.diagnostics[0]?.message ?? "",
      })),
  }));
}

const fmt = (x: number | null) => (x === null ? "–" : Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(4));

/** the summary table as markdown (also printed) */
export function sweepMarkdown(rows: SweepRow[], metrics: string[]): string {
  const head = `| variant | ${metrics.map((m) => `${m} (mean ± std)`).join(" | ")} | n |`;
  const sep = `|---|${metrics.map(() => "---").join("|")}|---|`;
  const body = rows.map((r) => {
    const n = Math.max(0, ...metrics.map((m) => r.metrics[m].n));
    const mark = r.failed?.length ? ` (${r.failed.length} failed)` : "";
    return `| ${r.variant} | ${metrics.map((m) => `${fmt(r.metrics[m].mean)} ± ${fmt(r.metrics[m].std)}`).join(" | ")} | ${n}${mark} |`;
  });
  const failures = rows.flatMap((r) => r.failed ?? []);
  const notes = failures.length
    ? ["", "Failed variants:", ...failures.map((f) => `- ${f.variant}: ${f.code} ${f.message.split("\n")[0]}`)]
    : [];
  return [head, sep, ...body, ...notes].join("\n");
}

function writeSummary(dir: string, rows: SweepRow[], metrics: string[], failed: SweepFailure[] = []): void {
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
  if (failed.length)
    rep.heading("Failed variants").table(
      ["variant", "code", "message"],
      failed.map((f) => [f.variant, f.diagnostics[0]?.code ?? "", f.diagnostics[0]?.message ?? ""]),
    );
  rep.write();
  writeFileSync(join(dir, "summary.md"), `${sweepMarkdown(rows, metrics)}\n`);
  writeFileSync(join(dir, "summary.json"), `${JSON.stringify({ metrics, rows, failed }, null, 2)}\n`);
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
