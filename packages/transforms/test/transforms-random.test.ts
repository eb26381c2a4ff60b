import { isVoxelpipeError, RandomState, type Sample, type Transform, type Volume } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import {
  applyTransforms,
  coarseDropout,
  coarseShuffle,
  compose,
  correctCropCenter,
  describeSample,
  drawPosNegCenters,
  drawSpatialCropBoxes,
  type Hole,
  posNegIndices,
  sampleHoles,
  splitDeterministicPrefix,
} from "../src/transforms/index.js";
import { create, img, one, ramp, vol } from "./transforms-util.js";

const rs = (s: number) => new RandomState(s);

describe("RandCoarseDropout / RandCoarseShuffle", () => {
  const holes: Hole[] = [
    { size: [2, 2, 1], start: [0, 0, 0], extent: [2, 2, 1] },
    { size: [1, 1, 2], start: [3, 3, 2], extent: [1, 1, 2] },
  ];

  it("inner cutout fills exactly the boxes (constant fill) and leaves the rest", () => {
    const v = ramp([4, 4, 4]);
    const o = coarseDropout(v, holes, true, -1, rs(0));
    let filled = 0;
    for (let i = 0; i < 64; i++) if (o.data[i] === -1) filled++;
    expect(filled).toBe(4 + 2);
    expect(o.data[0]).toBe(-1); // (0,0,0)
    expect(o.data[(1 * 4 + 1) * 4]).toBe(-1); // (1,1,0)
    expect(o.data[(3 * 4 + 3) * 4 + 3]).toBe(-1); // (3,3,3)
    expect(o.data[1]).toBe(1); // (0,0,1) untouched
    expect(v.data[0]).toBe(0); // input not mutated
  });

  it("outer cutout keeps only the union of boxes; uniform fill lies in [min, max) of the whole image", () => {
    const v = ramp([4, 4, 4]);
    const o = coarseDropout(v, holes, false, null, rs(1));
    const inBox = (p: number) => {
      const [i, j, k] = [Math.floor(p / 16), Math.floor(p / 4) % 4, p % 4];
      return holes.some((h) => [i, j, k].every((x, d) => x >= h.start[d] && x < h.start[d] + h.extent[d]));
    };
    for (let p = 0; p < 64; p++) {
      if (inBox(p)) expect(o.data[p]).toBe(v.data[p]);
      else {
        expect(o.data[p]).toBeGreaterThanOrEqual(0);
        expect(o.data[p]).toBeLessThan(63);
        expect(o.data[p]).not.toBe(v.data[p]);
      }
    }
    expect(o.data[0]).toBe(0);
    expect(o.data[(3 * 4 + 3) * 4 + 2]).toBe(62);
    // the whole image is drawn first in C order (voxel 0's draw is overwritten by its box):
    // voxel 1 holds numpy RandomState(1)'s second rand() scaled to [0, 63)
    expect(o.data[1]).toBeCloseTo(0.7203244934421581 * 63, 4);
  });

  it("hole sizes never decrease with max_spatial_size; sizes clip to the image", () => {
    const h = sampleHoles(rs(4), [10, 10, 10], { holes: 8, spatialSize: 2, maxSpatialSize: 20 });
    for (let k = 1; k < h.length; k++)
      for (let d = 0; d < 3; d++) expect(h[k].size[d]).toBeGreaterThanOrEqual(h[k - 1].size[d]);
    for (const x of h) for (let d = 0; d < 3; d++) expect(x.start[d] + x.extent[d]).toBeLessThanOrEqual(10);
    const fixed = sampleHoles(rs(4), [10, 10, 10], { holes: 3, spatialSize: [4, -1, 2] });
    expect(fixed.map((x) => x.extent)).toEqual([
      [4, 10, 2],
      [4, 10, 2],
      [4, 10, 2],
    ]);
    // max_holes draws the count first: randint(holes, max_holes + 1)
    expect(sampleHoles(rs(0), [10, 10, 10], { holes: 2, maxHoles: 5, spatialSize: 2 }).length).toBe(
      rs(0).randint(2, 6),
    );
  });

  it("shuffle permutes values inside each box per channel (multiset kept), outside untouched", () => {
    const v = ramp([4, 4, 4], 2);
    const o = coarseShuffle(v, [{ size: [2, 2, 2], start: [1, 1, 1], extent: [2, 2, 2] }], rs(3));
    const inBox = (i: number, j: number, k: number) => i >= 1 && i < 3 && j >= 1 && j < 3 && k >= 1 && k < 3;
    for (let c = 0; c < 2; c++) {
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 4; j++)
          for (let k = 0; k < 4; k++) {
            const p = ((i * 4 + j) * 4 + k) * 2 + c;
            if (inBox(i, j, k)) {
              a.push(v.data[p]);
              b.push(o.data[p]);
              expect(o.data[p] % 2).toBe(c); // values never cross channels
            } else expect(o.data[p]).toBe(v.data[p]);
          }
      expect([...b].sort((x, y) => x - y)).toEqual([...a].sort((x, y) => x - y));
      expect(b).not.toEqual(a);
    }
  });

  it("dict transforms: prob 0 draws once and returns the sample unchanged; same holes for all keys", async () => {
    const t = await create("RandCoarseDropout", { keys: ["image"], holes: 2, spatial_size: 2, prob: 0 });
    const s = { image: ramp([4, 4, 4]) };
    expect(t.apply(s, rs(0))).toBe(s);
    const u = await create("RandCoarseDropout", {
      keys: ["a", "b"],
      holes: 3,
      spatial_size: 2,
      prob: 1,
      fill_value: 7,
    });
    const out = one(u.apply({ a: ramp([5, 5, 5]), b: ramp([5, 5, 5]) }, rs(2)));
    expect(Array.from(img(out, "a").data)).toEqual(Array.from(img(out, "b").data));
    expect(u.random).toBe(true);
  });
});

