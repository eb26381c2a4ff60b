import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Dataset, isVoxelpipeError, RngStreams, type Sample, type Volume } from "@voxelpipe/core";
import { writeNifti } from "@voxelpipe/transforms";
import { describe, expect, it } from "vitest";
import { builtOrSkip } from "../../../test-utils/gates.js";
import { randomVolume } from "../../../test-utils/random.js";
import { buildChain, type ChainSource } from "../src/data/chain-source.js";
import { DataLoader } from "../src/data/loader.js";
import { workerFile } from "../src/data/pool.js";
import { builtinRegistries } from "../src/registries.js";
import { tmp } from "./helpers.js";

// workers run the built dist/data/worker.js (npm run build); CI builds before testing, so there a missing one fails
const built = builtOrSkip(workerFile());
const CORE = pathToFileURL(fileURLToPath(new URL("../../core/dist/index.js", import.meta.url))).href;

const vol = randomVolume;

function memoryDataset(n: number, size = 16): Dataset {
  const items = Array.from({ length: n }, (_, i) => ({ image: vol(size, i), id: `case${i}` }));
  return { splits: () => ["training"], size: () => n, get: (_s, i) => items[i] };
}

/** a third-party transform, loaded by path in every worker (`plugins:`), drawing from its stream */
function writePlugin(dir: string): void {
  writeFileSync(
    join(dir, "jitter-plugin.mjs"),
    `import { definePlugin, defineTransform, z } from ${JSON.stringify(CORE)};
export default definePlugin({
  meta: { name: "jitter", version: "0.0.1", namespace: "test" },
  components: [defineTransform({
    name: "Jitter",
    args: z.object({ keys: z.array(z.string()) }),
    create: (a) => ({
      random: true,
      apply(s, rng) {
        const out = { ...s };
        for (const k of a.keys) { const v = s[k]; const d = v.data.slice(); const o = rng.uniform(-1, 1); for (let i = 0; i < d.length; i++) d[i] += o; out[k] = { ...v, data: d }; }
        return out;
      },
    }),
  })],
});
`,
  );
}

function source(dir: string, chain: unknown[], extra: Record<string, unknown> = {}): ChainSource {
  return {
    pipeline: {
      value: { stages: { s: { transforms: { train: chain } } }, ...extra },
      baseDir: dir,
      seed: 11,
      stageOutputs: {},
    },
    stage: "s",
    list: "transforms.train",
    rngSeed: new RngStreams(11).child("stage", "s").seed,
    backend: "cpu",
  };
}

/** the SSL chain of the MONAI tutorial, small, plus a plugin transform */
const SSL = [
  { type: "ScaleIntensityRange", keys: ["image"], a_min: 0, a_max: 100, b_min: 0, b_max: 1, clip: true },
  { type: "RandSpatialCropSamples", keys: ["image"], roi_size: 8, num_samples: 2 },
  { type: "CopyItems", keys: ["image"], times: 2, names: ["gt_image", "image_2"] },
  {
    type: "OneOf",
    transforms: [
      { type: "RandCoarseDropout", keys: ["image"], prob: 1, holes: 2, spatial_size: 2, max_spatial_size: 4 },
      {
        type: "RandCoarseDropout",
        keys: ["image"],
        prob: 1,
        holes: 2,
        spatial_size: 3,
        dropout_holes: false,
        max_spatial_size: 6,
      },
    ],
  },
  { type: "RandCoarseShuffle", keys: ["image"], prob: 0.8, holes: 3, spatial_size: 2 },
  { type: "test/Jitter", keys: ["image_2"] },
];

async function collect(loader: DataLoader, epochs: number): Promise<Sample[][]> {
  const out: Sample[][] = [];
  for (let e = 0; e < epochs; e++) {
    const order = [4, 0, 3, 1, 2].filter((i) => i < loader.size);
    for await (const it of loader.items(e, order)) out.push(it.samples);
  }
  return out;
}

