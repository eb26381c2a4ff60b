import { z } from "zod";
import { backendNames } from "../backend.js";
import { Codes } from "../errors.js";
import type { Slots } from "../sdk/stage.js";
import { BYTE_SIZE_EXPECTED, BYTE_SIZE_PATTERN, parseByteSize } from "./byte-size.js";
import { describeValue, type VpIssueParams } from "./zod-issues.js";

export const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export const pluginEntrySchema = z.union([
  z.string().describe("package name or path (relative to this file) of a voxelpipe plugin"),
  z
    .object({
      from: z.string().describe("package name or relative path"),
      as: z
        .string()
        .regex(/^[a-z][a-z0-9_-]*$/)
        .optional()
        .describe("register its components under this namespace"),
    })
    .strict(),
]);

/** Keys every stage has, whatever its kind. */
export const stageCommon = {
  kind: z.string().describe("stage kind: train, evaluate, infer, preprocess, ... (see `voxelpipe list stage`)"),
  needs: z
    .array(z.string())
    .optional()
    .describe("stages that must run first; their outputs become @stages.<name>.outputs.*"),
  description: z.string().optional().describe("what this stage is for"),
};

/** The top level of a pipeline file. `stages` holds per-kind schemas (see validate.ts / json-schema.ts). */
export function pipelineSchema(stage: z.ZodType) {
  return z
    .object({
      version: z.literal(1).describe("pipeline format version"),
      name: z.string().regex(IDENT).describe("pipeline name; runs go to runs/<name>/<stage>/<timestamp>"),
      description: z.string().optional(),
      seed: z.number().int().min(0).max(4294967295).default(0).describe("run seed: all randomness derives from it"),
      backend: z
        .enum(["auto", ...backendNames])
        .default("auto")
        .describe("tensor backend; auto picks the best that loads"),
      threads: z
        .union([z.literal("auto"), z.number().int().positive()])
        .default("auto")
        .describe("CPU threads a run may use (model replicas, wasm threads); auto = every core"),
      max_image_bytes: byteSizeSchema
        .optional()
        .describe(
          "refuse image files declaring more voxel data than this (bytes, or 512MiB, 8GiB, 4e9); --max-image-bytes overrides it; default VOXELPIPE_MAX_IMAGE_BYTES, else 1/16 of memory",
        ),
      vars: z.record(z.string(), z.unknown()).optional().describe("values to reuse through ${vars.x}"),
      plugins: z.array(pluginEntrySchema).optional().describe("extra plugins to load"),
      extends: z
        .union([z.string(), z.array(z.string())])
        .optional()
        .describe("files to deep-merge under this one"),
      sweep: sweepSchema.optional().describe("parameter grid and executor for `voxelpipe sweep`"),
      stages: z.record(z.string().regex(IDENT), stage).describe("the stage graph"),
    })
    .strict();
}

/**
 * A size in bytes: a number or a string with a unit (parseByteSize, the parser `--max-image-bytes` uses), parsed to
 * a whole number of bytes. Anything else is one VP111 at the value, whatever its type.
 */
const byteSizeSchema = z
  .unknown()
  .transform((v, ctx) => {
    const bytes = typeof v === "number" || typeof v === "string" ? parseByteSize(v) : undefined;
    if (bytes !== undefined) return bytes;
    const params: VpIssueParams = {
      vp: {
        code: Codes.invalidValue,
        message: `not a size in bytes: ${describeValue(v)}`,
        expected: BYTE_SIZE_EXPECTED,
        got: describeValue(v),
        hint: "write the limit as bytes or with a unit, e.g. max_image_bytes: 8GiB",
      },
    };
    ctx.addIssue({ code: "custom", input: v, params });
    return z.NEVER;
  })
  .meta({
    anyOf: [
      { type: "number", minimum: 1 },
      { type: "string", pattern: BYTE_SIZE_PATTERN },
    ],
  });

/**
 * The `sweep:` block's shape, checked by `validate` like the rest of the file (and completed by editors); what the
 * values mean — grid paths, seed ranges, metric paths, executor options — the runner's sweep checks when it plans.
 */
export const sweepSchema = z
  .object({
    grid: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        "config path → list of values (a single value is a list of one; `none` is null); every combination runs",
      ),
    seeds: z
      .union([z.string(), z.number().int().min(0), z.array(z.number().int().min(0))])
      .optional()
      .describe('seeds per grid point: "0..2", "0,3" or a list'),
    metrics: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .describe("<stage>.<path> into what each variant's stages publish, e.g. score.mean.dice.mean"),
    executor: z.string().optional().describe("where variants run: local (default) or slurm"),
    jobs: z.number().int().min(1).max(1024).optional().describe("local executor: variants at once"),
    slurm: z
      .object({
        partition: z.string().optional(),
        time: z.string().optional().describe("per array task, e.g. 04:00:00"),
        cpus_per_task: z.number().int().min(1).optional(),
        mem: z.string().optional().describe("e.g. 16G"),
        gpus: z
          .union([z.string(), z.number().int().min(1)])
          .optional()
          .describe("per task, e.g. 1 or a100:1"),
        max_parallel: z.number().int().min(1).optional().describe("array tasks running at once (%N)"),
        sbatch_args: z.array(z.string()).optional().describe("extra sbatch arguments"),
      })
      .strict()
      .optional()
      .describe("slurm executor: resources of each array task"),
  })
  .strict();

/** For validation: stages are checked one by one against their kind's schema. */
export const looseStage = z.object(stageCommon).loose();

export type SlotsFactory = (slots: Slots) => z.ZodType;
