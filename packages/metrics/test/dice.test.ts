import { describe, expect, it } from "vitest";
import { computeDice } from "../src/dice.js";
import { reduceMetric } from "../src/reduction.js";

// one case, 8 voxels along one axis, 4 classes; ground truth never contains class 3
const gt = { data: [0, 0, 1, 1, 1, 1, 2, 2], shape: [1, 8, 1, 1, 1] };
const pred = { data: [1, 1, 1, 1, 1, 2, 2, 3], shape: [1, 8, 1, 1, 1] };
// by hand: class 0: |G|=2, |P|=0, ∩=0 → 0; class 1: |G|=4, |P|=5, ∩=3 → 6/9; class 2: |G|=2, |P|=2, ∩=1 → 0.5;
// class 3: |G|=0 → NaN (ignore_empty) or 0 (pred non-empty)

describe("DiceMetric values by hand", () => {
  it("label maps with num_classes, background included (MONAI default)", () => {
    const r = computeDice(pred, gt, { num_classes: 4 });
    expect(r.classes).toEqual([0, 1, 2, 3]);
    expect(r.data[0]).toBe(0);
    expect(r.data[1]).toBeCloseTo(6 / 9, 12);
    expect(r.data[2]).toBeCloseTo(0.5, 12);
    expect(Number.isNaN(r.data[3])).toBe(true);
  });
  it("ignore_empty=false: absent from gt → 1 if also absent from pred, else 0", () => {
    expect(computeDice(pred, gt, { num_classes: 4, ignore_empty: false }).data[3]).toBe(0);
    expect(computeDice(pred, gt, { num_classes: 5, ignore_empty: false }).data[4]).toBe(1);
  });
  it("one-hot on either side gives the same as label maps; include_background=false drops class 0", () => {
    const oh = (labels: number[]) => ({
      data: labels.flatMap((l) => [0, 1, 2, 3].map((c) => (c === l ? 1 : 0))),
      shape: [1, 8, 1, 1, 4],
    });
    const a = computeDice(oh(pred.data), gt, { include_background: false });
    const b = computeDice(pred, oh(gt.data), { num_classes: 4, include_background: false });
    expect(a.classes).toEqual([1, 2, 3]);
    for (const r of [a, b]) {
      expect(r.data[0]).toBeCloseTo(6 / 9, 12);
      expect(r.data[1]).toBeCloseTo(0.5, 12);
      expect(Number.isNaN(r.data[2])).toBe(true);
    }
  });
  it("a label map without num_classes is the binary mask of class 1 (MONAI DiceHelper)", () => {
    const r = computeDice(pred, gt);
    expect(r.classes).toEqual([1]);
    expect(r.data[0]).toBeCloseTo(6 / 9, 12);
  });
  it("shape mismatch is a clear error", () => {
    expect(() => computeDice(pred, { data: [0, 1], shape: [1, 2, 1, 1, 1] }, { num_classes: 4 })).toThrow(
      /same batch and spatial shape/,
    );
  });
});

describe("MONAI do_metric_reduction (NaN-aware)", () => {
  // rows = cases, cols = classes
  const m = { data: Float64Array.from([0.5, NaN, 1, NaN, NaN, NaN, 0.2, 0.4, NaN]), rows: 3, cols: 3 };
  it("mean: per-row mean over valid columns, then over rows that had one", () => {
    const r = reduceMetric(m, "mean");
    expect(r.shape).toEqual([]);
    expect(r.values[0]).toBeCloseTo((0.75 + 0.3) / 2, 12);
    expect(r.notNans[0]).toBe(2);
  });
  it("sum, mean_batch, sum_batch, mean_channel, sum_channel, none", () => {
    expect(reduceMetric(m, "sum").values[0]).toBeCloseTo(2.1, 12);
    expect(reduceMetric(m, "sum").notNans[0]).toBe(4);
    expect(Array.from(reduceMetric(m, "mean_batch").values)).toEqual(
      [0.35, 0.4, 1].map((x, i) => (i === 0 ? (0.5 + 0.2) / 2 : x)),
    );
    expect(Array.from(reduceMetric(m, "mean_batch").notNans)).toEqual([2, 1, 1]);
    expect(reduceMetric(m, "sum_batch").values[0]).toBeCloseTo(0.7, 12);
    const mc = reduceMetric(m, "mean_channel");
    expect(mc.values[0]).toBeCloseTo(0.75, 12);
    expect(mc.values[1]).toBe(0); // a row with no valid value is 0, as in MONAI
    expect(mc.values[2]).toBeCloseTo(0.3, 12);
    expect(reduceMetric(m, "sum_channel").values[2]).toBeCloseTo(0.6, 12);
    const none = reduceMetric(m, "none");
    expect(none.shape).toEqual([3, 3]);
    expect(Number.isNaN(none.values[1])).toBe(true);
  });
  it("everything NaN → 0 with zero counts; inf stays inf", () => {
    const all = { data: Float64Array.from([NaN, NaN]), rows: 1, cols: 2 };
    expect(reduceMetric(all, "mean").values[0]).toBe(0);
    expect(reduceMetric(all, "mean").notNans[0]).toBe(0);
    const inf = { data: Float64Array.from([Infinity, 2]), rows: 1, cols: 2 };
    expect(reduceMetric(inf, "mean").values[0]).toBe(Infinity);
  });
});
