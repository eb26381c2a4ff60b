import { Codes, type Slots, z } from "@voxelpipe/core";
import { loaderSchema } from "../data/loader-config.js";
import { stepGraphSchema } from "./step-graph.js";

/** The `train` stage's configuration: this schema validates it, and its output type is what the stage reads. */
export function trainConfigSchema(s: Slots) {
  // Long by design: the train stage's zod schema: one field per YAML key with its default and description;
  // splitting a schema scatters the YAML it documents.
  return (
    z
      .object({
        data: s.component("dataset").describe("where samples come from (a datalist or generated data)"),
        transforms: z
          .object({
            train: z.array(s.component("transform")).default([]).describe("applied to each training sample"),
            val: z.array(s.component("transform")).default([]).describe("applied to each validation sample"),
          })
          .strict()
          .default({ train: [], val: [] })
          .describe("transform chains: train (random augmentation allowed) and val"),
        splits: z
          .object({
            train: z.string().default("training"),
            val: z.string().default("validation"),
          })
          .strict()
          .default({ train: "training", val: "validation" })
          .describe("dataset split names"),
        batch_size: z
          .number()
          .int()
          .positive()
          .default(1)
          .describe("items per optimizer step (a transform drawing several crops per item multiplies the samples)"),
        epochs: z.number().int().positive().optional().describe("passes over the training split"),
        iterations: z.number().int().positive().optional().describe("optimizer steps (instead of epochs)"),
        model: s.component("model").describe("the network to train"),
        step: stepGraphSchema(s),
        objective: z.string().default("loss").describe("the step node the optimizer minimises"),
        optimizer: s.component("optimizer").describe("updates the model's parameters from the objective's gradients"),
        scheduler: s.component("scheduler").optional().describe("learning rate per step (default: the optimizer's lr)"),
        clip_grad_norm: z.number().positive().optional().describe("clip gradients to this global L2 norm"),
        micro_batch: z
          .union([z.literal("auto"), z.number().int().positive()])
          .default("auto")
          .describe(
            "samples per forward/backward pass; gradients of the micro-batches are summed in a fixed order into the batch's gradient (auto: the most that fit memory, spread over the threads)",
          ),
        checkpointing: z
          .union([z.literal("auto"), z.boolean()])
          .default("auto")
          .describe(
            "recompute block activations in the backward pass instead of keeping them (auto: only when a sample does not fit memory otherwise)",
          ),
        validate: z
          .object({
            every: z.number().int().positive().default(1).describe("validate every N epochs (or iterations, see unit)"),
            unit: z.enum(["epoch", "iteration"]).default("epoch"),
            metric: z
              .string()
              .optional()
              .describe(
                "what selects the best checkpoint: a metric's name, or a step node averaged over the validation split (default: the first metric, else the objective)",
              ),
            select_best: z.enum(["min", "max"]).default("min"),
            inferer: s
              .component("inferer")
              .optional()
              .describe("whole-volume prediction for metrics, e.g. SlidingWindow"),
            metrics: z
              .array(s.component("metric"))
              .default([])
              .describe("segmentation metrics on argmax predictions of each validation volume (e.g. DiceMetric)"),
            image_key: z.string().default("image").describe("batch key fed to the inferer"),
            label_key: z.string().default("label").describe("batch key holding the ground-truth label map"),
            early_stopping: z.object({ patience: z.number().int().positive() }).strict().optional(),
          })
          .strict()
          .optional()
          .describe("validation cadence, metrics and best-checkpoint selection (none: best = last)"),
        log_every: z.number().int().positive().default(1).describe("write a metrics.jsonl line every N steps"),
        loader: loaderSchema
          .optional()
          .describe("caching and worker threads: { cache_rate, cache_num, cache_dir, num_workers, prefetch }"),
      })
      // the objective must be a node of the step graph: checked by `validate`, not found hours later
      .superRefine((c, ctx) => {
        const nodes = Object.keys(c.step ?? {});
        if (nodes.length && !nodes.includes(c.objective)) {
          ctx.addIssue({
            code: "custom",
            path: ["objective"],
            message: `objective "${c.objective}" is not a node of the step graph`,
            params: {
              vp: {
                code: Codes.stepGraph,
                message: `objective "${c.objective}" is not a node of the step graph`,
                expected: `one of: ${nodes.join(", ")}`,
                got: JSON.stringify(c.objective),
                hint: "set `objective:` to the step node the optimizer minimises (default: loss)",
              },
            },
          });
        }
      })
  );
}

export type TrainConfig = z.output<ReturnType<typeof trainConfigSchema>>;
export type ValidateConfig = NonNullable<TrainConfig["validate"]>;
