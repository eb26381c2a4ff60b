import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ComponentContext,
  createMemoryLogger,
  type Dataset,
  isVoxelpipeError,
  RandomState,
  type VoxelpipeError,
} from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { DatalistDef, ImageFolderDef } from "../src/builtins/datasets.js";
import { tmp } from "./helpers.js";

function ctx(baseDir: string): ComponentContext {
  return {
    logger: createMemoryLogger(),
    path: "stages.fit.data",
    seed: 0,
    rng: () => new RandomState(0),
    backend: "cpu",
    baseDir,
    build: () => Promise.reject(new Error("no nested components here")),
  };
}

const touch = (f: string) => {
  mkdirSync(join(f, ".."), { recursive: true });
  writeFileSync(f, "");
};

describe("Datalist dataset", () => {
  it("resolves the datalist against the pipeline folder and its paths against the datalist folder or base_dir", async () => {
    const dir = tmp();
    touch(join(dir, "lists", "imagesTr", "a.nii.gz"));
    touch(join(dir, "lists", "labelsTr", "a.nii.gz"));
    touch(join(dir, "elsewhere", "imagesTr", "a.nii.gz"));
    touch(join(dir, "elsewhere", "labelsTr", "a.nii.gz"));
    writeFileSync(
      join(dir, "lists", "d.json"),
      JSON.stringify({
        numTraining: 1,
        training: [{ image: "imagesTr/a.nii.gz", label: "labelsTr/a.nii.gz", weight: 2 }],
        validation: [],
      }),
    );
    const ds: Dataset = await DatalistDef.create(DatalistDef.args.parse({ datalist: "lists/d.json" }), ctx(dir));
    expect(ds.splits()).toEqual(["training", "validation"]);
    expect(ds.size("training")).toBe(1);
    expect(ds.size("validation")).toBe(0);
    expect(await ds.get("training", 0)).toEqual({
      image: join(dir, "lists", "imagesTr", "a.nii.gz"),
      label: join(dir, "lists", "labelsTr", "a.nii.gz"),
      weight: 2,
    });
    // records are copies: a transform changing one cannot change the dataset
    (await ds.get("training", 0)).image = "changed";
    expect((await ds.get("training", 0)).image).toBe(join(dir, "lists", "imagesTr", "a.nii.gz"));

    const other: Dataset = await DatalistDef.create(
      DatalistDef.args.parse({ datalist: "lists/d.json", base_dir: "elsewhere" }),
      ctx(dir),
    );
    expect((await other.get("training", 0)).image).toBe(join(dir, "elsewhere", "imagesTr", "a.nii.gz"));

    const err = (() => {
      try {
        ds.size("test");
      } catch (e) {
        return e;
      }
    })();
    expect(isVoxelpipeError(err) && err.diagnostics[0]).toMatchObject({
      message: expect.stringContaining('has no split "test"'),
      expected: "one of: training, validation",
    });
  });

  it("check_files reports every missing file in one error; check_files: false defers to loading", async () => {
    const dir = tmp();
    touch(join(dir, "img", "a.nii.gz"));
    writeFileSync(
      join(dir, "d.json"),
      JSON.stringify({
        training: [
          { image: "img/a.nii.gz", label: "lab/a.nii.gz" },
          { image: "img/b.nii.gz", label: "lab/b.nii.gz" },
        ],
      }),
    );
    const err = (await Promise.resolve(
      DatalistDef.create(DatalistDef.args.parse({ datalist: "d.json" }), ctx(dir)),
    ).catch((e) => e)) as VoxelpipeError;
    expect(isVoxelpipeError(err)).toBe(true);
    expect(err.diagnostics[0].message).toContain("3 of 4 files listed under image, label are missing");
    expect(err.diagnostics.slice(1).map((d) => d.path)).toEqual([
      "training[0].label",
      "training[1].image",
      "training[1].label",
    ]);
    const ds: Dataset = await DatalistDef.create(
      DatalistDef.args.parse({ datalist: "d.json", check_files: false }),
      ctx(dir),
    );
    expect(ds.size("training")).toBe(2);
  });
});

describe("ImageFolder dataset", () => {
  it("pairs images with labels by name (sorted) and makes the last val_count cases the validation split", async () => {
    const dir = tmp();
    for (const c of ["c3", "c1", "c2", "c0"]) {
      touch(join(dir, "data", "imagesTr", `${c}_0000.nii.gz`));
      touch(join(dir, "data", "labelsTr", `${c}.nii.gz`));
    }
    const ds: Dataset = await ImageFolderDef.create(
      ImageFolderDef.args.parse({
        images: "imagesTr/*.nii.gz",
        labels: "labelsTr/*.nii.gz",
        base_dir: "data",
        val_count: 1,
      }),
      ctx(dir),
    );
    expect(ds.splits()).toEqual(["training", "validation"]);
    const names = (split: string) =>
      Array.from({ length: ds.size(split) }, (_, i) => ds.get(split, i) as Record<string, string>).map((r) => [
        r.image.slice(dir.length),
        r.label.slice(dir.length),
      ]);
    expect(names("training")).toEqual(
      ["c0", "c1", "c2"].map((c) => [`/data/imagesTr/${c}_0000.nii.gz`, `/data/labelsTr/${c}.nii.gz`]),
    );
    expect(names("validation")).toEqual([["/data/imagesTr/c3_0000.nii.gz", "/data/labelsTr/c3.nii.gz"]]);

    const images: Dataset = await ImageFolderDef.create(
      ImageFolderDef.args.parse({ images: "data/imagesTr/*.nii.gz" }),
      ctx(dir),
    );
    expect(images.splits()).toEqual(["training"]);
    expect(images.size("training")).toBe(4);
    expect(Object.keys(await images.get("training", 0))).toEqual(["image"]);

    const bad = (await Promise.resolve(
      ImageFolderDef.create(ImageFolderDef.args.parse({ images: "data/imagesTr/*.nii.gz", val_count: 4 }), ctx(dir)),
    ).catch((e) => e)) as VoxelpipeError;
    expect(bad.diagnostics[0]).toMatchObject({ path: "stages.fit.data.val_count", expected: "0 ≤ val_count < 4" });
  });
});
