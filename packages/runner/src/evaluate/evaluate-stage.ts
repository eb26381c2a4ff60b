import { Codes, defineStage, type Slots, type StageConfig, z } from "@voxelpipe/core";
import { evaluationMetrics } from "./evaluation-types.js";

/** The `evaluate` stage's configuration: `run` receives this schema's output. */
function evaluateSchema(s: Slots) {
  return z
    .object({
      pred: z.string().describe("folder of predictions, e.g. @stages.predict.outputs.predictions"),
      label: z.string().optional().describe("ground-truth file or folder (paired by case name)"),
      data: s.component("dataset").optional().describe("or: a dataset whose split lists the ground truth"),
      split: z.string().default("validation").describe("with `data`: the split listing the ground truth"),
      label_key: z.string().default("label").describe("with `data`: the record key of the label file"),
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
      metrics: z
        .array(z.enum(evaluationMetrics))
        .default(["dice", "hd95"])
        .describe("per case × organ: dice, hd95, hd, nsd (surface Dice)"),
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
  // the metrics and the report load on first run: validate and list never load them
  run: async (c, rt) => (await import("./evaluate-run.js")).runEvaluate(c, rt),
});
