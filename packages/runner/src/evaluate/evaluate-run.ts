import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Dataset, StageRuntime } from "@voxelpipe/core";
import { datasetRecords } from "../data/records.js";
import { evaluateFiles } from "./evaluate.js";
import type { EvaluateConfig } from "./evaluate-stage.js";
import { pairWithPredictions } from "./pairing.js";
import { evaluationCsv, evaluationTables } from "./report.js";
import { writeEvaluationReport } from "./report-page.js";

/**
 * The evaluate stage's run: pair predictions with labels, score them, write evaluation.json/.csv and
 * report.html. Loaded on first run (evaluate-stage.ts), so validate never loads the metrics or the report.
 */
export async function runEvaluate(c: EvaluateConfig, rt: StageRuntime): Promise<void> {
  const pred = resolve(rt.baseDir, c.pred);
  let pairs: { pred: string; label: string }[] | undefined;
  const images = new Map<string, string>();
  if (!c.label) {
    const records = await datasetRecords(await rt.build<Dataset>("dataset", "data"), c.split);
    for (const r of records) if (typeof r.image === "string") images.set(String(r[c.label_key]), r.image);
    pairs = pairWithPredictions(
      pred,
      records.map((r) => String(r[c.label_key])),
    );
  }
  let names = c.class_names;
  if (!names && c.data)
    names = (await rt.build<Dataset & { labels?: Record<string, string> }>("dataset", "data")).labels;
  const r = await evaluateFiles({
    pred,
    label: c.label ? resolve(rt.baseDir, c.label) : undefined,
    pairs,
    names,
    map: c.map,
    mapPred: c.map_pred,
    mapLabel: c.map_label,
    metrics: c.metrics,
    nsdTolerance: c.nsd_tolerance,
  });
  const json = { cases: r.cases, mean: r.mean };
  const file = join(rt.artifacts.dir, "evaluation.json");
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(rt.artifacts.dir, "evaluation.csv"), evaluationCsv(r));
  for (const m of c.metrics) rt.log({ metric: m, ...r.mean[m] });
  rt.logger.info(`\n${evaluationTables(r)}`);
  rt.artifacts.publish("report", file);
  await writeEvaluationReport({
    dir: rt.artifacts.dir,
    title: `${String(rt.pipeline.value.name)} / ${rt.name}`,
    meta: `evaluation of ${r.cases.length} cases (${c.metrics.join(", ")}); predictions ${pred}`,
    result: r,
    images,
    map: c.map_label ?? c.map,
  });
}
