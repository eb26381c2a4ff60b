import { mkdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import {
  Codes,
  type Dataset,
  defineStage,
  entryWithout,
  type Inferer,
  isPlainObject,
  type Model,
  type Sample,
  type Slots,
  type StageConfig,
  type StageRuntime,
  type Transform,
  VoxelpipeError,
  z,
} from "@voxelpipe/core";
import { applyInit } from "@voxelpipe/models";
import { invertSpatial, writeNifti } from "@voxelpipe/transforms";
import { applyChain } from "../data/chain.js";
import { chainMismatch, expectedGeometry, geometryWarnings, trainedGeometry } from "../data/geometry.js";
import { allowMissingKeys, datasetRecords, inputRecords } from "../data/records.js";
import { niftiStem } from "../evaluate/pairing.js";
import { Progress } from "../run/progress.js";
import { ModelReplicas } from "../train/replicas/pool.js";
import { imageOf, labelVolumeAsync, predictLogits, probabilityVolumeAsync } from "./predict.js";

/** The `infer` stage's configuration: `run` receives this schema's output. */
function inferSchema(s: Slots) {
  return z.object({
    model: s.component("model"),
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
    image_key: z.string().default("image"),
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
  run: infer,
});

async function infer(c: InferConfig, rt: StageRuntime): Promise<void> {
  // the weights come from the checkpoint: the entry's own `init` (e.g. an SSL transfer) is not needed here
  const entry = rt.deref(c.model);
  const model = await rt.buildEntry<Model>(
    c.checkpoint && isPlainObject(entry) ? entryWithout(entry, "init") : entry,
    "model",
    "model",
  );
  if (c.checkpoint) {
    const r = await applyInit(model, { from: c.checkpoint, format: c.checkpoint_format }, rt.logger, {
      baseDir: rt.baseDir,
    });
    if (r.missing.length) {
      throw new VoxelpipeError({
        code: Codes.invalidValue,
        message: `checkpoint ${c.checkpoint} lacks ${r.missing.length} of the model's parameters (${r.missing.slice(0, 3).join(", ")}${r.missing.length > 3 ? ", ..." : ""})`,
        hint: "is it a checkpoint of this model with these arguments? (a MONAI state dict needs checkpoint_format: monai)",
      });
    }
  }
  const inferer = c.inferer ? await rt.build<Inferer>("inferer", "inferer") : undefined;
  const entries = allowMissingKeys(c.transforms) as unknown[];
  const built = await Promise.all(entries.map((e, i) => rt.buildEntry<Transform>(e, "transform", `transforms.${i}`)));
  const firstRandom = built.findIndex((t) => t.random);
  const chain = firstRandom < 0 ? built : built.slice(0, firstRandom);
  if (firstRandom >= 0)
    rt.logger.info(`using the ${chain.length} deterministic transforms before the first random one`);
  // the grid the model was trained on: from its checkpoint when it records it, else the infer chain
  const fromChain = expectedGeometry(entries.slice(0, chain.length), rt.deref);
  const trained = c.checkpoint ? trainedGeometry(resolve(rt.baseDir, c.checkpoint)) : undefined;
  if (trained) for (const w of chainMismatch(trained, fromChain)) rt.logger.warn(w);
  const geometry = trained ?? fromChain;

  let records: Sample[];
  if (c.input) records = await inputRecords(resolve(rt.baseDir, c.input), c.split, c.image_key);
  else if (c.data) records = await datasetRecords(await rt.build<Dataset>("data", "dataset"), c.split);
  else {
    // not a schema rule: a pipeline's infer stage may be a template that `voxelpipe infer --input` completes
    throw new VoxelpipeError({
      code: Codes.missingArgument,
      message: `infer stage "${rt.name}" has no \`input\` or \`data\``,
      hint: `add one at ${rt.where("")}, or run it with \`voxelpipe infer --input <path>\``,
    });
  }

  const outDir = c.output_dir ? resolve(rt.baseDir, c.output_dir) : join(rt.artifacts.dir, "predictions");
  mkdirSync(outDir, { recursive: true });
  const failed: string[] = [];
  // sliding windows spread over model replicas on the other cores
  const replicas =
    inferer && rt.threads > 1
      ? await ModelReplicas.start({
          model,
          count: Math.min(rt.threads, 8),
          source: {
            pipeline: rt.pipeline,
            stage: rt.name,
            backend: rt.backend,
            backendThreads: 1,
            checkpointing: false,
          },
          logger: rt.logger,
          oomHint: `lower the inferer's sw_batch_size or use fewer threads (--threads) (${rt.where("inferer")})`,
        })
      : undefined;
  const progress = new Progress(rt.logger, records.length, { unit: "case", fields: ["case"] });
  try {
    for (const [i, record] of records.entries()) {
      const src = String(record[c.image_key]);
      const name = niftiStem(src);
      const started = Date.now();
      try {
        const [sample] = applyChain(record, chain, rt.rng, 0, i);
        const image = imageOf(sample, c.image_key, name);
        for (const w of geometryWarnings(name, image, geometry)) rt.logger.warn(w);
        const logits = await predictLogits(model, inferer, image, replicas);
        try {
          // each spatial op the chain recorded is undone by the transform that made it
          const labels = invertSpatial(await labelVolumeAsync(logits, image), chain, { mode: "nearest" });
          const file = join(outDir, `${name}_${c.output_postfix}.nii.gz`);
          await writeNifti(file, { ...labels, meta: { ...labels.meta, source: file } }, { dtype: "uint8" });
          if (c.save_probabilities) {
            const probs = invertSpatial(await probabilityVolumeAsync(logits, image), chain, { mode: "bilinear" });
            await writeNifti(join(outDir, `${name}_prob.nii.gz`), probs, { dtype: "float32" });
          }
          rt.logger.info(
            `[${i + 1}/${records.length}] ${basename(src)} → ${file} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
          );
          rt.log({ case: name, file: basename(file) });
        } finally {
          logits.dispose();
        }
      } catch (e) {
        // one failing case is reported; the others still run
        failed.push(name);
        rt.logger.error(`[${i + 1}/${records.length}] ${src}: ${(e as Error).message}`);
        rt.log({ case: name, error: (e as Error).message.split("\n")[0] });
      }
      progress.tick({ case: name });
    }
  } finally {
    await replicas?.close();
  }
  progress.done();
  rt.artifacts.publish("predictions", outDir);
  rt.logger.info(`${records.length - failed.length} of ${records.length} cases written to ${outDir}`);
  if (failed.length) {
    throw new VoxelpipeError({
      code: Codes.data,
      message: `${failed.length} of ${records.length} cases failed: ${failed.join(", ")} (the others were written to ${outDir})`,
      hint: "the error of each case is printed above",
    });
  }
}
