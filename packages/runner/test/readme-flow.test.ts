import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readNifti } from "@voxelpipe/transforms";
import { describe, expect, it } from "vitest";
import { cli, tmp } from "./helpers.js";

describe("the README's medical-image quickstart", () => {
  it("voxelpipe synth --cases 8 --size 64, then the preprocess pipeline, writes what the model would see", async () => {
    const dir = tmp();
    const synth = await cli(["synth", "--out", join(dir, "synth"), "--cases", "8", "--size", "64"]);
    expect(synth.code, synth.stderr).toBe(0);
    expect(synth.stdout).toMatch(/wrote 8 cases to .*synth/);
    const datalist = JSON.parse(readFileSync(join(dir, "synth", "dataset.json"), "utf8"));
    expect(datalist.training).toHaveLength(6);
    expect(datalist.validation).toHaveLength(2);
    expect(datalist.labels["6"]).toBe("liver");

    const run = await cli([
      "run",
      "pipelines/preprocess-synth.yaml",
      "--set",
      `vars.datalist=${join(dir, "synth", "dataset.json")}`,
      "--runs-dir",
      join(dir, "runs"),
      "--backend",
      "cpu",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const root = join(dir, "runs", "preprocess-synth", "preprocess");
    const out = JSON.parse(readFileSync(join(root, readdirSync(root)[0], "outputs.json"), "utf8"));
    const files = readdirSync(out.dir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".nii.gz"));
    expect(files.filter((f) => f.includes("_image"))).toHaveLength(6);
    const image = await readNifti(join(out.dir, files.find((f) => f.includes("case_0000_image"))!));
    const label = await readNifti(join(out.dir, files.find((f) => f.includes("case_0000_label"))!));
    // 4 mm voxels, the window mapped to [0, 1], labels still the 14 classes on the same grid
    expect([...image.affine].filter((_, i) => i % 5 === 0).slice(0, 3)).toEqual([4, 4, 4]);
    const values = Array.from(image.data);
    expect(values.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(values.some((v) => v > 0.4)).toBe(true);
    expect(label.shape).toEqual(image.shape);
    expect(new Set(label.data).size).toBeGreaterThan(10);
    expect(existsSync(join(dir, "synth", "imagesTr", "case_0000.nii.gz"))).toBe(true);
  });
});
