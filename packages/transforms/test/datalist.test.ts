import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Codes, isVoxelpipeError, type VoxelpipeError } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import {
  checkDatalistFiles,
  fileStem,
  globDatalist,
  jsonValuePositions,
  loadDecathlonDatalist,
  readDecathlonDatalist,
} from "../src/io/datalist.js";
import { tmpDir } from "./nifti-helpers.js";

function touch(...paths: string[]): void {
  for (const p of paths) {
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, "");
  }
}

async function caught(p: Promise<unknown>): Promise<VoxelpipeError> {
  try {
    await p;
  } catch (e) {
    if (isVoxelpipeError(e)) return e;
    throw e;
  }
  throw new Error("expected a VoxelpipeError");
}

describe("loadDecathlonDatalist", () => {
  const dir = tmpDir("vp-dl-");
  touch(join(dir, "extra", "spacing.json"));
  const file = join(dir, "dataset_0.json");
  writeFileSync(
    file,
    JSON.stringify({
      name: "BTCV",
      numTraining: 2,
      training: [
        {
          image: "imagesTr/img0001.nii.gz",
          label: "labelsTr/label0001.nii.gz",
          meta: "extra/spacing.json",
          note: "not/a/file",
          weight: 2,
        },
        { image: "/abs/img0002.nii.gz", label: "labelsTr/label0002.nii.gz", channels: ["a.nii", "b.nii"] },
      ],
      validation: [{ image: "imagesTr/img0035.nii.gz", label: "labelsTr/label0035.nii.gz" }],
      test: ["imagesTs/img0061.nii.gz", "imagesTs/img0062.nii.gz"],
    }),
  );

  it("readDecathlonDatalist: the same lists and, in the same read, the labels map as names (none when absent or not a map)", async () => {
    const withLabels = join(dir, "dataset_labels.json");
    writeFileSync(
      withLabels,
      JSON.stringify({
        labels: { 0: "background", 1: "spleen", 6: 6 },
        training: [{ image: "a.nii", label: "b.nii" }],
      }),
    );
    const d = await readDecathlonDatalist(withLabels);
    expect(d.labels).toEqual({ 0: "background", 1: "spleen", 6: "6" });
    expect(d.lists).toEqual(await loadDecathlonDatalist(withLabels));
    expect(Object.keys(d.lists)).toEqual(["training"]);
    expect((await readDecathlonDatalist(file)).labels).toBeUndefined();
    const listLabels = join(dir, "dataset_list_labels.json");
    writeFileSync(listLabels, JSON.stringify({ labels: ["bg", "spleen"], training: [] }));
    // a list is not a value → name map (and, being an array, it is a split like any other list)
    expect((await readDecathlonDatalist(listLabels)).labels).toBeUndefined();
  });

  it("returns every list with image/label paths absolute against the datalist's folder (MONAI rules)", async () => {
    const dl = await loadDecathlonDatalist(file);
    expect(Object.keys(dl)).toEqual(["training", "validation", "test"]);
    expect(dl.training[0]).toEqual({
      image: join(dir, "imagesTr/img0001.nii.gz"),
      label: join(dir, "labelsTr/label0001.nii.gz"),
      meta: join(dir, "extra/spacing.json"), // other keys: made absolute only if the file exists
      note: "not/a/file",
      weight: 2,
    });
    expect(dl.training[1].image).toBe("/abs/img0002.nii.gz");
    expect(dl.training[1].channels).toEqual(["a.nii", "b.nii"]);
    expect(dl.validation).toEqual([
      { image: join(dir, "imagesTr/img0035.nii.gz"), label: join(dir, "labelsTr/label0035.nii.gz") },
    ]);
    // plain strings in "test" become {image}
    expect(dl.test).toEqual([
      { image: join(dir, "imagesTs/img0061.nii.gz") },
      { image: join(dir, "imagesTs/img0062.nii.gz") },
    ]);
  });

  it("selects one split and honours baseDir", async () => {
    const dl = await loadDecathlonDatalist(file, { split: "validation", baseDir: "/data/btcv" });
    expect(dl).toEqual({
      validation: [{ image: "/data/btcv/imagesTr/img0035.nii.gz", label: "/data/btcv/labelsTr/label0035.nii.gz" }],
    });
    const e = await caught(loadDecathlonDatalist(file, { split: "train" }));
    expect(e.code).toBe(Codes.fileInvalid);
    expect(e.message).toContain(`no list "train"`);
    expect(e.diagnostics[0].expected).toBe("one of: training, validation, test");
  });

  it("malformed JSON names the file and the line:column of the error", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, '{\n  "training": [\n    {"image": "a.nii.gz",}\n  ]\n}\n');
    const e = await caught(loadDecathlonDatalist(bad));
    expect(e.code).toBe(Codes.fileInvalid);
    expect(e.message).toContain(`${bad}:3:`);
    expect(e.message).toContain("invalid JSON");
    expect(e.diagnostics[0].loc).toMatchObject({ file: bad, line: 3 });
  });

  it("wrong shapes and missing files are clear errors", async () => {
    const arr = join(dir, "arr.json");
    writeFileSync(arr, "[1, 2]");
    expect((await caught(loadDecathlonDatalist(arr))).message).toContain("top level");
    const nested = join(dir, "nested.json");
    writeFileSync(nested, JSON.stringify({ training: [{ image: "a.nii", label: { x: 1 } }, 5] }));
    const e = await caught(loadDecathlonDatalist(nested));
    expect(e.message).toContain("training[0].label");
    const missing = await caught(loadDecathlonDatalist(join(dir, "nope.json")));
    expect(missing.code).toBe(Codes.fileNotFound);
    expect(missing.message).toContain("datalist file not found");
  });
});

