import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineStage, type StageRuntime, z } from "@voxelpipe/core";
import { writeSynthDataset } from "@voxelpipe/transforms";

/**
 * `synth`: generate the built-in synthetic abdominal CT dataset as a stage, so a demo pipeline is
 * self-contained. Publishes `datalist` (dataset.json) and `dir`. A dataset already generated with
 * the same options (same folder) is reused.
 */
export const SynthDef = defineStage({
  name: "synth",
  description: "write a synthetic abdominal CT dataset (13 BTCV organs) and publish its datalist",
  outputs: ["datalist", "dir"],
  schema: () =>
    z.object({
      cases: z.number().int().positive().describe("labelled cases (training + validation)"),
      test_cases: z
        .number()
        .int()
        .min(0)
        .default(0)
        .describe("extra held-out cases (imagesTs/labelsTs, the `test` list)"),
      size: z
        .union([z.number().int().min(16), z.tuple([z.number().int(), z.number().int(), z.number().int()])])
        .describe("grid size"),
      val_fraction: z.number().min(0).max(0.9).default(0.25).describe("share of the cases in the validation split"),
      seed: z.number().int().min(0).default(0).describe("dataset seed"),
      out: z.string().optional().describe("folder (default: <run dir>/data); relative to the pipeline file"),
    }),
  run: async (cfg, rt: StageRuntime) => {
    const dir = cfg.out ? resolve(rt.baseDir, cfg.out) : join(rt.artifacts.dir, "data");
    const key = JSON.stringify({
      cases: cfg.cases,
      test: cfg.test_cases,
      size: cfg.size,
      val: cfg.val_fraction,
      seed: cfg.seed,
    });
    const stamp = join(dir, ".voxelpipe-synth.json");
    let datalist = join(dir, "dataset.json");
    if (existsSync(stamp) && existsSync(datalist) && readFileSync(stamp, "utf8") === key) {
      rt.logger.info(`reusing the synthetic dataset in ${dir}`);
    } else {
      const started = Date.now();
      const r = await writeSynthDataset(dir, {
        cases: cfg.cases,
        size: cfg.size,
        seed: cfg.seed,
        valFraction: cfg.val_fraction,
        testCases: cfg.test_cases,
      });
      datalist = r.datalist;
      writeFileSync(stamp, key);
      rt.logger.info(
        `wrote ${r.cases.length} synthetic cases to ${dir} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    }
    rt.artifacts.publish("datalist", datalist);
    rt.artifacts.publish("dir", dir);
  },
});
