import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Diagnostic, getAt, parsePath } from "@voxelpipe/core";
import { Report } from "../report/page.js";
import { toCsv } from "../text/csv.js";
import { describeAssignment, type Variant } from "./grid.js";

/**
 * The sweep's summary: mean ± std over seeds of each metric, read from every variant's latest run
 * folders, with the failed variants (from their status records) listed. It reads files only, so
 * whichever process writes it (the sweep command, a Slurm job after the array, `sweep status`)
 * writes the same bytes.
 */

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

export function summarise(
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

export function writeSummary(dir: string, rows: SweepRow[], metrics: string[], failed: SweepFailure[] = []): void {
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
  // assigned values as YAML wrote them: strings bare, anything else as JSON (toCsv quotes what needs it)
  const csv = toCsv(
    [
      "variant",
      ...Object.keys(rows[0]?.assignment ?? {}),
      ...metrics.flatMap((m) => [`${m}_mean`, `${m}_std`, `${m}_n`]),
    ],
    rows.map((r) => [
      r.variant,
      ...Object.values(r.assignment).map((v) => (typeof v === "string" ? v : JSON.stringify(v))),
      ...metrics.flatMap((m) => [r.metrics[m].mean, r.metrics[m].std, r.metrics[m].n]),
    ]),
  );
  writeFileSync(join(dir, "summary.csv"), csv);
}