describe("RandSpatialCropSamples", () => {
  it("starts per sample = randint(0, n-roi+1) for dims larger than roi (numpy seed 5)", () => {
    const b = drawSpatialCropBoxes(rs(5), [100, 120, 96], { roiSize: 96, numSamples: 3 });
    expect(b.map((x) => x.start)).toEqual([
      [3, 14, 0],
      [0, 9, 0],
      [0, 4, 0],
    ]);
    expect(b[0].size).toEqual([96, 96, 96]);
    const r = drawSpatialCropBoxes(rs(5), [100, 120, 96], {
      roiSize: 32,
      maxRoiSize: 64,
      numSamples: 2,
      randomSize: true,
    });
    expect(r).toEqual([
      { size: [46, 48, 41], start: [8, 62, 27] },
      { size: [62, 48, 39], start: [12, 15, 49] },
    ]);
    expect(drawSpatialCropBoxes(rs(5), [10, 9, 8], { roiSize: 4, numSamples: 1, randomCenter: false })[0]).toEqual({
      start: [3, 2, 2],
      size: [4, 4, 4],
    });
  });

  it("returns a list of samples, crops listed keys, shares the others, and records the op", async () => {
    const t = await create("RandSpatialCropSamples", { keys: ["image"], roi_size: [2, 2, 2], num_samples: 3 });
    const out = t.apply({ image: ramp([4, 4, 4]), name: "case1" }, rs(9)) as Sample[];
    expect(out).toHaveLength(3);
    for (const s of out) {
      const v = img(s);
      expect(v.shape).toEqual([2, 2, 2]);
      expect(s.name).toBe("case1");
      const start = v.meta.applied?.at(-1)?.params.start as number[];
      expect(v.data[0]).toBe((start[0] * 4 + start[1]) * 4 + start[2]);
    }
  });
});

