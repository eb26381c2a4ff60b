import { defineStage, type Slots, type StageConfig, z } from "@voxelpipe/core";

/** The `infer` stage's configuration: `run` receives this schema's output. */
function inferSchema(s: Slots) {
  return z.object({
    model: s.component("model").describe("the network (weights from `checkpoint` or its own init)"),
    checkpoint: z.string().optional().describe("weights to load (a .safetensors path or @stages.<train>.outputs.best)"),
    checkpoint_format: z.enum(["voxelpipe", "monai"]).default("voxelpipe").describe("layout of the checkpoint"),
    input: z.string().optional().describe("a NIfTI file, a folder of them, or a Decathlon datalist (.json)"),
    data: s.component("dataset").optional().describe("or: a dataset and split"),
    split: z.string().default("validation").describe("datalist split to predict"),
    transforms: z
      .array(s.component("transform"))
      .default([])
      .describe("deterministic preprocessing (e.g. @stages.finetune.transforms.val); random transforms are dropped"),
    inferer: s.component("inferer").optional().describe("e.g. SlidingWindow; default: the whole volume at once"),
    image_key: z.string().default("image").describe("sample key holding the image to segment"),
    output_dir: z.string().optional().describe("where label maps go (default: <run dir>/predictions)"),
    output_postfix: z.string().default("seg").describe("files are <case>_<postfix>.nii.gz"),
    save_probabilities: z
      .boolean()
      .default(false)
      .describe("also write <case>_prob.nii.gz (softmax, one channel per class)"),
  });
}

export type InferConfig = StageConfig<ReturnType<typeof inferSchema>>;

export const InferDef = defineStage({
  name: "infer",
  description:
    "predict label maps: deterministic preprocessing, sliding-window prediction, argmax, inverted onto each input's grid",
  outputs: ["predictions"],
  schema: inferSchema,
  // prediction (readers, writers, replicas) loads on first run: validate and list never load it
  run: async (c, rt) => (await import("./infer-run.js")).runInfer(c, rt),
});
