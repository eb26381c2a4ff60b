import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isVoxelpipeError } from "@voxelpipe/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDecathlonDatalist, type NiftiHeaderMeta, readNifti } from "../src/io/index.js";
import { generateCase, synthValidationCount, writeSynthDataset } from "../src/synth/index.js";

const OPTS = { cases: 3, size: 32, seed: 11, testCases: 1 };

describe("writeSynthDataset", () => {
  let dirA: string;
  let dirB: string;
  const progress: [number, number][] = [];
  let result: Awaited<ReturnType<typeof writeSynthDataset>>;

  beforeAll(async () => {
    dirA = await mkdtemp(join(tmpdir(), "vp-synth-a-"));
    dirB = await mkdtemp(join(tmpdir(), "vp-synth-b-"));
    result = await writeSynthDataset(dirA, OPTS, (i, n) => progress.push([i, n]));
    await writeSynthDataset(dirB, OPTS);
  });
  afterAll(async () => {
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  });

  it("writes a Decathlon datalist with relative paths, BTCV label names and a validation split", () => {
    expect(result.datalist).toBe(join(dirA, "dataset.json"));
    expect(result.cases).toEqual(["case_0000", "case_0001", "case_0002", "case_0003"]);
    expect(progress).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
    const doc = JSON.parse(readFileSync(result.datalist, "utf8"));
    expect(doc.training).toEqual([
      { image: "imagesTr/case_0000.nii.gz", label: "labelsTr/case_0000.nii.gz" },
      { image: "imagesTr/case_0001.nii.gz", label: "labelsTr/case_0001.nii.gz" },
    ]);
    expect(doc.validation).toEqual([{ image: "imagesTr/case_0002.nii.gz", label: "labelsTr/case_0002.nii.gz" }]);
    expect(doc.test).toEqual([{ image: "imagesTs/case_0003.nii.gz", label: "labelsTs/case_0003.nii.gz" }]);
    expect(doc.labels["0"]).toBe("background");
    expect(doc.labels["11"]).toBe("pancreas");
    expect(Object.keys(doc.labels)).toHaveLength(14);
    expect(doc.numTraining).toBe(3);
    expect(doc.modality).toEqual({ "0": "CT" });
    expect(readdirSync(join(dirA, "imagesTr")).sort()).toEqual([
      "case_0000.nii.gz",
      "case_0001.nii.gz",
      "case_0002.nii.gz",
    ]);
  });

  it("reads back through the io package with the generator's values, dtypes and affine", async () => {
    const lists = await loadDecathlonDatalist(result.datalist);
    expect(lists.training).toHaveLength(2);
    expect(String(lists.validation[0].image)).toBe(join(dirA, "imagesTr/case_0002.nii.gz"));
    for (const [i, rec] of [...lists.training, ...lists.validation, ...lists.test].entries()) {
      const want = generateCase(i, OPTS);
      const image = await readNifti(String(rec.image));
      const label = await readNifti(String(rec.label));
      expect(image.shape).toEqual([32, 32, 32]);
      expect(label.shape).toEqual([32, 32, 32]);
      // NIfTI datatype codes: 4 = int16 (HU), 2 = uint8 (labels)
      expect((image.meta.nifti as NiftiHeaderMeta).datatype).toBe(4);
      expect((label.meta.nifti as NiftiHeaderMeta).datatype).toBe(2);
      expect(Array.from(image.data)).toEqual(Array.from(want.image.data));
      expect(Array.from(label.data)).toEqual(Array.from(want.label.data));
      for (let e = 0; e < 16; e++) expect(image.affine[e]).toBeCloseTo(want.image.affine[e], 4);
      expect(Array.from(label.affine)).toEqual(Array.from(image.affine));
    }
  });

  it("is byte-identical for the same options", () => {
    for (const f of [
      "dataset.json",
      "imagesTr/case_0001.nii.gz",
      "labelsTr/case_0001.nii.gz",
      "imagesTs/case_0003.nii.gz",
    ]) {
      expect(readFileSync(join(dirA, f)).equals(readFileSync(join(dirB, f))), f).toBe(true);
    }
  });

  it("splits validation as round(cases·fraction), keeping at least one case on each side", () => {
    expect(synthValidationCount(8, 0.2)).toBe(2);
    expect(synthValidationCount(3, 0.2)).toBe(1);
    expect(synthValidationCount(1, 0.2)).toBe(0);
    expect(synthValidationCount(2, 0.9)).toBe(1);
    expect(synthValidationCount(10, 0)).toBe(0);
  });

  it("rejects bad counts before writing anything", async () => {
    for (const bad of [{ cases: 0 }, { cases: 2, testCases: -1 }, { cases: 2, valFraction: 1 }]) {
      const err = await writeSynthDataset(join(dirA, "never"), { size: 32, seed: 0, ...bad }).catch((e) => e);
      expect(isVoxelpipeError(err), JSON.stringify(bad)).toBe(true);
      expect(err.code).toBe("VP111");
    }
    expect(readdirSync(dirA)).not.toContain("never");
  });
});
