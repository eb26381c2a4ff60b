import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RngStreams, type Volume } from "@voxelpipe/core";
import { writeNifti } from "@voxelpipe/transforms";
import { describe, expect, it } from "vitest";
import { builtOrSkip } from "../../../test-utils/gates.js";
import { workerFile } from "../src/data/pool.js";
import { cli, tmp } from "./helpers.js";

const SHAPE: [number, number, number] = [20, 18, 17];
const AFFINE = Float64Array.from([2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]);

async function writeDataset(dir: string, n: number): Promise<void> {
  mkdirSync(join(dir, "data"), { recursive: true });
  const entries = [];
  for (let i = 0; i < n; i++) {
    const r = new RngStreams(i).stream("ct");
    const image: Volume = {
      data: Int16Array.from({ length: SHAPE[0] * SHAPE[1] * SHAPE[2] }, () => Math.round(r.uniform(-200, 200))),
      shape: SHAPE,
      channels: 1,
      affine: AFFINE,
      meta: {},
    };
    await writeNifti(join(dir, "data", `ct${i}.nii.gz`), image, { dtype: "int16" });
    entries.push({ image: `ct${i}.nii.gz` });
  }
  writeFileSync(
    join(dir, "data", "list.json"),
    JSON.stringify({ training: entries.slice(0, n - 1), validation: entries.slice(n - 1) }),
  );
}

const SSL_CHAIN = `
        - { type: LoadImage, keys: [image] }
        - { type: ScaleIntensityRange, keys: [image], a_min: -150, a_max: 150, b_min: 0, b_max: 1, clip: true }
        - { type: RandSpatialCropSamples, keys: [image], roi_size: 16, num_samples: 2 }
        - { type: CopyItems, keys: [image], times: 1, names: [gt_image] }
        - { type: RandCoarseShuffle, keys: [image], prob: 0.8, holes: 3, spatial_size: 2 }`;

// worker threads run the built dist/data/worker.js
const built = builtOrSkip(workerFile());

describe.skipIf(!built.ok)(built.title("train stage with a loader block"), () => {
  it("caching and worker threads leave the training run byte-identical", async () => {
    const dir = tmp();
    await writeDataset(dir, 4);
    writeFileSync(
      join(dir, "ssl.yaml"),
      `version: 1
name: ssl-tiny
seed: 5
stages:
  fit:
    kind: train
    data: { type: Datalist, datalist: data/list.json }
    transforms:
      train: ${SSL_CHAIN}
      val: ${SSL_CHAIN}
    model: { type: ViTAutoEnc, in_channels: 1, img_size: 16, patch_size: 16, hidden_size: 8, mlp_dim: 8, num_layers: 1, num_heads: 2, deconv_chns: 2 }
    step:
      pred: { call: model, in: image }
      loss: { call: { type: L1Loss }, in: [pred, gt_image] }
    optimizer: { type: Adam, lr: 1.0e-3 }
    epochs: 2
    batch_size: 2
    validate: { every: 1 }
    loader: { num_workers: 0, cache_rate: 0 }
`,
    );
    const runs = tmp();
    const metrics = () => {
      const root = join(runs, "ssl-tiny", "fit");
      const last = readdirSync(root).sort().at(-1)!;
      return readFileSync(join(root, last, "metrics.jsonl"), "utf8");
    };
    const base = ["run", join(dir, "ssl.yaml"), "--runs-dir", runs, "--backend", "cpu"];
    const a = await cli(base);
    expect(a.stderr).not.toMatch(/error/i);
    expect(a.code).toBe(0);
    const plain = metrics();
    const b = await cli([
      ...base,
      "--set",
      "stages.fit.loader.num_workers=2",
      "--set",
      "stages.fit.loader.cache_rate=0.5",
    ]);
    expect(b.code).toBe(0);
    expect(b.stderr).toContain("training: caching 1 of 3 items after the first 2 (deterministic) transforms");
    const pooled = metrics();
    const steps = plain
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(steps.filter((s) => "loss" in s)).toHaveLength(4); // 2 epochs × ceil(3 / 2)
    expect(steps.filter((s) => "val_loss" in s)).toHaveLength(2);
    expect(pooled).toBe(plain);
  });
});
