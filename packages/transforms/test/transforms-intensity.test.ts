import { RandomState } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { drawIntensityParams, mapLabelValue, scaleIntensityRange } from "../src/transforms/index.js";
import { create, img, one, vol } from "./transforms-util.js";

describe("ScaleIntensityRange", () => {
  it("✔ [-1000,-175,0,37.5,250,3000] with −175..250 → 0..1 clip → [0,0,0.41176,0.5,1,1]", () => {
    const v = vol([-1000, -175, 0, 37.5, 250, 3000], [6, 1, 1]);
    const o = scaleIntensityRange(v, { a_min: -175, a_max: 250, b_min: 0, b_max: 1, clip: true });
    const r = Array.from(o.data);
    expect(r[0]).toBe(0);
    expect(r[1]).toBe(0);
    expect(r[2]).toBeCloseTo(175 / 425, 6);
    expect(r[3]).toBe(0.5);
    expect(r[4]).toBe(1);
    expect(r[5]).toBe(1);
    expect(o.data).toBeInstanceOf(Float32Array);
  });

  it("without clip extrapolates; without b only normalises; degenerate window only shifts", () => {
    const v = vol([-300, 500], [2, 1, 1]);
    expect(Array.from(scaleIntensityRange(v, { a_min: -100, a_max: 100, b_min: 0, b_max: 1 }).data)).toEqual([-1, 3]);
    expect(Array.from(scaleIntensityRange(v, { a_min: 0, a_max: 100 }).data)).toEqual([-3, 5]);
    expect(Array.from(scaleIntensityRange(v, { a_min: 100, a_max: 100, b_min: 1, b_max: 2 }).data)).toEqual([
      -399, 401,
    ]);
  });

  it("registered transform validates args (unknown keys rejected by the SDK)", async () => {
    const t = await create("ScaleIntensityRange", {
      keys: ["image"],
      a_min: 0,
      a_max: 10,
      b_min: 0,
      b_max: 1,
      clip: true,
    });
    expect(Array.from(img(one(t.apply({ image: vol([5, 20], [2, 1, 1]) }, new RandomState(0)))).data)).toEqual([
      0.5, 1,
    ]);
    await expect(create("ScaleIntensityRange", { keys: ["image"], a_min: 0, a_max: 1, amax: 2 })).rejects.toThrow();
  });
});

describe("RandShiftIntensity / RandScaleIntensity draw order", () => {
  it("with seed (MONAI set_random_state): wrapper and inner streams both seeded; numpy values", async () => {
    // numpy: R=RandomState(0); R.rand(); R.uniform(-0.1, 0.1) = 0.043037873274483884
    const t = await create("RandShiftIntensity", { keys: ["image"], offsets: 0.1, prob: 1.0, seed: 0 });
    const o = img(one(t.apply({ image: vol([1, 2], [2, 1, 1]) }, new RandomState(123))));
    expect(o.data[0]).toBeCloseTo(1 + 0.043037873274483884, 6);
    expect(o.data[1]).toBeCloseTo(2 + 0.043037873274483884, 6);
    const s = await create("RandScaleIntensity", { keys: ["image"], factors: 0.2, prob: 1.0, seed: 0 });
    const o2 = img(one(s.apply({ image: vol([10], [1, 1, 1]) }, new RandomState(1))));
    expect(o2.data[0]).toBeCloseTo(10 * (1 + 0.08607574654896777), 5);
  });

  it("without seed one stream continues: wrapper rand, inner rand, uniform (numpy seed 7)", () => {
    const r = new RandomState(7);
    expect(drawIntensityParams(r, r, 1, [-0.1, 0.1], null)).toBe(-0.012318153711821295);
    // prob not met: only the wrapper's rand() is consumed (numpy seed 0: 0.5488 ≥ 0.5)
    const r2 = new RandomState(0);
    expect(drawIntensityParams(r2, r2, 0.5, [-0.1, 0.1], null)).toBeNull();
    expect(r2.rand()).toBe(0.7151893663724195);
  });

  it("channel_wise draws one offset per channel; same offset for all keys", async () => {
    const t = await create("RandShiftIntensity", {
      keys: ["image", "image2"],
      offsets: [1, 2],
      prob: 1,
      channel_wise: true,
    });
    const v = vol([0, 0, 0, 0], [2, 1, 1], { channels: 2 });
    const out = one(t.apply({ image: v, image2: v }, new RandomState(3)));
    const a = img(out).data;
    expect(a[0]).toBe(a[2]);
    expect(a[1]).toBe(a[3]);
    expect(a[0]).not.toBe(a[1]);
    expect(a[0]).toBeGreaterThanOrEqual(1);
    expect(a[0]).toBeLessThan(2);
    expect(Array.from(img(out, "image2").data)).toEqual(Array.from(a));
  });
});

describe("MapLabelValue", () => {
  const TS = [1, 2, 3, 4, 15, 5, 6, 52, 63, 64, 7, 8, 9];
  const BTCV = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];

  it("maps TotalSegmentator values to BTCV; unlisted values kept (MONAI) or sent to `unmapped`", () => {
    const v = vol([0, 1, 5, 15, 52, 64, 7, 100, 117], [9, 1, 1], { Ctor: Uint8Array });
    expect(Array.from(mapLabelValue(v, TS, BTCV).data)).toEqual([0, 1, 6, 5, 8, 10, 11, 100, 117]);
    const o = mapLabelValue(v, TS, BTCV, { unmapped: 0, dtype: "uint8" });
    expect(Array.from(o.data)).toEqual([0, 1, 6, 5, 8, 10, 11, 0, 0]);
    expect(o.data).toBeInstanceOf(Uint8Array);
    expect(mapLabelValue(v, TS, BTCV).data).toBeInstanceOf(Float32Array);
  });

  it("matches on original values (no chaining: 1→2, 2→3 maps 1 to 2, not 3); works on float input", () => {
    const v = vol([1, 2, 3], [3, 1, 1]);
    expect(Array.from(mapLabelValue(v, [1, 2], [2, 3]).data)).toEqual([2, 3, 3]);
    expect(() => mapLabelValue(v, [1, 2], [2])).toThrow(/same length|orig_labels has 2/);
  });

  it("registered transform with unmapped: 0 and a length mismatch error at build time", async () => {
    const t = await create("MapLabelValue", {
      keys: ["label"],
      orig_labels: TS,
      target_labels: BTCV,
      unmapped: 0,
      dtype: "uint8",
    });
    const out = img(
      one(t.apply({ label: vol([63, 99], [2, 1, 1], { Ctor: Uint8Array }) }, new RandomState(0))),
      "label",
    );
    expect(Array.from(out.data)).toEqual([9, 0]);
    await expect(create("MapLabelValue", { keys: ["label"], orig_labels: [1, 2], target_labels: [1] })).rejects.toThrow(
      /target_labels has 1/,
    );
  });
});
