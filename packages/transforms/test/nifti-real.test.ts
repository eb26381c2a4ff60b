/** The real TotalSegmentator CT and label files of ../shared/data/totalseg (see its README). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { sharedOrSkip, sharedPath } from "../../../test-utils/gates.js";
import { parseNifti, readNifti, readNiftiSync } from "../src/io/nifti-read.js";
import { writeNifti } from "../src/io/nifti-write.js";
import { rawVoxel, tmpDir } from "./nifti-helpers.js";

const DATA = sharedPath("data", "totalseg");
const need = sharedOrSkip("data/totalseg");

/** sform of every file here (README: 3 mm iso, RAS, sform code 2) */
const AFFINE = [3, 0, 0, -177.95632934570312, 0, 3, 0, 11.319000244140625, 0, 0, 3, 94.3017578125, 0, 0, 0, 1];

function counts(data: ArrayLike<number>): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < data.length; i++) m.set(data[i], (m.get(data[i]) ?? 0) + 1);
  return m;
}

describe.skipIf(!need.ok)(need.title("real TotalSegmentator NIfTI files"), () => {
  it("example_ct: 122×101×112 int32, sform affine, HU range, voxels match the raw file bytes", async () => {
    const p = join(DATA, "example_ct.nii.gz");
    const ct = await readNifti(p);
    expect(ct.shape).toEqual([122, 101, 112]);
    expect(ct.channels).toBe(1);
    expect(ct.data).toBeInstanceOf(Int32Array);
    expect(Array.from(ct.affine)).toEqual(AFFINE);
    expect(ct.meta).toMatchObject({
      source: p,
      originalDtype: "int32",
      originalShape: [122, 101, 112],
      affineSource: "sform",
    });
    expect(ct.meta.nifti).toMatchObject({ sform_code: 2, qform_code: 0, vox_offset: 352 });
    let min = Infinity;
    let max = -Infinity;
    for (const v of ct.data) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect([min, max]).toEqual([-1207, 3382]);
    // independent path: read voxels straight out of the decompressed bytes (Fortran order)
    const raw = gunzipSync(readFileSync(p));
    for (const [i, j, k] of [
      [0, 0, 0],
      [61, 50, 56],
      [121, 100, 111],
      [30, 70, 90],
      [100, 20, 5],
    ]) {
      expect(ct.data[(i * 101 + j) * 112 + k]).toBe(rawVoxel(raw, 352, [122, 101, 112], "int32", [i, j, k, 0]));
    }
  });

  it("example_ct_sm: int16 122×101×30 = slices 82..111 of example_ct, same affine", () => {
    const sm = readNiftiSync(join(DATA, "example_ct_sm.nii.gz"));
    const ct = readNiftiSync(join(DATA, "example_ct.nii.gz"));
    expect(sm.shape).toEqual([122, 101, 30]);
    expect(sm.data).toBeInstanceOf(Int16Array);
    expect(Array.from(sm.affine)).toEqual(AFFINE);
    let diff = 0;
    for (let i = 0; i < 122; i++)
      for (let j = 0; j < 101; j++)
        for (let k = 0; k < 30; k++)
          if (sm.data[(i * 101 + j) * 30 + k] !== ct.data[(i * 101 + j) * 112 + k + 82]) diff++;
    expect(diff).toBe(0);
  });

  it("label maps: uint8, data at vox_offset 13168, the README's organ voxel counts", () => {
    const seg = readNiftiSync(join(DATA, "example_seg_fast_force_split.nii.gz"));
    expect(seg.shape).toEqual([122, 101, 112]);
    expect(seg.data).toBeInstanceOf(Uint8Array);
    expect(seg.meta.nifti).toMatchObject({ vox_offset: 13168, sform_code: 2 });
    expect(Array.from(seg.affine)).toEqual(AFFINE);
    const c = counts(seg.data);
    const readme: [number, number][] = [
      [1, 9668],
      [2, 7134],
      [3, 5090],
      [4, 1319],
      [5, 41692],
      [6, 4836],
      [7, 695],
      [8, 166],
      [9, 210],
      [52, 1839],
      [63, 2266],
      [64, 1086],
    ];
    for (const [value, n] of readme) expect(c.get(value) ?? 0, `label ${value}`).toBe(n);
    expect(c.get(15) ?? 0).toBe(0); // esophagus absent
    expect(Math.max(...c.keys())).toBeLessThanOrEqual(117);
    for (const f of ["example_seg.nii.gz", "example_seg_fast.nii.gz"]) {
      const s = parseNifti(readFileSync(join(DATA, f)), f);
      expect(s.shape).toEqual([122, 101, 30]);
      expect(s.data).toBeInstanceOf(Uint8Array);
    }
  });

  it("read → write .nii.gz → read is exact on the real CT and labels", async () => {
    const dir = tmpDir("vp-real-");
    for (const [f, dtype] of [
      ["example_ct.nii.gz", undefined],
      ["example_seg.nii.gz", "uint8"],
    ] as const) {
      const v = await readNifti(join(DATA, f));
      const out = join(dir, f);
      await writeNifti(out, v, dtype ? { dtype } : {});
      const back = await readNifti(out);
      expect(back.data.constructor).toBe(v.data.constructor);
      expect(Array.from(back.affine)).toEqual(Array.from(v.affine));
      expect(back.shape).toEqual(v.shape);
      expect(
        Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength).equals(
          Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength),
        ),
      ).toBe(true);
      expect(back.meta.nifti).toMatchObject({ sform_code: 2, qform_code: 2 });
    }
  });
});
