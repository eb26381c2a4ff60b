import { type Inferer, isVolume, type Model, type Sample, type tf, type Volume } from "@voxelpipe/core";
import { predictLogits as predictOn } from "@voxelpipe/models";
import type { ModelReplicas } from "../train/replicas/pool.js";

// prediction and argmax live in @voxelpipe/models (the exported web app runs them too)
export { labelVolume, labelVolumeAsync, probabilityVolume, probabilityVolumeAsync } from "@voxelpipe/models";

/**
 * Whole-volume prediction of one preprocessed sample: [1, S0, S1, S2, C] logits through the inferer;
 * with model replicas, the inferer's windows are predicted on them, several at once.
 */
export function predictLogits(
  model: Model,
  inferer: Inferer | undefined,
  image: Volume,
  replicas?: ModelReplicas,
): Promise<tf.Tensor> {
  return predictOn(
    model,
    inferer,
    image,
    replicas ? { predictor: (b) => replicas.predict(b), concurrency: replicas.size } : {},
  );
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
