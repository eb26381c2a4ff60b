import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Codes, type Dataset, defineStage, type Slots, type StageConfig, type StageRuntime, z } from "@voxelpipe/core";
import { datasetRecords } from "../data/records.js";
import { evaluateFiles, evaluationMetrics } from "./evaluate.js";
import { pairWithPredictions } from "./pairing.js";
import { evaluationCsv, evaluationTables } from "./report.js";
import { writeEvaluationReport } from "./report-page.js";

/** The `evaluate` stage's configuration: `run` receives this schema's output. */
function evaluateSchema(s: Slots) {
  return z
    .object({
      pred: z.string().describe("folder of predictions, e.g. @stages.predict.outputs.predictions"),
      label: z.string().optional().describe("ground-truth file or folder (paired by case name)"),
      data: s.component("dataset").optional().describe("or: a dataset whose split lists the ground truth"),
      split: z.string().default("validation"),
      label_key: z.string().default("label"),
      class_names: z
        .record(z.string(), z.string())
        .optional()
        .describe('class value → organ name, e.g. { "1": spleen }'),
      map: z.record(z.string(), z.number().int()).optional().describe("remap values of both sides first; unlisted → 0"),
      map_pred: z
        .record(z.string(), z.number().int())
        .optional()
        .describe("remap the predictions' values only (instead of `map`); unlisted → 0"),
      map_label: z
        .record(z.string(), z.number().int())
        .optional()
        .describe("remap the labels' values only (instead of `map`); unlisted → 0"),
      metrics: z.array(z.enum(evaluationMetrics)).default(["dice", "hd95"]),
      nsd_tolerance: z.number().positive().default(2).describe("surface Dice tolerance (mm)"),
    })
    .superRefine((c, ctx) => {
      if (c.label !== undefined || c.data !== undefined) return;
      const message = "an evaluate stage needs `label` or `data`";
      ctx.addIssue({
        code: "custom",
        message,
        params: {
          vp: {
            code: Codes.missingArgument,
            message,
            hint: "add `label:` (a file or folder of ground truth) or `data:` (a dataset, with `split:`)",
          },
        },
      });
    });
}

export type EvaluateConfig = StageConfig<ReturnType<typeof evaluateSchema>>;

export const EvaluateDef = defineStage({
  name: "evaluate",
  description: "score predicted label maps against ground truth: per-case × per-organ Dice / HD95 / HD / surface Dice",
  outputs: ["report"],
  schema: evaluateSchema,
  run: evaluate,
});

async function evaluate(c: EvaluateConfig, rt: StageRuntime): Promise<void> {
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
