import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { type ComponentDefinition, Registries } from "@voxelpipe/core";
import { beforeAll, describe, expect, it } from "vitest";
import { DiceMetricDef, HausdorffDistanceMetricDef, plugin, SurfaceDiceMetricDef } from "../src/index.js";
import { makeMetric } from "./fixture-metrics.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const lab = (v: number[]) => tf.tensor5d(v, [1, v.length, 1, 1, 1]);

describe("@voxelpipe/metrics plugin", () => {
  it("registers DiceMetric, HausdorffDistanceMetric, SurfaceDiceMetric under vp/", () => {
    const regs = new Registries();
    regs.use(plugin);
    const keys = regs
      .of("metric")
      .entries()
      .map((e) => e.key)
      .sort();
    expect(keys).toEqual(["vp/DiceMetric", "vp/HausdorffDistanceMetric", "vp/SurfaceDiceMetric"]);
  });

  it("args: MONAI defaults, strict keys, validated thresholds", () => {
    const defs: Record<string, ComponentDefinition> = {
      DiceMetric: DiceMetricDef as ComponentDefinition,
      HausdorffDistanceMetric: HausdorffDistanceMetricDef as ComponentDefinition,
      SurfaceDiceMetric: SurfaceDiceMetricDef as ComponentDefinition,
    };
    const find = (n: string) => defs[n];
    expect(find("DiceMetric").args.parse({})).toMatchObject({
      include_background: true,
      ignore_empty: true,
      reduction: "mean",
    });
    expect(find("HausdorffDistanceMetric").args.parse({})).toMatchObject({
      include_background: false,
      directed: false,
    });
    expect(() => find("DiceMetric").args.parse({ get_not_nan: true })).toThrow();
    expect(() => find("SurfaceDiceMetric").args.parse({})).toThrow(); // class_thresholds required
    expect(() => find("HausdorffDistanceMetric").args.parse({ percentile: 101 })).toThrow();
    expect(find("HausdorffDistanceMetric").args.parse({ distance_metric: "euclidean" })).toBeTruthy();
    expect(() => find("HausdorffDistanceMetric").args.parse({ distance_metric: "chessboard" })).toThrow();
    expect(() => find("SurfaceDiceMetric").args.parse({ class_thresholds: [1], use_subvoxels: true })).toThrow();
  });

  it("DiceMetric streams: update per batch, NaN-aware aggregate with per-class detail, reset", async () => {
    const m = await makeMetric("DiceMetric", {
      num_classes: 3,
      include_background: false,
      class_names: ["bg", "liver", "spleen"],
    });
    expect(m.name).toBe("dice");
    // case A: liver |G|=2,|P|=2,∩=1 → 0.5; spleen absent from gt → NaN
    m.update(lab([0, 1, 1, 0]), lab([1, 1, 0, 0]));
    // case B: liver perfect, spleen half (|G|=2,|P|=2,∩=1 → 0.5)
    m.update(lab([1, 2, 0, 2]), lab([1, 2, 2, 0]));
    const agg = m.aggregate();
    // mean: case A → 0.5 (one valid class), case B → (1 + 0.5)/2; then mean of the two
    expect(agg.value).toBeCloseTo((0.5 + 0.75) / 2, 10);
    expect(agg.detail?.liver).toBeCloseTo((0.5 + 1) / 2, 10);
    expect(agg.detail?.spleen).toBeCloseTo(0.5, 10);
    expect(m.result().notNans[0]).toBe(2);
    m.reset();
    expect(Number.isNaN(m.aggregate().value)).toBe(true);
    m.update(lab([0, 0]), lab([0, 0]));
    expect(m.aggregate().detail).toEqual({ liver: null, spleen: null }); // absent everywhere
    expect(m.aggregate().value).toBe(0); // MONAI: no valid value → 0
  });

  it("argmax turns a multi-channel prediction into labels; mean_batch headline = mean over valid classes", async () => {
    const m = await makeMetric("DiceMetric", {
      num_classes: 2,
      include_background: true,
      argmax: true,
      reduction: "mean_batch",
    });
    const logits = tf.tensor5d([2, 0, 0, 2, 0, 2, 2, 0], [1, 4, 1, 1, 2]); // argmax → [0, 1, 1, 0]
    m.update(logits, lab([0, 1, 0, 0]));
    // class 0: |G|=3,|P|=2,∩=2 → 0.8; class 1: |G|=1,|P|=2,∩=1 → 2/3
    expect(m.aggregate().value).toBeCloseTo((0.8 + 2 / 3) / 2, 10);
  });

  it("Hausdorff spacing comes from update info, else from the arg; classes must stay consistent", async () => {
    const m = await makeMetric("HausdorffDistanceMetric", { num_classes: 2, spacing: [2, 1, 1] });
    expect(m.name).toBe("hausdorff");
    m.update(lab([1, 0, 0, 0]), lab([0, 0, 1, 0]));
    expect(m.aggregate().value).toBeCloseTo(4, 6); // 2 voxels × 2 mm (arg spacing)
    m.update(lab([1, 0, 0, 0]), lab([0, 0, 1, 0]), { spacing: [3, 1, 1] });
    expect(m.result("none").values[1]).toBeCloseTo(6, 6);
    const hd95 = await makeMetric("HausdorffDistanceMetric", { num_classes: 2, percentile: 95 });
    expect(hd95.name).toBe("hd95");
    const bad = await makeMetric("DiceMetric", {});
    bad.update(lab([1, 0]), lab([1, 1]));
    expect(() => bad.update(tf.zeros([1, 2, 1, 1, 3]), tf.zeros([1, 2, 1, 1, 3]))).toThrow(
      /classes of this batch differ/,
    );
  });

  it("SurfaceDiceMetric: tolerance per class", async () => {
    const m = await makeMetric("SurfaceDiceMetric", { num_classes: 2, class_thresholds: [1.0] });
    m.update(lab([1, 1, 0, 0, 0]), lab([0, 1, 1, 1, 0]));
    // pred surface {0,1}: d = 1, 0; gt surface {1,2,3}: d = 0, 1, 2 → 4 of 5 within 1
    expect(m.aggregate().value).toBeCloseTo(0.8, 10);
  });
});
