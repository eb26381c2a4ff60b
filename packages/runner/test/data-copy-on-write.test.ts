import { type Dataset, isVolume, RngStreams, type Sample, type Transform, type Volume } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { randomVolume } from "../../../test-utils/random.js";
import { buildChain, type ChainSource } from "../src/data/chain-source.js";
import { DataLoader } from "../src/data/loader.js";
import { builtinRegistries } from "../src/registries.js";

const vol = randomVolume;

const cutout = (key: string) => ({
  type: "OneOf",
  transforms: [
    {
      type: "RandCoarseDropout",
      keys: [key],
      prob: 1,
      holes: 4,
      spatial_size: 2,
      dropout_holes: true,
      max_spatial_size: 5,
    },
    {
      type: "RandCoarseDropout",
      keys: [key],
      prob: 1,
      holes: 4,
      spatial_size: 3,
      dropout_holes: false,
      max_spatial_size: 7,
    },
  ],
});
const CHAIN = [
  { type: "ScaleIntensityRange", keys: ["image"], a_min: -20, a_max: 120, b_min: 0, b_max: 1, clip: true },
  { type: "RandSpatialCropSamples", keys: ["image"], roi_size: 8, num_samples: 2 },
  { type: "CopyItems", keys: ["image"], times: 2, names: ["gt_image", "image_2"] },
  cutout("image"),
  { type: "RandCoarseShuffle", keys: ["image"], prob: 0.8, holes: 6, spatial_size: 3 },
  cutout("image_2"),
  { type: "RandCoarseShuffle", keys: ["image_2"], prob: 0.8, holes: 6, spatial_size: 3 },
];

function source(): ChainSource {
  return {
    pipeline: { value: { stages: { s: { transforms: CHAIN } } }, baseDir: process.cwd(), seed: 0, stageOutputs: {} },
    stage: "s",
    list: "transforms",
    rngSeed: 7,
    backend: "cpu",
  } as unknown as ChainSource;
}

/** a third-party transform (not known to keep its inputs): the loader deep-copies the cache for it */
const passThrough: Transform = { random: false, apply: (s) => s };

async function run(chain: Transform[], data: Dataset, epochs: number) {
  const loader = new DataLoader({
    dataset: data,
    split: "training",
    chain,
    rng: new RngStreams(7),
    config: { cache_rate: 1, num_workers: 0 },
  });
  const out: Sample[][] = [];
  for (let e = 0; e < epochs; e++) for await (const { samples } of loader.items(e)) out.push(samples);
  return { loader, out };
}

const buffers = (samples: Sample[]) =>
  samples.flatMap((s) =>
    Object.values(s)
      .filter(isVolume)
      .map((v) => v.data.buffer),
  );

describe("loader: the random rest reads the cache without a deep copy and never writes it", () => {
  it("✔ the cached prefix and the dataset's arrays stay unchanged; outputs equal the deep-copy path; no array is shared", async () => {
    const items = Array.from({ length: 3 }, (_, i) => ({ image: vol(14, i) }));
    const originals = items.map((it) => Array.from(it.image.data));
    const data: Dataset = { splits: () => ["training"], size: () => items.length, get: (_s, i) => items[i] };
    const chain = await buildChain(source(), builtinRegistries());
    const fast = await run(chain, data, 3);
    expect(fast.loader.readsCache).toBe(true);
    const slow = await run([...chain, passThrough], data, 3);
    expect(slow.loader.readsCache).toBe(false);

    items.forEach((it, i) => {
      expect(Array.from(it.image.data)).toEqual(originals[i]);
    });
    // the cache after three epochs still holds the deterministic prefix (recomputed here)
    const memory = (fast.loader as unknown as { memory: Map<number, Sample[]> }).memory;
    const cacheBuffers = new Set<ArrayBufferLike>();
    for (let i = 0; i < items.length; i++) {
      const cached = memory.get(i)![0].image as Volume;
      cacheBuffers.add(cached.data.buffer);
      const expected = chain[0].apply({ image: vol(14, i) }, new RngStreams(0).stream("x")) as Sample;
      expect(Array.from(cached.data)).toEqual(Array.from((expected.image as Volume).data));
    }
    expect(fast.out.length).toBe(9);
    fast.out.forEach((samples, j) => {
      expect(samples).toHaveLength(2);
      samples.forEach((s, si) => {
        for (const k of ["image", "gt_image", "image_2"]) {
          expect(Array.from((s[k] as Volume).data)).toEqual(Array.from((slow.out[j][si][k] as Volume).data));
        }
      });
      // every array handed out is the consumer's own: not the cache's, not another key's or sample's
      const bufs = buffers(samples);
      expect(new Set(bufs).size).toBe(bufs.length);
      for (const b of bufs) expect(cacheBuffers.has(b)).toBe(false);
    });
  });
});
