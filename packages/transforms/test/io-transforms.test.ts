import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import {
  Codes,
  type ComponentContext,
  createMemoryLogger,
  isVoxelpipeError,
  RandomState,
  type Sample,
  type Transform,
  type Volume,
} from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { caseName, ioComponents, LoadImageDef, SaveImageDef, saveImagePath } from "../src/io/load-save.js";
import { readNiftiSync } from "../src/io/nifti-read.js";
import { writeNiftiSync } from "../src/io/nifti-write.js";
import { OrientationDef } from "../src/transforms/orientation.js";
import { diag, makeVolume, tmpDir } from "./nifti-helpers.js";

function ctx(baseDir: string): ComponentContext {
  return {
    logger: createMemoryLogger(),
    path: "stages.test.transforms[0]",
    seed: 0,
    rng: () => new RandomState(0),
    backend: "cpu",
    baseDir,
    build: async () => {
      throw new Error("not used");
    },
  };
}

async function make<T extends typeof LoadImageDef | typeof SaveImageDef | typeof OrientationDef>(
  def: T,
  args: unknown,
  baseDir: string,
): Promise<Transform> {
  return (await def.create(def.args.parse(args) as never, ctx(baseDir))) as Transform;
}

const rng = new RandomState(0);
const apply = (t: Transform, s: Sample) => t.apply(s, rng) as Sample;

describe("LoadImage", () => {
  const dir = tmpDir("vp-load-");
  const image = makeVolume([5, 4, 3], 1, Int16Array, (i, j, k) => i * 100 + j * 10 + k - 500, diag(1.5, 1.5, 2));
  const label = makeVolume([5, 4, 3], 1, Uint8Array, (i, j, k) => (i + j + k) % 3, diag(1.5, 1.5, 2));
  writeNiftiSync(join(dir, "imgs", "case1.nii.gz"), image);
  writeNiftiSync(join(dir, "labs", "case1.nii.gz"), label);

  it("replaces relative (against baseDir) and absolute paths by volumes; float32 for images, keep for labels", async () => {
    const loadImg = await make(LoadImageDef, { keys: ["image"] }, dir);
    const loadLab = await make(LoadImageDef, { keys: ["label"], dtype: "keep" }, dir);
    expect(loadImg.random).toBe(false);
    const s = apply(
      loadLab,
      apply(loadImg, { image: "imgs/case1.nii.gz", label: join(dir, "labs", "case1.nii.gz"), id: 7 }),
    );
    const img = s.image as Volume;
    const lab = s.label as Volume;
    expect(img.data).toBeInstanceOf(Float32Array);
    expect(Array.from(img.data)).toEqual(Array.from(image.data));
    expect(img.meta.source).toBe(join(dir, "imgs", "case1.nii.gz"));
    expect(img.meta.originalDtype).toBe("int16");
    expect(Array.from(img.affine)).toEqual(Array.from(image.affine));
    expect(lab.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(lab.data)).toEqual(Array.from(label.data));
    expect(s.id).toBe(7);
  });

  it("passes already-loaded volumes through (only the dtype policy applies)", async () => {
    const t = await make(LoadImageDef, { keys: ["image"] }, dir);
    const out = apply(t, { image: label }).image as Volume;
    expect(out.data).toBeInstanceOf(Float32Array);
    expect(Array.from(out.data)).toEqual(Array.from(label.data));
  });

  it("missing keys fail unless allow_missing_keys; bad values and missing files get clear errors", async () => {
    const strict = await make(LoadImageDef, { keys: ["image", "label"] }, dir);
    expect(() => apply(strict, { image: "imgs/case1.nii.gz" })).toThrow(/LoadImage: key "label" is not in the sample/);
    const lenient = await make(LoadImageDef, { keys: ["image", "label"], allow_missing_keys: true }, dir);
    expect(Object.keys(apply(lenient, { image: "imgs/case1.nii.gz" }))).toEqual(["image"]);
    try {
      apply(strict, { image: "imgs/nope.nii.gz", label: "x" });
      expect.unreachable();
    } catch (e) {
      expect(isVoxelpipeError(e) && e.code).toBe(Codes.fileNotFound);
      expect((e as Error).message).toContain(join(dir, "imgs", "nope.nii.gz"));
    }
    expect(() => apply(strict, { image: 3, label: "x" })).toThrow(/key "image" holds number, not a file path/);
    expect(() => LoadImageDef.args.parse({ keys: ["image"], dtype: "int8" })).toThrow();
    expect(() => LoadImageDef.args.parse({ keys: ["image"], typo: 1 })).toThrow();
  });

  it('null is missing, for LoadImage and every dict transform alike (a datalist\'s `"label": null`)', async () => {
    const strict = await make(LoadImageDef, { keys: ["image", "label"] }, dir);
    expect(() => apply(strict, { image: "imgs/case1.nii.gz", label: null })).toThrow(/LoadImage: key "label" is null/);
    const lenient = await make(LoadImageDef, { keys: ["image", "label"], allow_missing_keys: true }, dir);
    const loaded = apply(lenient, { image: "imgs/case1.nii.gz", label: null });
    expect(loaded.label).toBeNull();
    // the next transform in the chain skips it the same way (it once failed with "does not hold an image volume")
    const orientation = await make(OrientationDef, { keys: ["image", "label"], allow_missing_keys: true }, dir);
    expect((apply(orientation, loaded).image as Volume).meta.applied?.[0]?.op).toBe("Orientation");
    const strictOrientation = await make(OrientationDef, { keys: ["image", "label"] }, dir);
    expect(() => apply(strictOrientation, loaded)).toThrow(/Orientation: key "label" is null/);
  });
});

