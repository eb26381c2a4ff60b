import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Volume } from "@voxelpipe/core";
import { readNifti, writeNifti } from "@voxelpipe/transforms";
import { describe, expect, it } from "vitest";
import { workerFile } from "../src/data/pool.js";
import { cli, tmp } from "./helpers.js";

const AFFINE = Float64Array.from([1.5, 0, 0, -10, 0, 1.5, 0, 5, 0, 0, 2, 3, 0, 0, 0, 1]);
const SHAPE: [number, number, number] = [12, 10, 8];
const N = SHAPE[0] * SHAPE[1] * SHAPE[2];

/** case i: image = i·10 + (voxel mod 301) − 150 HU (int16), label = voxel mod 4 (uint8) */
async function writeCases(dir: string, n: number) {
  mkdirSync(join(dir, "data", "imagesTr"), { recursive: true });
  mkdirSync(join(dir, "data", "labelsTr"), { recursive: true });
  const entries = [];
  for (let i = 0; i < n; i++) {
    const image: Volume = {
      data: Int16Array.from({ length: N }, (_, v) => i * 10 + (v % 301) - 150),
      shape: SHAPE,
      channels: 1,
      affine: AFFINE,
      meta: {},
    };
    const label: Volume = {
      data: Uint8Array.from({ length: N }, (_, v) => v % 4),
      shape: SHAPE,
      channels: 1,
      affine: AFFINE,
      meta: {},
    };
    await writeNifti(join(dir, "data", "imagesTr", `case${i}.nii.gz`), image, { dtype: "int16" });
    await writeNifti(join(dir, "data", "labelsTr", `case${i}.nii.gz`), label, { dtype: "uint8" });
    entries.push({ image: `imagesTr/case${i}.nii.gz`, label: `labelsTr/case${i}.nii.gz` });
  }
  writeFileSync(
    join(dir, "data", "dataset.json"),
    JSON.stringify({ training: entries.slice(0, n - 1), validation: entries.slice(n - 1) }),
  );
}

const outputsOf = (runs: string, stage: string) => {
  const root = join(runs, "prep-test", stage);
  const d = join(root, readdirSync(root).sort().at(-1)!);
  return { dir: d, outputs: JSON.parse(readFileSync(join(d, "outputs.json"), "utf8")) };
};

describe("preprocess stage", () => {
  const workers = existsSync(workerFile()) ? 2 : 0; // workers need the built runner (CI builds first)

  it("writes the chain's results with SaveImage and publishes dir/datalist for later stages", async () => {
    const dir = tmp();
    await writeCases(dir, 3);
    writeFileSync(
      join(dir, "pipe.yaml"),
      `version: 1
name: prep-test
seed: 3
stages:
  prep:
    kind: preprocess
    data: { type: Datalist, datalist: data/dataset.json }
    split: [training, validation]
    transforms:
      - { type: LoadImage, keys: [image, label] }
      - { type: ScaleIntensityRange, keys: [image], a_min: -100, a_max: 100, b_min: 0, b_max: 1, clip: true }
    loader: { num_workers: ${workers} }
  again:
    kind: preprocess
    needs: [prep]
    data: { type: ImageFolder, base_dir: "@stages.prep.outputs.dir", images: "*/*_image.nii.gz", val_count: 1 }
    split: [training, validation]
    transforms:
      - { type: LoadImage, keys: [image] }
      - { type: SaveImage, keys: [image], output_dir: out2, output_postfix: again, separate_folder: false }
`,
    );
    const runs = tmp();
    const r = await cli(["run", join(dir, "pipe.yaml"), "--runs-dir", runs, "--backend", "cpu"]);
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);

    const prep = outputsOf(runs, "prep");
    const out = join(prep.dir, "preprocessed");
    expect(prep.outputs).toEqual({ dir: out, datalist: join(prep.dir, "datalist.json") });
    // the implicit SaveImage pair: <dir>/<case>/<case>_image.nii.gz (float32) and _label (int16)
    const lists = JSON.parse(readFileSync(prep.outputs.datalist, "utf8"));
    expect(lists).toEqual({
      training: [0, 1].map((i) => ({
        image: join(out, `case${i}`, `case${i}_image.nii.gz`),
        label: join(out, `case${i}`, `case${i}_label.nii.gz`),
      })),
      validation: [
        { image: join(out, "case2", "case2_image.nii.gz"), label: join(out, "case2", "case2_label.nii.gz") },
      ],
    });
    for (let i = 0; i < 3; i++) {
      const img = await readNifti(join(out, `case${i}`, `case${i}_image.nii.gz`));
      const lab = await readNifti(join(out, `case${i}`, `case${i}_label.nii.gz`));
      expect(img.shape).toEqual(SHAPE);
      expect(img.data).toBeInstanceOf(Float32Array);
      expect(lab.data).toBeInstanceOf(Int16Array);
      expect(Array.from(img.affine)).toEqual(Array.from(AFFINE));
      // ScaleIntensityRange(−100..100 → 0..1, clip) of i·10 + (v mod 301) − 150, value by value
      for (const v of [0, 1, 60, 137, 250, 300, 500, N - 1]) {
        const hu = i * 10 + (v % 301) - 150;
        expect(img.data[v]).toBeCloseTo(Math.min(1, Math.max(0, (hu + 100) / 200)), 6);
        expect(lab.data[v]).toBe(v % 4);
      }
    }

    // the second stage found the first one's files through @stages.prep.outputs.dir
    const again = outputsOf(runs, "again");
    expect(again.outputs.dir).toBe(join(dir, "out2"));
    expect(readdirSync(join(dir, "out2")).sort()).toEqual([0, 1, 2].map((i) => `case${i}_image_again.nii.gz`));
    const lists2 = JSON.parse(readFileSync(again.outputs.datalist, "utf8"));
    expect(lists2.training).toHaveLength(2);
    expect(lists2.validation).toEqual([{ image: join(dir, "out2", "case2_image_again.nii.gz") }]);
  });

  it("reports every missing datalist file at once, before processing anything", async () => {
    const dir = tmp();
    await writeCases(dir, 2);
    const dl = JSON.parse(readFileSync(join(dir, "data", "dataset.json"), "utf8"));
    dl.training.push({ image: "imagesTr/nope1.nii.gz", label: "labelsTr/nope1.nii.gz" });
    writeFileSync(join(dir, "data", "dataset.json"), JSON.stringify(dl));
    writeFileSync(
      join(dir, "pipe.yaml"),
      `version: 1
name: prep-test
stages:
  prep:
    kind: preprocess
    data: { type: Datalist, datalist: data/dataset.json }
    transforms: [{ type: LoadImage, keys: [image] }]
`,
    );
    const runs = tmp();
    const r = await cli(["run", join(dir, "pipe.yaml"), "--runs-dir", runs, "--backend", "cpu"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("2 of 6 files listed under image, label are missing");
    expect(r.stderr).toContain("training[1].image");
    expect(r.stderr).toContain("training[1].label");
    // found before the stage starts (run/preflight.ts), in the datalist: no run directory is made
    expect(r.stderr).toMatch(/dataset\.json:\d+:\d+: training\[1\]\.image: file not found/);
    expect(existsSync(join(runs, "prep-test", "prep"))).toBe(false);
  });
});
