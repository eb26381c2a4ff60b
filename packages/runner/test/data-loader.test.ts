import "@tensorflow/tfjs-backend-cpu";
import {
  type Dataset,
  isVoxelpipeError,
  RngStreams,
  type Sample,
  type Transform,
  tf,
  type Volume,
} from "@voxelpipe/core";
import { applyChain } from "@voxelpipe/transforms";
import { beforeAll, describe, expect, it } from "vitest";
import type { ChainSource } from "../src/data/chain-source.js";
import { DataLoader, loadBatches } from "../src/data/loader.js";
import { cachedCount, loaderSchema } from "../src/data/loader-config.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const EYE = Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);

function vol(n: number, fill: (i: number) => number): Volume {
  return {
    data: Float32Array.from({ length: n * n * n }, (_, i) => fill(i)),
    shape: [n, n, n],
    channels: 1,
    affine: EYE.slice(),
    meta: {},
  };
}

/** n records { image: path, value: i } as a Dataset */
function pathDataset(n: number): Dataset {
  return {
    splits: () => ["training"],
    size: () => n,
    get: (_s, i) => ({ image: `/data/case${i}.nii.gz`, value: i }),
  };
}

/** A chain whose transforms count their calls: det → det → random fan-out ×2 → det (after the random one). */
function countingChain() {
  const calls = { load: 0, scale: 0, crop: 0, post: 0 };
  const seenByCrop: number[] = [];
  const chain: Transform[] = [
    {
      random: false,
      apply: (s) => {
        calls.load++;
        return { ...s, image: vol(4, (i) => (s.value as number) * 100 + i) };
      },
    },
    {
      random: false,
      apply: (s) => {
        calls.scale++;
        const v = s.image as Volume;
        return { ...s, image: { ...v, data: v.data.map((x) => x * 2) } };
      },
    },
    {
      random: true,
      apply: (s, rng) => {
        calls.crop++;
        const v = s.image as Volume;
        seenByCrop.push(v.data[0]);
        v.data[0] += 1000; // modifies its input in place: the cache must hand out copies
        return [0, 1].map((k) => ({ ...s, k, r: rng.rand(), image: { ...v, data: v.data.map((x) => x + k) } }));
      },
    },
    {
      random: false,
      apply: (s) => {
        calls.post++;
        return { ...s, post: true };
      },
    },
  ];
  return { chain, calls, seenByCrop };
}

async function drain(loader: DataLoader, epoch: number, order?: number[]) {
  const out: { index: number; samples: Sample[] }[] = [];
  for await (const it of loader.items(epoch, order)) out.push(it);
  return out;
}

describe("loader config", () => {
  it("cached count = min(cache_num, floor(n·cache_rate), n) (MONAI CacheDataset)", () => {
    expect(cachedCount(6, { cache_num: 3, cache_rate: 0.4 })).toBe(2); // the spec's worked example
    expect(cachedCount(6, { cache_rate: 1 })).toBe(6);
    expect(cachedCount(6, { cache_num: 10, cache_rate: 1 })).toBe(6);
    expect(cachedCount(5, { cache_rate: 0.5 })).toBe(2);
    expect(cachedCount(6, { cache_num: 0, cache_rate: 1 })).toBe(0);
    expect(cachedCount(6, { cache_rate: 0 })).toBe(0);
  });

  it("defaults and rejects unknown keys", () => {
    expect(loaderSchema.parse({})).toEqual({ cache_rate: 1, num_workers: 0, prefetch: 2 });
    expect(loaderSchema.safeParse({ cache_rte: 1 }).success).toBe(false);
    expect(loaderSchema.safeParse({ cache_rate: 1.5 }).success).toBe(false);
    expect(loaderSchema.safeParse({ prefetch: 0 }).success).toBe(false);
  });
});