describe("SaveImage", () => {
  it("names files like MONAI: <output_dir>/<case>/<case>_<postfix>.nii.gz, relative to baseDir", async () => {
    const dir = tmpDir("vp-save-");
    const vol = makeVolume([4, 3, 2], 1, Float32Array, (i, j, k) => i + j / 4 + k / 8, diag(0.75, 0.75, 3, [1, 2, 3]));
    vol.meta.source = "/data/imagesTs/img0035.nii.gz";
    const save = await make(SaveImageDef, { keys: ["pred"], output_dir: "out" }, dir);
    const sample = { pred: vol, other: 1 };
    expect(apply(save, sample)).toBe(sample);
    const path = join(dir, "out", "img0035", "img0035_trans.nii.gz");
    const back = readNiftiSync(path);
    expect(back.data).toBeInstanceOf(Float32Array);
    expect(Array.from(back.data)).toEqual(Array.from(vol.data));
    expect(Array.from(back.affine)).toEqual(Array.from(vol.affine));

    const flat = await make(
      SaveImageDef,
      {
        keys: ["pred"],
        output_dir: join(dir, "flat"),
        output_postfix: "seg",
        output_ext: ".nii",
        dtype: "uint8",
        separate_folder: false,
      },
      "/nonexistent",
    );
    const labels = { ...vol, data: Float32Array.from(vol.data, (v) => Math.round(v * 2)) };
    apply(flat, { pred: labels });
    const u8 = readNiftiSync(join(dir, "flat", "img0035_seg.nii"));
    expect(u8.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(u8.data)).toEqual(Array.from(labels.data));
    // no temp files left behind
    expect(readdirSync(join(dir, "flat"))).toEqual(["img0035_seg.nii"]);
  });

  it("numbers volumes without a source file and rejects non-volumes", async () => {
    const dir = tmpDir("vp-save2-");
    const save = await make(SaveImageDef, { keys: ["pred"], output_dir: ".", output_postfix: "" }, dir);
    const v = makeVolume([2, 2, 2], 1, Float32Array, () => 1);
    apply(save, { pred: v });
    apply(save, { pred: v });
    expect(existsSync(join(dir, "pred_0", "pred_0.nii.gz"))).toBe(true);
    expect(existsSync(join(dir, "pred_1", "pred_1.nii.gz"))).toBe(true);
    expect(() => apply(save, { pred: "x.nii" })).toThrow(/SaveImage: key "pred" does not hold an image volume/);
  });

  it("caseName / saveImagePath", () => {
    const v = makeVolume([1, 1, 1], 1, Uint8Array, () => 0);
    expect(caseName(v)).toBeUndefined();
    v.meta.source = "/a/b/spleen_12.nii";
    expect(caseName(v)).toBe("spleen_12");
    v.meta.source = "/a/b/x.mha";
    expect(caseName(v)).toBe("x");
    expect(relative("/o", saveImagePath("/o", "c", { postfix: "p", ext: ".nii.gz", separateFolder: true }))).toBe(
      "c/c_p.nii.gz",
    );
  });

  it("ioComponents registers LoadImage and SaveImage as transforms", () => {
    expect(ioComponents.map((c) => [c.kind, c.name])).toEqual([
      ["transform", "LoadImage"],
      ["transform", "SaveImage"],
    ]);
  });
});
