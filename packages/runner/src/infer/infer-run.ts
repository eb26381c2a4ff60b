import { mkdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import {
  Codes,
  type Dataset,
  entryWithout,
  type Inferer,
  isPlainObject,
  type Model,
  type Sample,
  type StageRuntime,
  type Transform,
  VoxelpipeError,
} from "@voxelpipe/core";
import { applyCheckpoint } from "@voxelpipe/models";
import { applyChain, invertSpatial, writeNifti } from "@voxelpipe/transforms";
import { chainMismatch, expectedGeometry, geometryWarnings, trainedGeometry } from "../data/geometry.js";
import { allowMissingKeys, datasetRecords, inputRecords } from "../data/records.js";
import { niftiStem } from "../evaluate/pairing.js";
import { Progress } from "../run/progress.js";
import { ModelReplicas } from "../train/replicas/pool.js";
import type { InferConfig } from "./infer-stage.js";
import { imageOf, labelVolumeAsync, predictLogits, probabilityVolumeAsync } from "./predict.js";

/**
 * The infer stage's run: the model with its checkpoint, the deterministic part of the chain, the records;
 * then each case predicted, inverted onto its input's grid and written. Loaded on first run (infer-stage.ts).
 */
export async function runInfer(c: InferConfig, rt: StageRuntime): Promise<void> {
  const model = await loadModel(c, rt);
  const { inferer, chain, geometry } = await inferChain(c, rt);
  const records = await inferRecords(c, rt);
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
      await predictCase(
        { c, rt, model, inferer, chain, geometry, replicas, outDir, failed },
        record,
        i,
        records.length,
      );
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

/** the model, its weights from the checkpoint (every parameter must be there) */
async function loadModel(c: InferConfig, rt: StageRuntime): Promise<Model> {
  // the weights come from the checkpoint: the entry's own `init` (e.g. an SSL transfer) is not needed here
  const entry = rt.deref(c.model);
  const model = await rt.buildEntry<Model>(
    "model",
    c.checkpoint && isPlainObject(entry) ? entryWithout(entry, "init") : entry,
    "model",
  );
  if (c.checkpoint) {
    await applyCheckpoint(model, { from: c.checkpoint, format: c.checkpoint_format }, rt.logger, {
      baseDir: rt.baseDir,
      formatOption: "checkpoint_format:",
    });
  }
  return model;
}

/** the inferer, the deterministic transforms before the first random one, and the grid the model expects */
async function inferChain(c: InferConfig, rt: StageRuntime) {
  const inferer = c.inferer ? await rt.build<Inferer>("inferer", "inferer") : undefined;
  const entries = allowMissingKeys(c.transforms) as unknown[];
  const built = await Promise.all(entries.map((e, i) => rt.buildEntry<Transform>("transform", e, `transforms.${i}`)));
  const firstRandom = built.findIndex((t) => t.random);
  const chain = firstRandom < 0 ? built : built.slice(0, firstRandom);
  if (firstRandom >= 0)
    rt.logger.info(`using the ${chain.length} deterministic transforms before the first random one`);
  // the grid the model was trained on: from its checkpoint when it records it, else the infer chain
  const fromChain = expectedGeometry(entries.slice(0, chain.length), rt.deref);
  const trained = c.checkpoint ? trainedGeometry(resolve(rt.baseDir, c.checkpoint)) : undefined;
  if (trained) for (const w of chainMismatch(trained, fromChain)) rt.logger.warn(w);
  const geometry = trained ?? fromChain;

  return { inferer, chain, geometry };
}

/** the cases: an input path (file, folder or datalist) or a dataset split */
async function inferRecords(c: InferConfig, rt: StageRuntime): Promise<Sample[]> {
  if (c.input) return inputRecords(resolve(rt.baseDir, c.input), c.split, c.image_key);
  if (c.data) return datasetRecords(await rt.build<Dataset>("dataset", "data"), c.split);
  // not a schema rule: a pipeline's infer stage may be a template that `voxelpipe infer --input` completes
  throw new VoxelpipeError({
    code: Codes.missingArgument,
    message: `infer stage "${rt.name}" has no \`input\` or \`data\``,
    hint: `add one at ${rt.where("")}, or run it with \`voxelpipe infer --input <path>\``,
  });
}

interface CaseContext {
  c: InferConfig;
  rt: StageRuntime;
  model: Model;
  inferer: Inferer | undefined;
  chain: Transform[];
  geometry: ReturnType<typeof expectedGeometry>;
  replicas: ModelReplicas | undefined;
  outDir: string;
  /** the names of the cases that failed, appended to */
  failed: string[];
}

/** one case: predict, invert, write; a failure is logged and recorded, never thrown (the others still run) */
async function predictCase(
  { c, rt, model, inferer, chain, geometry, replicas, outDir, failed }: CaseContext,
  record: Sample,
  i: number,
  total: number,
): Promise<void> {
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
        `[${i + 1}/${total}] ${basename(src)} → ${file} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
      rt.log({ case: name, file: basename(file) });
    } finally {
      logits.dispose();
    }
  } catch (e) {
    // one failing case is reported; the others still run
    failed.push(name);
    rt.logger.error(`[${i + 1}/${total}] ${src}: ${(e as Error).message}`);
    rt.log({ case: name, error: (e as Error).message.split("\n")[0] });
  }
}
