import { basename } from "node:path";
import { toCsv } from "../text/csv.js";
import { textTable } from "../text/table.js";
import type { EvaluationMetric, EvaluationResult } from "./evaluation-types.js";
import { niftiStem } from "./pairing.js";

const fmt = (m: EvaluationMetric, v: number | null | undefined) =>
  v === null || v === undefined ? "-" : m === "dice" || m === "nsd" ? v.toFixed(3) : v.toFixed(2);

/** One table per metric: organs as rows, cases and their mean as columns, the mean over organs last. */
export function evaluationTables(r: EvaluationResult): string {
  const out: string[] = [];
  const caseNames = r.cases.map((c) => niftiStem(c.label));
  for (const m of Object.keys(r.mean) as EvaluationMetric[]) {
    const headers = ["organ", ...caseNames, "mean"];
    const rows = r.organs.map((o) => [o, ...r.cases.map((c) => fmt(m, c.metrics[m]?.[o])), fmt(m, r.mean[m]?.[o])]);
    const caseMeans = r.cases.map((c) => {
      const v = Object.values(c.metrics[m] ?? {}).filter((x): x is number => typeof x === "number");
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
    });
    // the mean is over the organs that have a value (present in prediction or label of some case)
    const n = r.counted?.[m] ?? r.organs.length;
    const label = `mean (${n} organ${n === 1 ? "" : "s"}${n < r.organs.length ? ` present of ${r.organs.length}` : ""})`;
    rows.push([label, ...caseMeans.map((v) => fmt(m, v)), fmt(m, r.mean[m]?.mean)]);
    out.push(
      `${m}${m === "hd95" || m === "hd" ? " (mm)" : ""}`,
      textTable(headers, rows, { align: "numbers", rule: true }),
      "",
    );
  }
  return out.join("\n");
}

/** CSV: one row per case and organ, a column per metric (empty where a metric has no value); the means last. */
export function evaluationCsv(r: EvaluationResult): string {
  const metrics = Object.keys(r.mean) as EvaluationMetric[];
  const rows = r.cases.flatMap((c) =>
    r.organs.map((o) => [
      niftiStem(c.label),
      basename(c.pred),
      basename(c.label),
      o,
      ...metrics.map((m) => c.metrics[m]?.[o]),
    ]),
  );
  for (const o of [...r.organs, "mean"]) rows.push(["mean", "", "", o, ...metrics.map((m) => r.mean[m]?.[o])]);
  return toCsv(["case", "pred", "label", "organ", ...metrics], rows);
}
