import { defineStage } from "@voxelpipe/core";
import { trainConfigSchema } from "./train-config.js";
/**
 * The `train` stage: a dataset through transforms into batches, a step graph (model calls,
 * losses, arithmetic) whose objective an optimizer minimises, periodic validation selecting the
 * best checkpoint, and `last`/`best` checkpoints written atomically. How a step executes (micro-
 * batches, checkpointing, model replicas on worker threads) is planned from a memory estimate
 * before anything is allocated (memory-plan.ts).
 */
export const TrainDef = defineStage({
  name: "train",
  description: "fit a model: data → transforms → step graph → optimizer, with validation and checkpoints",
  outputs: ["best", "last", "summary", "report"],
  schema: trainConfigSchema,
  // the trainer (loop, replicas, reports) loads on first run: validate and list never load it
  run: async (c, rt) => (await import("./train-run.js")).runTrain(c, rt),
});