describe("RandCropByPosNegLabel", () => {
  it("✔ centre rule: for 96 the centre lies in [48, L−48]; uint16 valid end; +1 when start = end", () => {
    expect(correctCropCenter([0, 500, 100], [96, 96, 96], [239, 199, 137], false)).toEqual([48, 151, 89]);
    expect(correctCropCenter([300, 0, 60], [96, 96, 96], [239, 199, 137], false)).toEqual([191, 48, 60]);
    // size 5 on L 5: start 2, end uint16(3.5)=3 → centre 2
    expect(correctCropCenter([0, 4, 9], [5, 5, 5], [5, 5, 5], false)).toEqual([2, 2, 2]);
    expect(() => correctCropCenter([0, 0, 0], [96, 96, 96], [90, 100, 100], false)).toThrow(
      /smaller than spatial_size/,
    );
  });

  it("fg/bg indices and centres match a numpy reference of MONAI's algorithm (seed 3)", () => {
    const lab = vol(new Uint8Array(12 * 10 * 8), [12, 10, 8], { Ctor: Uint8Array });
    const im = vol(new Float32Array(12 * 10 * 8), [12, 10, 8]);
    const idx = (i: number, j: number, k: number) => (i * 10 + j) * 8 + k;
    lab.data[idx(2, 3, 4)] = 1;
    lab.data[idx(9, 8, 1)] = 2;
    lab.data[idx(5, 5, 5)] = 3;
    for (let i = 1; i < 11; i++) for (let j = 1; j < 9; j++) for (let k = 1; k < 7; k++) im.data[idx(i, j, k)] = 0.5;
    const { fg, bg } = posNegIndices(lab, im, 0);
    expect(fg.length).toBe(3);
    expect(bg.length).toBe(477);
    const c = drawPosNegCenters(rs(3), {
      fg,
      bg,
      dims: [12, 10, 8],
      size: [4, 4, 4],
      posRatio: 0.5,
      numSamples: 6,
      allowSmaller: false,
    });
    expect(c).toEqual([
      [6, 2, 6],
      [10, 5, 4],
      [4, 2, 5],
      [4, 5, 3],
      [9, 8, 2],
      [2, 3, 4],
    ]);
  });

  it("registered transform: crops image and label at the same box; no fg ⇒ background only (warning)", async () => {
    const t = await create("RandCropByPosNegLabel", {
      keys: ["image", "label"],
      label_key: "label",
      spatial_size: [2, 2, 2],
      num_samples: 4,
      image_key: "image",
    });
    const lab = vol(new Uint8Array(64), [4, 4, 4], { Ctor: Uint8Array });
    lab.data[21] = 5; // (1,1,1)
    const out = t.apply({ image: ramp([4, 4, 4]), label: lab }, rs(1)) as Sample[];
    expect(out).toHaveLength(4);
    for (const s of out) {
      expect(img(s).meta.applied?.at(-1)?.params).toEqual(img(s, "label").meta.applied?.at(-1)?.params);
      expect(img(s).shape).toEqual([2, 2, 2]);
    }
    const empty = vol(new Uint8Array(64), [4, 4, 4], { Ctor: Uint8Array });
    const bgOnly = t.apply({ image: ramp([4, 4, 4]), label: empty }, rs(1)) as Sample[];
    expect(bgOnly).toHaveLength(4);
    const none = vol(new Float32Array(64), [4, 4, 4]);
    expect(() => t.apply({ image: none, label: empty }, rs(1))).toThrow(/no sampling location/);
  });
});

describe("RandFlip / RandRotate90 dict transforms", () => {
  it("one rand() < prob per call for all keys; rot90 draws k before the prob check", async () => {
    const f = await create("RandFlip", { keys: ["image", "label"], spatial_axis: 0, prob: 0.5 });
    const v = vol([1, 2], [2, 1, 1]);
    // numpy seed 0: rand 0.5488 ≥ 0.5 → no flip; seed 1: 0.417 → flip
    expect(f.apply({ image: v, label: v }, rs(0))).toEqual({ image: v, label: v });
    const o = one(f.apply({ image: v, label: v }, rs(1)));
    expect(Array.from(img(o).data)).toEqual([2, 1]);
    expect(Array.from(img(o, "label").data)).toEqual([2, 1]);
    const r = await create("RandRotate90", { keys: ["image"], prob: 1, max_k: 3 });
    const w = vol([0, 1, 2, 3, 4, 5], [2, 3, 1]);
    // numpy seed 1: randint(3)+1 = 2 → 180°
    expect(Array.from(img(one(r.apply({ image: w }, rs(1)))).data)).toEqual([5, 4, 3, 2, 1, 0]);
  });
});