describe("DataLoader: CacheDataset semantics", () => {
  it("runs the deterministic prefix once per cached item over 2 epochs; the rest per sample per epoch", async () => {
    const { chain, calls } = countingChain();
    const rng = new RngStreams(5);
    // 6 items, cache_num 3 and rate 0.4 → the first 2 are cached
    const loader = new DataLoader({
      dataset: pathDataset(6),
      split: "training",
      chain,
      rng,
      config: { cache_num: 3, cache_rate: 0.4 },
    });
    expect(loader.cached).toBe(2);
    expect(loader.prefixEnd).toBe(2);
    await drain(loader, 0, [5, 4, 3, 2, 1, 0]);
    await drain(loader, 1, [0, 1, 2, 3, 4, 5]);
    // cached: 2 items × 1; un-cached: 4 items × 2 epochs
    expect(calls.load).toBe(2 + 4 * 2);
    expect(calls.scale).toBe(2 + 4 * 2);
    expect(calls.crop).toBe(6 * 2); // random: every item, every epoch
    expect(calls.post).toBe(6 * 2 * 2); // after the fan-out: per sample (2) per item per epoch
    expect(loader.stats.prefixRuns).toBe(10);
  });

  it("gives every epoch a deep copy of the cached item (in-place changes do not leak into the cache)", async () => {
    const { chain, seenByCrop } = countingChain();
    const loader = new DataLoader({ dataset: pathDataset(2), split: "training", chain, rng: new RngStreams(1) });
    expect(loader.cached).toBe(2); // default cache_rate 1
    for (let e = 0; e < 3; e++) await drain(loader, e);
    // item 0: value 0 → data[0] = 0·100+0 = 0, ×2 = 0; item 1: 100 ×2 = 200 — the same in every epoch
    expect(seenByCrop).toEqual([0, 200, 0, 200, 0, 200]);
  });

  it("cached and un-cached loading give the same samples (same streams per transform, epoch, item, sample)", async () => {
    const a = countingChain();
    const b = countingChain();
    const la = new DataLoader({ dataset: pathDataset(4), split: "training", chain: a.chain, rng: new RngStreams(9) });
    const lb = new DataLoader({
      dataset: pathDataset(4),
      split: "training",
      chain: b.chain,
      rng: new RngStreams(9),
      config: { cache_rate: 0 },
    });
    expect(lb.cached).toBe(0);
    const r: unknown[] = [];
    for (let e = 0; e < 2; e++) {
      const [xa, xb] = [await drain(la, e), await drain(lb, e)];
      expect(xa).toEqual(xb);
      r.push(xa[0].samples[0].r);
    }
    expect(r[0]).not.toBe(r[1]); // a new epoch draws anew
    // and they equal applyChain (the old loader's function) item by item
    const c = countingChain();
    const direct = applyChain({ image: "/data/case2.nii.gz", value: 2 }, c.chain, new RngStreams(9), 1, 2);
    expect((await drain(la, 1))[2].samples).toEqual(direct);
    const s0 = direct[0];
    expect(s0.k).toBe(0);
    expect((s0.image as Volume).data[1]).toBe((200 + 1) * 2);
    expect(s0.post).toBe(true);
  });

  it("a chain that starts random caches nothing", async () => {
    let calls = 0;
    const chain: Transform[] = [
      { random: true, apply: (s, rng) => ({ ...s, r: rng.rand() }) },
      {
        random: false,
        apply: (s) => {
          calls++;
          return s;
        },
      },
    ];
    const loader = new DataLoader({ dataset: pathDataset(3), split: "training", chain, rng: new RngStreams(1) });
    expect(loader.cached).toBe(0);
    await drain(loader, 0);
    await drain(loader, 1);
    expect(calls).toBe(6);
    expect(loader.stats.prefixRuns).toBe(0);
  });
});

describe("DataLoader: batches", () => {
  it("collates [B·num_samples, S0, S1, S2, C] with multi-sample crops flattened into the batch", async () => {
    const { chain } = countingChain();
    const rng = new RngStreams(3);
    const loader = new DataLoader({ dataset: pathDataset(6), split: "training", chain, rng });
    const shapes: number[][] = [];
    const firsts: number[][] = [];
    for await (const b of loader.batches({ epoch: 0, batchSize: 4, shuffle: true, keys: ["image", "r"] })) {
      shapes.push(b.image.shape);
      // voxel 1 of each sample: (value·100 + 1)·2 + k, in the shuffled order
      const d = b.image.dataSync();
      firsts.push(Array.from({ length: b.image.shape[0] }, (_, i) => d[i * 64 + 1]));
      expect(b.r.shape).toEqual([b.image.shape[0]]);
      tf.dispose(Object.values(b));
    }
    expect(shapes).toEqual([
      [8, 4, 4, 4, 1],
      [4, 4, 4, 4, 1],
    ]);
    const order = [0, 1, 2, 3, 4, 5];
    rng.stream("shuffle", "training", 0).shuffle(order);
    const expected = order.flatMap((v) => [(v * 100 + 1) * 2, (v * 100 + 1) * 2 + 1]);
    expect(firsts.flat()).toEqual(expected);
  });

  it("loadBatches keeps its old call signature and output", async () => {
    const { chain } = countingChain();
    const rng = new RngStreams(4);
    const got: number[] = [];
    for await (const b of loadBatches(pathDataset(3), "training", chain, {
      batchSize: 2,
      shuffle: false,
      rng,
      epoch: 1,
      keys: ["r"],
    })) {
      got.push(...b.r.dataSync());
      tf.dispose(Object.values(b));
    }
    const want = [0, 1, 2].flatMap((i) =>
      applyChain({ image: `/data/case${i}.nii.gz`, value: i }, countingChain().chain, rng, 1, i).map(
        (s) => s.r as number,
      ),
    );
    expect(got).toEqual(want.map((x) => Math.fround(x)));
  });
});

describe("DataLoader: errors", () => {
  it("a transform failure names the subject, the transform's config path and the sample", async () => {
    const { chain } = countingChain();
    const boom: Transform = {
      random: true,
      apply: (s) => {
        if (s.value === 2) throw new Error("negative spacing");
        return s;
      },
    };
    const source: ChainSource = {
      pipeline: { value: {}, baseDir: "/", seed: 0, stageOutputs: {} },
      stage: "fit",
      list: "transforms.train",
      rngSeed: 1,
      backend: "cpu",
    };
    const loader = new DataLoader({
      dataset: pathDataset(4),
      split: "training",
      chain: [chain[0], chain[1], boom],
      rng: new RngStreams(1),
      source,
      where: (ti) => `pipe.yaml:${10 + ti}:7`,
    });
    const err = await drain(loader, 0).catch((e) => e);
    expect(isVoxelpipeError(err)).toBe(true);
    const d = err.diagnostics[0];
    expect(d.code).toBe("VP210");
    expect(d.message).toBe(
      "stages.fit.transforms.train[2] failed on /data/case2.nii.gz (training[2]): negative spacing",
    );
    expect(d.path).toBe("stages.fit.transforms.train[2]");
    // the sample as it entered the failing transform: loaded (value 2 → 200+i) and doubled
    expect(d.got).toContain("image: Float32Array [4,4,4]×1 range [400, 526]");
    expect(d.got).toContain("value: 2");
    expect(d.hint).toContain("pipe.yaml:12:7");
  });
});
