import { Codes, type CompiledPipeline, type Diagnostic, didYouMean, parsePath, VoxelpipeError } from "@voxelpipe/core";
import type { SweepSpec } from "./grid.js";

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

export function requireMetrics(spec: SweepSpec): void {
  if (!spec.metrics.length) {
    throw new VoxelpipeError({
      code: Codes.missingArgument,
      message: "a sweep needs at least one metric to summarise",
      hint: "--metric <stage>.<path>, e.g. --metric fit.best or --metric score.mean.dice.mean (or sweep.metrics in the YAML)",
    });
  }
}