describe("Compose, OneOf, CopyItems, cache prefix", () => {
  it("✔ OneOf with equal weights: seeded like MONAI (child seeds, then multinomial) picks [0,0,1,0,0,0,1,0,0,0]", async () => {
    const picks: number[] = [];
    for (let s = 0; s < 10; s++) {
      const t = await create("OneOf", {
        transforms: [
          { type: "RandFlip", keys: ["image"], spatial_axis: 0, prob: 1 },
          { type: "RandFlip", keys: ["image"], spatial_axis: 1, prob: 1 },
        ],
        seed: s,
      });
      const out = img(one(t.apply({ image: vol([0, 1, 2, 3], [2, 2, 1]) }, rs(99))));
      picks.push(out.data[0] === 2 ? 0 : 1);
    }
    expect(picks).toEqual([0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
  });

  it("✔ CopyItems: names grouped by copy, deep copies, existing name is an error", async () => {
    const t = await create("CopyItems", { keys: ["image"], times: 2, names: ["gt_image", "image_2"] });
    const v = vol([1, 2], [2, 1, 1]);
    const out = one(t.apply({ image: v }, rs(0)));
    expect(Object.keys(out)).toEqual(["image", "gt_image", "image_2"]);
    expect(img(out, "gt_image").data).not.toBe(v.data);
    expect(Array.from(img(out, "image_2").data)).toEqual([1, 2]);
    expect(() => t.apply({ image: v, gt_image: v }, rs(0))).toThrow(/already exists/);
    await expect(create("CopyItems", { keys: ["a", "b"], times: 2, names: ["x", "y", "z"] })).rejects.toThrow(
      /need times × len\(keys\) = 4 names, got 3/,
    );
  });

  it("Compose maps later transforms over multi-sample lists; random flag and deterministic prefix", async () => {
    const chain: Transform[] = [
      await create("ScaleIntensityRange", { keys: ["image"], a_min: 0, a_max: 63, b_min: 0, b_max: 1 }),
      await create("RandSpatialCropSamples", { keys: ["image"], roi_size: 2, num_samples: 2 }),
      await create("CopyItems", { keys: ["image"], names: ["gt"] }),
      await create("RandCoarseDropout", { keys: ["image"], holes: 1, spatial_size: 1, prob: 1, fill_value: -5 }),
    ];
    expect(splitDeterministicPrefix(chain)).toBe(1);
    expect(splitDeterministicPrefix(chain.slice(0, 1))).toBe(1);
    const out = applyTransforms(chain, { image: ramp([4, 4, 4]) }, rs(0)) as Sample[];
    expect(out).toHaveLength(2);
    for (const s of out) {
      expect(Array.from(img(s).data).filter((x) => x === -5)).toHaveLength(1);
      expect(Array.from(img(s, "gt").data).every((x) => x >= 0 && x <= 1)).toBe(true);
    }
    // deterministic: same rng seed ⇒ same result; Compose built through ctx.build too
    const again = applyTransforms(chain, { image: ramp([4, 4, 4]) }, rs(0)) as Sample[];
    expect(Array.from(img(again[1]).data)).toEqual(Array.from(img(out[1]).data));
    const c = compose(chain);
    expect(c.random).toBe(true);
    const built = await create("Compose", {
      transforms: [{ type: "RandFlip", keys: ["image"], prob: 1, spatial_axis: 2 }],
    });
    expect(Array.from(img(one(built.apply({ image: vol([1, 2], [1, 1, 2]) }, rs(0)))).data)).toEqual([2, 1]);
  });

  it("a failing transform throws VP210 naming it, with shape, dtype and range of every key", async () => {
    const t = await create("Spacing", { keys: ["image"], pixdim: 1 });
    const s = { image: vol([-3, 7], [2, 1, 1]), note: "x", bad: 5 };
    expect(describeSample(s)).toBe('  image: Float32Array [2,1,1]×1 range [-3, 7]\n  note: "x"\n  bad: 5');
    const u = await create("Orientation", { keys: ["bad"] });
    try {
      u.apply(s, rs(0));
      throw new Error("no error");
    } catch (e) {
      expect(isVoxelpipeError(e)).toBe(true);
      if (!isVoxelpipeError(e)) return;
      expect(e.code).toBe("VP210");
      expect(e.message).toMatch(/transform Orientation failed: Orientation: key "bad" does not hold an image volume/);
      expect(e.diagnostics[0].got).toContain("image: Float32Array [2,1,1]×1 range [-3, 7]");
    }
    expect(t.random).toBe(false);
    const v = one(t.apply(s, rs(0))).image as Volume;
    expect(v.shape).toEqual([2, 1, 1]);
  });
});
