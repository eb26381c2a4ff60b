import { type Inferer, isVolume, type Model, type Sample, tf, type Volume } from "@voxelpipe/core";
import type { ModelReplicas } from "../train/replicas/pool.js";

/**
 * Whole-volume prediction of one preprocessed sample: [1, S0, S1, S2, C] logits through the inferer;
 * with model replicas, the inferer's windows are predicted on them, several at once.
 */
export async function predictLogits(
  model: Model,
  inferer: Inferer | undefined,
  image: Volume,
  replicas?: ModelReplicas,
): Promise<tf.Tensor> {
  const x = tf.tensor5d(Float32Array.from(image.data), [1, ...image.shape, image.channels]);
  try {
    const predictor = replicas
      ? (b: tf.Tensor) => replicas.predict(b)
      : (b: tf.Tensor) => model.apply(b, { training: false });
    return inferer
      ? await inferer.infer(x, predictor, { concurrency: replicas?.size ?? 1 })
      : tf.tidy(() => model.apply(x, { training: false }));
  } finally {
    x.dispose();
  }
}

/** argmax over classes as a label-map Volume on the preprocessed image's grid (its meta carries the applied ops) */
export function labelVolume(logits: tf.Tensor, like: Volume): Volume {
  const am = tf.argMax(logits, -1);
  const data = Uint8Array.from(am.dataSync());
  am.dispose();
  return {
    data,
    shape: [...like.shape],
    channels: 1,
    affine: Float64Array.from(like.affine),
    meta: { ...like.meta, applied: [...(like.meta.applied ?? [])] },
  };
}

/** softmax probabilities as a float32 Volume with one channel per class */
export function probabilityVolume(logits: tf.Tensor, like: Volume): Volume {
  const p = tf.softmax(logits, -1);
  const data = p.dataSync() as Float32Array;
  p.dispose();
  return {
    data: Float32Array.from(data),
    shape: [...like.shape],
    channels: logits.shape[logits.rank - 1],
    affine: Float64Array.from(like.affine),
    meta: { ...like.meta },
  };
}

export function imageOf(sample: Sample, key: string, where: string): Volume {
  const v = sample[key];
  if (!isVolume(v)) {
    throw new Error(
      `${where}: "${key}" is not an image volume after the transforms (got ${v === undefined ? "nothing" : typeof v}); is there a LoadImage for it?`,
    );
  }
  return v;
}