describe("globDatalist", () => {
  it("pairs images and labels by file name stem, sorted; nnU-Net _0000 images match plain labels", async () => {
    const dir = tmpDir("vp-glob-");
    touch(
      join(dir, "imagesTr", "spleen_2.nii.gz"),
      join(dir, "imagesTr", "spleen_10.nii.gz"),
      join(dir, "labelsTr", "spleen_10.nii.gz"),
      join(dir, "labelsTr", "spleen_2.nii.gz"),
      join(dir, "nn", "images", "case_7_0000.nii.gz"),
      join(dir, "nn", "labels", "case_7.nii.gz"),
    );
    const recs = await globDatalist({ images: "imagesTr/*.nii.gz", labels: "labelsTr/*.nii.gz", baseDir: dir });
    expect(recs).toEqual([
      { image: join(dir, "imagesTr", "spleen_10.nii.gz"), label: join(dir, "labelsTr", "spleen_10.nii.gz") },
      { image: join(dir, "imagesTr", "spleen_2.nii.gz"), label: join(dir, "labelsTr", "spleen_2.nii.gz") },
    ]);
    expect(await globDatalist({ images: "imagesTr/*.nii.gz", baseDir: dir })).toHaveLength(2);
    expect(await globDatalist({ images: "nn/images/*", labels: "nn/labels/*", baseDir: dir })).toEqual([
      { image: join(dir, "nn", "images", "case_7_0000.nii.gz"), label: join(dir, "nn", "labels", "case_7.nii.gz") },
    ]);
    expect(fileStem("/x/a.b.nii.gz")).toBe("a.b");
  });

  it("reports every unpaired file at once, and patterns that match nothing", async () => {
    const dir = tmpDir("vp-glob2-");
    touch(
      join(dir, "img", "a.nii.gz"),
      join(dir, "img", "b.nii.gz"),
      join(dir, "lab", "a.nii.gz"),
      join(dir, "lab", "z.nii.gz"),
    );
    const e = await caught(globDatalist({ images: "img/*", labels: "lab/*", baseDir: dir }));
    expect(e.code).toBe(Codes.data);
    expect(e.diagnostics).toHaveLength(2);
    expect(e.message).toContain(`image ${join(dir, "img", "b.nii.gz")} has no label`);
    expect(e.message).toContain(`label ${join(dir, "lab", "z.nii.gz")} has no image`);
    const none = await caught(globDatalist({ images: "nothing/*.nii.gz", baseDir: dir }));
    expect(none.message).toContain('images pattern "nothing/*.nii.gz" matched no files');
  });
});

describe("checkDatalistFiles", () => {
  it("passes when everything exists, and lists EVERY missing file in one error with split, index and key", async () => {
    const dir = tmpDir("vp-check-");
    touch(join(dir, "i1.nii.gz"), join(dir, "l1.nii.gz"), join(dir, "i3.nii.gz"));
    mkdirSync(join(dir, "folder.nii.gz"));
    const ok = { training: [{ image: join(dir, "i1.nii.gz"), label: join(dir, "l1.nii.gz") }] };
    await expect(checkDatalistFiles(ok, ["image", "label"], "dl.json")).resolves.toBeUndefined();

    const records = {
      training: [
        { image: join(dir, "i1.nii.gz"), label: join(dir, "l1.nii.gz") },
        { image: join(dir, "i2.nii.gz"), label: join(dir, "l2.nii.gz") },
        { image: join(dir, "i3.nii.gz"), label: join(dir, "folder.nii.gz"), note: "ignored key" },
      ],
      validation: [{ image: join(dir, "v1.nii.gz"), channels: [join(dir, "i1.nii.gz"), join(dir, "c2.nii")] }],
    };
    const e = await caught(checkDatalistFiles(records, ["image", "label", "channels"], "dl.json"));
    expect(e.code).toBe(Codes.data);
    expect(e.diagnostics[0].message).toBe("dl.json: 5 of 9 files listed under image, label, channels are missing:");
    expect(e.diagnostics.slice(1).map((d) => d.path)).toEqual([
      "training[1].image",
      "training[1].label",
      "training[2].label",
      "validation[0].image",
      "validation[0].channels[1]",
    ]);
    expect(e.message).toContain(`dl.json: training[1].image: file not found: ${join(dir, "i2.nii.gz")}`);
    expect(e.message).toContain(`training[2].label: not a regular file: ${join(dir, "folder.nii.gz")}`);
    expect(e.diagnostics.every((d) => d.code === Codes.data)).toBe(true);
  });

  it("a missing file of a datalist is reported at its file:line:col in the datalist", async () => {
    const dir = tmpDir("vp-dl-pos-");
    writeFileSync(join(dir, "a.nii.gz"), "");
    const file = join(dir, "dataset.json");
    writeFileSync(
      file,
      '{\n  "training": [\n    {"image": "a.nii.gz", "label": "a.nii.gz"},\n    { "image": "b\\u0041.nii.gz",\n      "label": ["a.nii.gz", "gone.nii.gz"] }\n  ]\n}\n',
    );
    const e = await caught(checkDatalistFiles(await loadDecathlonDatalist(file), ["image", "label"], file));
    expect(e.diagnostics.slice(1).map((d) => [d.path, d.loc?.line, d.loc?.col])).toEqual([
      ["training[1].image", 4, 16],
      ["training[1].label[1]", 5, 29],
    ]);
    expect(e.message).toContain(`${file}:4:16: training[1].image: file not found: ${join(dir, "bA.nii.gz")}`);
    expect(jsonValuePositions('{"a": [1, {"b": null}], "c": {}}').get("a[1].b")).toEqual({ line: 1, col: 17 });
  });
});
