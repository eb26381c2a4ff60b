import { RandomState, type Volume } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import {
  affineAxcodes,
  axcodesToOrnt,
  cropWindow,
  flip,
  foregroundBox,
  invertSpatial,
  ioOrientation,
  orient,
  padAmounts,
  resampleToSpacing,
  rotate90,
  spacingGrid,
  spatialPad,
  transformComponents,
} from "../src/transforms/index.js";
import { create, diagAffine, img, one, ramp, vol } from "./transforms-util.js";

const at = (v: Volume, i: number, j: number, k: number, c = 0) =>
  v.data[((i * v.shape[1] + j) * v.shape[2] + k) * v.channels + c];

describe("Orientation", () => {
  it("✔ diag(-0.8,-0.8,3) → flip axes 0,1 → diag(0.8,0.8,3), origin −50.4 = −0.8·63 (64×64×20)", () => {
    const v = vol(new Float32Array(64 * 64 * 20), [64, 64, 20], { affine: diagAffine([-0.8, -0.8, 3]) });
    expect(affineAxcodes(v.affine)).toBe("LPS");
    const o = orient(v, "RAS");
    expect(o.affine[0]).toBeCloseTo(0.8, 12);
    expect(o.affine[5]).toBeCloseTo(0.8, 12);
    expect(o.affine[10]).toBe(3);
    expect(o.affine[3]).toBeCloseTo(-50.4, 10);
    expect(o.affine[7]).toBeCloseTo(-50.4, 10);
    expect(o.affine[11]).toBe(0);
    expect(affineAxcodes(o.affine)).toBe("RAS");
  });

  it("flips the data with the affine so every voxel keeps its world position", () => {
    const v = ramp([3, 4, 2]);
    v.affine = Float64Array.from(diagAffine([-2, 1, -1], [10, 0, 5]));
    const o = orient(v, "RAS");
    expect(o.shape).toEqual([3, 4, 2]);
    // out[i,j,k] = in[2-i, j, 1-k]
    expect(at(o, 0, 0, 0)).toBe(at(v, 2, 0, 1));
    expect(at(o, 2, 3, 1)).toBe(at(v, 0, 3, 0));
    // world of out voxel (0,0,0) equals world of in voxel (2,0,1): (10-4, 0, 5-1)
    expect([o.affine[3], o.affine[7], o.affine[11]]).toEqual([6, 0, 4]);
  });

  it("permutes axes (voxel axes along S,R,A → RAS) and records an invertible op", () => {
    // voxel axis 0 → world S (z), axis 1 → R (x), axis 2 → A (y)
    const aff = [0, 2, 0, 0, 0, 0, 3, 0, 1, 0, 0, 0, 0, 0, 0, 1];
    const v = ramp([2, 3, 4]);
    v.affine = Float64Array.from(aff);
    expect(ioOrientation(aff)).toEqual([
      [2, 1],
      [0, 1],
      [1, 1],
    ]);
    const o = orient(v, "RAS");
    expect(o.shape).toEqual([3, 4, 2]);
    expect(at(o, 2, 1, 0)).toBe(at(v, 0, 2, 1));
    expect(Array.from(o.affine)).toEqual([2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    const back = invertSpatial(o, transformComponents);
    expect(back.shape).toEqual(v.shape);
    expect(Array.from(back.data)).toEqual(Array.from(v.data));
    expect(Array.from(back.affine)).toEqual(aff);
  });

  it("handles oblique affines through the nearest orthonormal matrix, and rejects bad codes", () => {
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    // rotated 0.3 rad about z, voxel axis 0 closest to -y
    const aff = [s, c, 0, 0, -c, s, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1];
    expect(ioOrientation(aff)).toEqual([
      [1, -1],
      [0, 1],
      [2, 1],
    ]);
    expect(() => axcodesToOrnt("RAR")).toThrow(/invalid axcodes/);
    expect(() => axcodesToOrnt("RA")).toThrow(/3 letters/);
  });

  it("registered dict transform applies to every key and fails clearly on a missing key", async () => {
    const t = await create("Orientation", { keys: ["image", "label"], axcodes: "RAS" });
    const v = vol([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], { affine: diagAffine([-1, 1, 1]) });
    const out = one(t.apply({ image: v, label: v }, new RandomState(0)));
    expect(Array.from(img(out, "label").data)).toEqual([5, 6, 7, 8, 1, 2, 3, 4]);
    expect(() => t.apply({ image: v }, new RandomState(0))).toThrow(/Orientation.*"label" is not in the sample/);
    const t2 = await create("Orientation", { keys: ["image", "label"], allow_missing_keys: true });
    expect(img(one(t2.apply({ image: v }, new RandomState(0)))).data[0]).toBe(5);
  });
});

describe("Spacing", () => {
  it("✔ output size round((n-1)·old/new+1), half to even: 64,64,20 @0.8,0.8,3 → 35,35,30 (and the 1 mm→2 mm ramp gives 6)", () => {
    const g = spacingGrid(diagAffine([0.8, 0.8, 3]), [64, 64, 20], [1.5, 1.5, 2]);
    expect(g.shape).toEqual([35, 35, 30]);
    // (10-1)*1/2+1 = 5.5 → 6 (even); (12-1)*1/2+1 = 6.5 → 6 (even); 3 mm 30 slices → 2 mm: 44.5 → 44
    expect(spacingGrid(diagAffine([1, 1, 1]), [10, 12, 1], [2, 2, 1]).shape).toEqual([6, 6, 1]);
    expect(spacingGrid(diagAffine([3, 3, 3]), [122, 101, 30], [1.5, 1.5, 2]).shape).toEqual([243, 201, 44]);
  });

  it("✔ ramp 0..9, 1 → 2 mm, border padding: [0,2,4,6,8,9]", () => {
    const v = vol(
      Array.from({ length: 10 }, (_, i) => i),
      [10, 1, 1],
    );
    const o = resampleToSpacing(v, [2, 1, 1]);
    expect(o.shape).toEqual([6, 1, 1]);
    expect(Array.from(o.data)).toEqual([0, 2, 4, 6, 8, 9]);
    expect(o.data).toBeInstanceOf(Float32Array);
    expect(o.affine[0]).toBe(2);
  });

  it("trilinear upsampling: hand-computed mid-voxel values, origin kept, op recorded", () => {
    // 2×2×2 cube of values i*4 + j*2 + k at 2 mm, resampled to 1 mm → 3×3×3
    const v = vol([0, 1, 2, 3, 4, 5, 6, 7], [2, 2, 2], { affine: diagAffine([2, 2, 2], [5, 6, 7]) });
    const o = resampleToSpacing(v, 1);
    expect(o.shape).toEqual([3, 3, 3]);
    expect(at(o, 1, 1, 1)).toBeCloseTo(3.5, 6); // centre: mean of all 8
    expect(at(o, 0, 1, 0)).toBeCloseTo(1, 6); // between (0,0,0)=0 and (0,1,0)=2
    expect(at(o, 2, 2, 2)).toBe(7);
    expect([o.affine[0], o.affine[3], o.affine[7], o.affine[11]]).toEqual([1, 5, 6, 7]);
    expect(o.meta.applied?.[0]).toMatchObject({ op: "Spacing", before: [2, 2, 2] });
  });

  it("nearest keeps label values and storage type; a pixdim ≤ 0 keeps that spacing; short pixdim repeats", () => {
    const lab = vol([0, 3, 7, 9], [4, 1, 1], { Ctor: Uint8Array, affine: diagAffine([2, 5, 1]) });
    const o = resampleToSpacing(lab, [1, -1, 0], "nearest");
    expect(o.data).toBeInstanceOf(Uint8Array);
    expect(o.shape).toEqual([7, 1, 1]);
    // coordinates j/2, ties round half away from zero (torch 1.13 CPU 3-D nearest)
    expect(Array.from(o.data)).toEqual([0, 3, 3, 7, 7, 9, 9]);
    expect(o.affine[5]).toBe(5);
    expect(spacingGrid(diagAffine([1, 1, 1]), [5, 5, 5], [2]).shape).toEqual([3, 3, 3]);
  });

  it("multi-channel volumes resample each channel; mode per key in the dict transform", async () => {
    const v = ramp([2, 1, 1], 2); // channel 0: 0,2; channel 1: 1,3
    const o = resampleToSpacing(v, [0.5, 1, 1]);
    expect(Array.from(o.data)).toEqual([0, 1, 1, 2, 2, 3]);
    const t = await create("Spacing", { keys: ["image", "label"], pixdim: [0.5, 1, 1], mode: ["bilinear", "nearest"] });
    const lab = vol([1, 2], [2, 1, 1], { Ctor: Uint8Array });
    const out = one(t.apply({ image: vol([0, 1], [2, 1, 1]), label: lab }, new RandomState(0)));
    expect(Array.from(img(out).data)).toEqual([0, 0.5, 1]);
    expect(Array.from(img(out, "label").data)).toEqual([1, 2, 2]);
    await expect(create("Spacing", { keys: ["a", "b"], pixdim: 1, mode: ["nearest"] })).rejects.toThrow(/mode has 1/);
  });

  it("inverse resampling (nearest for labels) restores a label map exactly after 3 → 1.5 mm", () => {
    const n = 6 * 5 * 4;
    const lab = vol(
      Array.from({ length: n }, (_, i) => (i * 7) % 5),
      [6, 5, 4],
      { Ctor: Uint8Array, affine: diagAffine([3, 3, 3], [1, 2, 3]) },
    );
    const o = resampleToSpacing(lab, [1.5, 1.5, 1.5], "nearest");
    const back = invertSpatial(o, transformComponents);
    expect(back.shape).toEqual([6, 5, 4]);
    expect(Array.from(back.data)).toEqual(Array.from(lab.data));
    expect(Array.from(back.affine)).toEqual(Array.from(lab.affine));
  });
});

describe("CropForeground and SpatialPad", () => {
  it("✔ bbox [[3,5,10],[7,6,18]] of x > 0, margin and clamping, k_divisible", () => {
    const v = vol(new Float32Array(10 * 8 * 20), [10, 8, 20]);
    const set = (i: number, j: number, k: number) => {
      v.data[(i * 8 + j) * 20 + k] = 1;
    };
    set(3, 5, 10);
    set(6, 5, 17);
    set(4, 5, 12);
    expect(foregroundBox(v)).toEqual({ start: [3, 5, 10], end: [7, 6, 18] });
    expect(foregroundBox(v, { margin: 4 })).toEqual({ start: [0, 1, 6], end: [10, 8, 20] });
    expect(foregroundBox(v, { margin: 4, allowSmaller: false })).toEqual({ start: [-1, 1, 6], end: [11, 10, 22] });
    // sizes 4,1,8 → multiples of 3: 6,3,9; start moves by floor(diff/2): 1,1,0
    expect(foregroundBox(v, { kDivisible: 3 })).toEqual({ start: [2, 4, 10], end: [8, 7, 19] });
    expect(foregroundBox(vol(new Float32Array(8), [2, 2, 2]))).toBeNull();
  });

  it("crops every key with the source key's box and shifts the affine; no foreground is a clear error", async () => {
    const t = await create("CropForeground", { keys: ["image", "label"], source_key: "image" });
    const image = vol([0, 0, 0, 0, 0, 5, 0, 6], [2, 2, 2], { affine: diagAffine([2, 2, 2], [10, 20, 30]) });
    const label = vol([0, 0, 0, 0, 0, 1, 0, 2], [2, 2, 2], { Ctor: Uint8Array });
    const out = one(t.apply({ image, label }, new RandomState(0)));
    expect(img(out).shape).toEqual([1, 2, 1]);
    expect(Array.from(img(out).data)).toEqual([5, 6]);
    expect(Array.from(img(out, "label").data)).toEqual([1, 2]);
    expect([img(out).affine[3], img(out).affine[7], img(out).affine[11]]).toEqual([12, 20, 32]);
    const blank = vol(new Float32Array(8), [2, 2, 2]);
    expect(() => t.apply({ image: blank, label }, new RandomState(0))).toThrow(/CropForeground.*no foreground/);
  });

  it("✔ SpatialPad 90 → 96: 3 before, 3 after; never crops; method end; constant value", () => {
    expect(padAmounts([90, 100, 95], 96, "symmetric")).toEqual([
      [3, 3],
      [0, 0],
      [0, 1],
    ]);
    expect(padAmounts([90, 100, 95], 96, "end")).toEqual([
      [0, 6],
      [0, 0],
      [0, 1],
    ]);
    const v = vol([1, 2], [2, 1, 1], { affine: diagAffine([2, 1, 1]) });
    const p = spatialPad(v, [5, 1, 1]);
    expect(Array.from(p.data)).toEqual([0, 1, 2, 0, 0]);
    expect(p.affine[3]).toBe(-2);
    expect(Array.from(spatialPad(v, [4, -1, 0], "symmetric", "edge").data)).toEqual([1, 1, 2, 2]);
    const back = invertSpatial(p, transformComponents);
    expect(Array.from(back.data)).toEqual([1, 2]);
  });

  it("invertSpatial undoes a whole Orientation → Spacing → crop → pad chain for a label map", () => {
    const n = 4 * 6 * 5;
    const data = new Uint8Array(n);
    for (let i = 1; i < 3; i++)
      for (let j = 1; j < 5; j++) for (let k = 1; k < 4; k++) data[(i * 6 + j) * 5 + k] = 1 + ((i + j + k) % 3);
    const lab = vol(data, [4, 6, 5], { Ctor: Uint8Array, affine: diagAffine([-2, 2, 2], [3, -4, 5]) });
    let cur = orient(lab, "RAS");
    cur = resampleToSpacing(cur, [1, 1, 1], "nearest");
    const box = foregroundBox(cur);
    if (!box) throw new Error("no box");
    cur = cropWindow(
      cur,
      box.start,
      box.start.map((s, a) => box.end[a] - s),
      "CropForeground",
    );
    cur = spatialPad(cur, 12);
    expect(cur.shape).toEqual([12, 12, 12]);
    const back = invertSpatial(cur, transformComponents);
    expect(back.shape).toEqual([4, 6, 5]);
    expect(Array.from(back.affine)).toEqual(Array.from(lab.affine));
    expect(Array.from(back.data)).toEqual(Array.from(lab.data));
  });
});

describe("Flip and Rotate90", () => {
  it("✔ rot90 k=1 in plane (0,1): [[0,1,2],[3,4,5]] → [[2,5],[1,4],[0,3]]; k=2 and k=3 too", () => {
    const v = vol([0, 1, 2, 3, 4, 5], [2, 3, 1]);
    const r1 = rotate90(v, 1);
    expect(r1.shape).toEqual([3, 2, 1]);
    expect(Array.from(r1.data)).toEqual([2, 5, 1, 4, 0, 3]);
    expect(Array.from(rotate90(v, 2).data)).toEqual([5, 4, 3, 2, 1, 0]);
    expect(Array.from(rotate90(v, 3).data)).toEqual([3, 0, 4, 1, 5, 2]);
    const r = rotate90(rotate90(v, 1), 3);
    expect(Array.from(r.data)).toEqual([0, 1, 2, 3, 4, 5]);
    // other plane: (1, 2)
    const w = vol([0, 1, 2, 3, 4, 5], [1, 2, 3]);
    expect(Array.from(rotate90(w, 1, [1, 2]).data)).toEqual([2, 5, 1, 4, 0, 3]);
  });

  it("rotation and flip keep world positions (affine · index map) and invert exactly", () => {
    const v = ramp([2, 3, 4]);
    v.affine = Float64Array.from(diagAffine([1, 2, 3], [7, 8, 9]));
    const r = rotate90(flip(v, [2]), 1);
    const world = (a: Float64Array, p: number[]) =>
      [0, 1, 2].map((row) => a[row * 4] * p[0] + a[row * 4 + 1] * p[1] + a[row * 4 + 2] * p[2] + a[row * 4 + 3]);
    // out voxel (0,0,0) = flipped (0, 2, 0) = original (0, 2, 3)
    expect(at(r, 0, 0, 0)).toBe(at(v, 0, 2, 3));
    expect(world(r.affine, [0, 0, 0])).toEqual(world(v.affine, [0, 2, 3]));
    const back = invertSpatial(r, transformComponents);
    expect(Array.from(back.data)).toEqual(Array.from(v.data));
    expect(Array.from(back.affine)).toEqual(Array.from(v.affine));
  });
});
