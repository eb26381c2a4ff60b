import type { Dataset, RngStreams, Sample, Transform, tf } from "@voxelpipe/core";
import { collate } from "./collate.js";

export interface LoaderOptions {
  batchSize: number;
  shuffle: boolean;
  rng: RngStreams;
  epoch: number;
  /** batch keys to turn into tensors */
  keys?: readonly string[];
}

/** run a transform chain on one item; multi-sample transforms fan out and later ones run per sample */
export function applyChain(
  sample: Sample,
  chain: readonly Transform[],
  rng: RngStreams,
  epoch: number,
  index: number,
): Sample[] {
  let items: Sample[] = [sample];
  chain.forEach((t, ti) => {
    const next: Sample[] = [];
    items.forEach((s, si) => {
      const r = t.apply(s, rng.stream("transform", ti, "epoch", epoch, "item", index, "sample", si));
      if (Array.isArray(r)) next.push(...r);
      else next.push(r);
    });
    items = next;
  });
  return items;
}

/**
 * Items of a split in (shuffled) order through the transform chain, collated into batches of
 * `batchSize` items (multi-sample crops flattened into the batch, as MONAI's list collate).
 */
export async function* loadBatches(
  dataset: Dataset,
  split: string,
  chain: readonly Transform[],
  o: LoaderOptions,
): AsyncGenerator<Record<string, tf.Tensor>> {
  const n = dataset.size(split);
  const order = Array.from({ length: n }, (_, i) => i);
  if (o.shuffle) o.rng.stream("shuffle", split, o.epoch).shuffle(order);
  for (let b = 0; b < n; b += o.batchSize) {
    const samples: Sample[] = [];
    for (const i of order.slice(b, b + o.batchSize)) {
      samples.push(...applyChain(await dataset.get(split, i), chain, o.rng, o.epoch, i));
    }
    yield collate(samples, o.keys);
  }
}
