/**
 * In-browser segmentation with the code `voxelpipe infer` runs: the transforms are built from the
 * manifest through the same registries and ComponentResolver, the chain runs through the same
 * `applyChain`, prediction and argmax are @voxelpipe/models' `predictLogits` / `labelVolume`, and
 * `invertSpatial` puts the label map back on the input's grid. Nothing here is DOM-specific, so the
 * Node tests can run it too.
 */
import {
  Codes,
  createLogger,
  decodeSafetensors,
  type Inferer,
  isVolume,
  type Logger,
  type Model,
  RngStreams,
  runContainer,
  Services,
  stageContainer,
  type Transform,
  type Volume,
  VoxelpipeError,
} from "@voxelpipe/core";
import { assignVariable, labelVolumeAsync, predictLogits, SlidingWindow, slidingWindowGrid } from "@voxelpipe/models";
import { applyChain, invertSpatial } from "@voxelpipe/transforms";
import type { Manifest } from "../export/manifest.js";
import { webRegistries } from "../export/registries.js";

export interface SegmentResult {
  /** uint8 label map on the input's grid and affine */
  labels: Volume;
  /** voxels per class value (index = label value) */
  counts: number[];
  /** wall time of the parts, in seconds */
  seconds: { preprocess: number; predict: number; invert: number };
}

/** `done` of `total` windows predicted (total 0 when the inferer does not say) */
export type Progress = (done: number, total: number) => void;

const now = () => performance.now() / 1000;

export class Segmenter {
  private constructor(
    readonly manifest: Manifest,
    private readonly model: Model,
    private readonly chain: Transform[],
    private readonly inferer: Inferer | undefined,
  ) {}

  /** build the model and preprocessing of a manifest on the active tfjs backend, and load the weights */
  static async create(
    manifest: Manifest,
    weights: Uint8Array,
    opts: { backend: string; logger?: Logger },
  ): Promise<Segmenter> {
    const logger = opts.logger ?? createLogger({ write: (_l, line) => console.info(line) });
    const root = { model: manifest.model, transforms: manifest.transforms, inferer: manifest.inferer };
    // the run and stage containers the executor makes, holding the manifest as the config
    const run = runContainer({
      registries: webRegistries(),
      logger,
      seed: manifest.seed,
      backend: opts.backend,
      config: { root, baseDir: "/" },
    });
    const resolver = stageContainer(run).get(Services.components);
    const model = await resolver.build<Model>("model", ["model"]);
    try {
      loadWeights(model, weights, manifest.weights.file);
      const chain = await Promise.all(
        manifest.transforms.map((_, i) => resolver.build<Transform>("transform", ["transforms", i])),
      );
      const random = chain.findIndex((t) => t.random);
      if (random >= 0) {
        throw new VoxelpipeError({
          code: Codes.webManifest,
          message: `manifest.json: transforms.${random} (${manifest.transforms[random].type}) is random`,
          expected: "only the deterministic preprocessing prefix",
          hint: "re-export the site with `voxelpipe export web`",
        });
      }
      const inferer = manifest.inferer ? await resolver.build<Inferer>("inferer", ["inferer"]) : undefined;
      return new Segmenter(manifest, model, chain, inferer);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /** windows the sliding-window inferer runs for a preprocessed image (0 when unknown): its own grid */
  private windows(image: Volume): number {
    return this.inferer instanceof SlidingWindow
      ? slidingWindowGrid(image.shape, this.inferer.options).windows.length
      : 0;
  }

  /** segment one image (a decoded NIfTI as `parseNifti` returns it) */
  async segment(input: Volume, onProgress?: Progress): Promise<SegmentResult> {
    const m = this.manifest;
    const t0 = now();
    // the infer stage's chain call: stream ("stage", name) of the run seed, epoch 0, item 0
    const rng = new RngStreams(m.seed).child("stage", m.stage);
    const [sample] = applyChain({ [m.image_key]: input }, this.chain, rng, 0, 0);
    const image = sample?.[m.image_key];
    if (!isVolume(image)) {
      throw new VoxelpipeError({
        code: Codes.webManifest,
        message: `"${m.image_key}" is not an image volume after the transforms`,
        hint: "re-export the site with `voxelpipe export web`",
      });
    }
    const t1 = now();
    const total = this.windows(image);
    let done = 0;
    onProgress?.(0, total);
    const predictor = (b: import("@voxelpipe/core").tf.Tensor) => {
      const out = this.model.apply(b, { training: false });
      done += b.shape[0];
      onProgress?.(Math.min(done, total || done), total);
      return out;
    };
    const logits = await predictLogits(this.model, this.inferer, image, { predictor });
    const t2 = now();
    let labels: Volume;
    try {
      // an asynchronous read: a synchronous one on webgpu goes through a canvas and came back wrong in Chromium
      labels = invertSpatial(await labelVolumeAsync(logits, image), this.chain, { mode: "nearest" });
    } finally {
      logits.dispose();
    }
    const counts = new Array<number>(m.classes.length).fill(0);
    for (const v of labels.data) counts[v] = (counts[v] ?? 0) + 1;
    return { labels, counts, seconds: { preprocess: t1 - t0, predict: t2 - t1, invert: now() - t2 } };
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** assign every parameter from the site's weights file, shapes checked first (VP297) */
function loadWeights(model: Model, bytes: Uint8Array, file: string): void {
  let tensors: ReturnType<typeof decodeSafetensors>["tensors"];
  try {
    tensors = decodeSafetensors(bytes, file).tensors;
  } catch (e) {
    throw new VoxelpipeError({
      code: Codes.webManifest,
      message: `${file} is not a readable safetensors file: ${(e as Error).message.split("\n")[0]}`,
      hint: "the download was cut or the file is damaged: reload the page, or re-export the site",
    });
  }
  const problems: string[] = [];
  for (const [k, v] of model.params) {
    const t = tensors.get(k);
    if (!t) problems.push(`${k} is missing`);
    else if (t.shape.length !== v.shape.length || t.shape.some((s, i) => s !== v.shape[i]))
      problems.push(`${k} has shape [${t.shape.join(", ")}], the model's is [${v.shape.join(", ")}]`);
  }
  if (problems.length) {
    throw new VoxelpipeError({
      code: Codes.webManifest,
      message: `${file} does not fit the model of manifest.json: ${problems.slice(0, 3).join("; ")}${problems.length > 3 ? `; … (${problems.length} in all)` : ""}`,
      hint: "manifest.json and the weights come from different exports: re-export the site",
    });
  }
  for (const [k, v] of model.params) assignVariable(v, tensors.get(k)!);
}
