/**
 * Whole-volume prediction of one preprocessed image and its argmax: the code the infer stage and the
 * exported web app (packages/web/src/app) share, so a browser's label map is the CLI's. (Moved here
 * from the runner's infer stage, which adds model replicas through `predictor`.)
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Inferer, Model, Volume } from "@voxelpipe/core";

export interface PredictOptions {
  /** predicts one batch of windows; default: the model in this thread */
  predictor?: (batch: tf.Tensor) => tf.Tensor | Promise<tf.Tensor>;
  /** predictor calls in flight at once (replicas); the result does not depend on it */
  concurrency?: number;
}

/** [1, S0, S1, S2, C] logits of a preprocessed image through the inferer (else the whole volume at once) */
export async function predictLogits(
  model: Model,
  inferer: Inferer | undefined,
  image: Volume,
  opts: PredictOptions = {},
): Promise<tf.Tensor> {
  const x = tf.tensor5d(Float32Array.from(image.data), [1, ...image.shape, image.channels]);
  try {
    const predictor = opts.predictor ?? ((b: tf.Tensor) => model.apply(b, { training: false }));
    return inferer
      ? await inferer.infer(x, predictor, { concurrency: opts.concurrency ?? 1 })
      : tf.tidy(() => model.apply(x, { training: false }));
  } finally {
    x.dispose();
  }
}

/** argmax over classes as a label-map Volume on the preprocessed image's grid (its meta carries the applied ops) */
export function labelVolume(logits: tf.Tensor, like: Volume, argmax?: tf.Tensor): Volume {
  const am = argmax ?? tf.argMax(logits, -1);
  const data = Uint8Array.from(am.dataSync());
  if (!argmax) am.dispose();
  return {
    data,
    shape: [...like.shape],
    channels: 1,
    affine: Float64Array.from(like.affine),
    meta: { ...like.meta, applied: [...(like.meta.applied ?? [])] },
  };
}

/** labelVolume with an asynchronous read: webgpu in Node has no synchronous one (dataSync) */
export async function labelVolumeAsync(logits: tf.Tensor, like: Volume): Promise<Volume> {
  const am = tf.argMax(logits, -1);
  await am.data(); // caches the values: labelVolume's synchronous read then takes them
  const v = labelVolume(logits, like, am);
  am.dispose();
  return v;
}

/** probabilityVolume with an asynchronous read (see labelVolumeAsync) */
export async function probabilityVolumeAsync(logits: tf.Tensor, like: Volume): Promise<Volume> {
  const p = tf.softmax(logits, -1);
  await p.data();
  const v = probabilityVolume(logits, like, p);
  p.dispose();
  return v;
}

/** softmax probabilities as a float32 Volume with one channel per class */
export function probabilityVolume(logits: tf.Tensor, like: Volume, softmax?: tf.Tensor): Volume {
  const p = softmax ?? tf.softmax(logits, -1);
  const data = p.dataSync() as Float32Array;
  if (!softmax) p.dispose();
  return {
    data: Float32Array.from(data),
    shape: [...like.shape],
    channels: logits.shape[logits.rank - 1],
    affine: Float64Array.from(like.affine),
    meta: { ...like.meta },
  };
}