describe.skipIf(!built.ok)(built.title("DataLoader with worker threads"), () => {
  it("workers rebuild the chain from config (plugins included) and give the main thread's samples exactly", async () => {
    const dir = tmp();
    writePlugin(dir);
    const src = source(dir, SSL, { plugins: ["./jitter-plugin.mjs"] });
    const chain = await buildChain(src, builtinRegistries());
    const dataset = memoryDataset(5);
    const config = { cache_rate: 0.6 };
    const main = new DataLoader({
      dataset,
      split: "training",
      chain,
      rng: new RngStreams(src.rngSeed),
      config,
      source: src,
    });
    const pooled = new DataLoader({
      dataset,
      split: "training",
      chain,
      rng: new RngStreams(src.rngSeed),
      config: { ...config, num_workers: 2, prefetch: 1 },
      source: src,
    });
    expect(pooled.cached).toBe(3);
    const a = await collect(main, 2);
    const b = await collect(pooled, 2);
    expect(pooled.workers).toBe(2);
    expect(pooled.maxInFlight).toBeLessThanOrEqual(2); // num_workers × prefetch
    await pooled.close();
    expect(pooled.workers).toBe(0);
    expect(b).toEqual(a);
    // the deterministic prefix of the 3 cached items ran once (in the workers), the others every epoch
    expect(pooled.stats.prefixRuns).toBe(3 + 2 * 2);
    // sanity: what the samples are — 2 crops of 8³, views that differ from the clean copy
    expect(a).toHaveLength(10);
    const s = a[0][0];
    expect((s.image as Volume).shape).toEqual([8, 8, 8]);
    expect(Object.keys(s).sort()).toEqual(["gt_image", "id", "image", "image_2"]);
    const [g, v2] = [(s.gt_image as Volume).data, (s.image_2 as Volume).data];
    const off = v2[0] - g[0];
    expect(Math.abs(off)).toBeLessThan(1);
    for (let i = 0; i < g.length; i++) expect(v2[i] - g[i]).toBeCloseTo(off, 5); // Jitter: one offset per call
  });

  it("keeps at most num_workers × prefetch items in flight and delivers them in order", async () => {
    const dir = tmp();
    const src = source(dir, [{ type: "RandCoarseShuffle", keys: ["image"], prob: 1, holes: 4, spatial_size: 2 }]);
    const chain = await buildChain(src, builtinRegistries());
    const loader = new DataLoader({
      dataset: memoryDataset(12, 8),
      split: "training",
      chain,
      rng: new RngStreams(src.rngSeed),
      config: { num_workers: 2, prefetch: 2 },
      source: src,
    });
    const seen: number[] = [];
    for await (const it of loader.items(0)) {
      seen.push(it.index);
      await new Promise((r) => setTimeout(r, 15)); // a slow consumer (the training step)
    }
    await loader.close();
    expect(seen).toEqual([...Array(12).keys()]);
    expect(loader.maxInFlight).toBeLessThanOrEqual(4);
    expect(loader.maxInFlight).toBeGreaterThanOrEqual(3); // it does prefetch
  });

  it("a transform error in a worker names the subject, the config path and the sample; workers stop", async () => {
    const dir = tmp();
    const files = [0, 1].map((i) => join(dir, `img${i}.nii.gz`));
    for (const [i, f] of files.entries()) await writeNifti(f, vol(16, i), { dtype: "float32" });
    const src = source(dir, [
      { type: "LoadImage", keys: ["image"] },
      { type: "RandCoarseShuffle", keys: ["nope"], prob: 1, holes: 1, spatial_size: 2 },
    ]);
    const chain = await buildChain(src, builtinRegistries());
    const dataset: Dataset = { splits: () => ["training"], size: () => 2, get: (_s, i) => ({ image: files[i] }) };
    const loader = new DataLoader({
      dataset,
      split: "training",
      chain,
      rng: new RngStreams(1),
      config: { num_workers: 2, cache_rate: 1 },
      source: src,
      where: (ti) => `p.yaml:${ti + 3}:9`,
    });
    const err = await collect(loader, 1).catch((e) => e);
    expect(isVoxelpipeError(err)).toBe(true);
    const d = err.diagnostics[0];
    expect(d.message).toMatch(/^stages\.s\.transforms\.train\[1\] failed on .*img\d\.nii\.gz \(training\[\d\]\): /);
    expect(d.message).toContain('key "nope" is not in the sample');
    expect(d.path).toBe("stages.s.transforms.train[1]");
    expect(d.got).toMatch(/image: Float32Array \[16,16,16\]×1 range \[-?\d/);
    expect(d.hint).toContain("p.yaml:4:9");
    expect(loader.workers).toBe(0);

    // a missing file fails in the deterministic part, also in a worker
    const missing: Dataset = {
      splits: () => ["training"],
      size: () => 1,
      get: () => ({ image: join(dir, "gone.nii.gz") }),
    };
    const l2 = new DataLoader({
      dataset: missing,
      split: "training",
      chain,
      rng: new RngStreams(1),
      config: { num_workers: 1 },
      source: src,
    });
    const e2 = await collect(l2, 1).catch((e) => e);
    expect(e2.diagnostics[0].message).toMatch(
      /^stages\.s\.transforms\.train\[0\] failed on .*gone\.nii\.gz \(training\[0\]\)/,
    );
    expect(l2.workers).toBe(0);
  });
});
