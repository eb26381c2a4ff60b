import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { beforeAll, describe, expect, it } from "vitest";
import { logParity, maxErrNaNAware } from "../../../test-utils/compare.js";
import { loadFixture, toChannelLast } from "../../../test-utils/fixtures.js";
import { sharedOrSkip } from "../../../test-utils/gates.js";
import { computeDice } from "../src/dice.js";
import { computeHausdorffDistance } from "../src/hausdorff.js";
import { DICE_REL, fixtureMetrics, HD95_MM } from "./fixture-metrics.js";

const need = sharedOrSkip("reference/fixtures/losses_metrics.safetensors");

describe.skipIf(!need.ok)(need.title("MONAI 1.4 metric fixtures"), () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });
  const load = () => {
    const st = loadFixture("losses_metrics");
    const logits = toChannelLast(st.get("io.logits"));
    const label = toChannelLast(st.get("io.label"));
    // pred = argmax of logits over classes (the fixture's "pred")
    const c = logits.shape[4];
    const pred = new Float32Array(label.data.length);
    for (let v = 0; v < pred.length; v++) {
      let best = 0;
      for (let k = 1; k < c; k++) if (logits.data[v * c + k] > logits.data[v * c + best]) best = k;
      pred[v] = best;
    }
    return { st, logits, label, pred: { data: pred, shape: label.shape } };
  };

  it("Dice per case and class (include_background=false) with the NaN of the absent class", () => {
    const { st, label, pred } = load();
    const want = st.get("io.dice_metric_per_case_class");
    const got = computeDice(pred, label, { num_classes: 14, include_background: false });
    expect([got.rows, got.cols]).toEqual(want.shape);
    expect(got.classes).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    const err = maxErrNaNAware(got.data, want.data as Float32Array, true);
    logParity("Dice per case and class", { rel: err });
    expect(err).toBeLessThanOrEqual(DICE_REL);
    let nans = 0;
    for (const w of want.data as Float32Array) if (Number.isNaN(w)) nans++;
    expect(nans).toBe(1); // class 3 of case 1
    expect(Number.isNaN(got.data[13 + 2])).toBe(true);
  });

  it("HD95 per case and class, spacing (1.5, 1.5, 2.0), within HD95_MM incl. the NaN", () => {
    const { st, label, pred } = load();
    const want = st.get("io.hd95_per_case_class");
    const got = computeHausdorffDistance(pred, label, { num_classes: 14, percentile: 95, spacing: [1.5, 1.5, 2.0] });
    expect([got.rows, got.cols]).toEqual(want.shape);
    const err = maxErrNaNAware(got.data, want.data as Float32Array, false);
    logParity("HD95 per case and class", { mm: err });
    expect(err).toBeLessThanOrEqual(HD95_MM);
    // class 3 of case 1: predicted (314 voxels) but absent from the ground truth → NaN (torch lerp of inf values)
    expect(Number.isNaN(got.data[13 + 2])).toBe(true);
  });

  it("the streaming components reproduce the same values from logits tensors (argmax inside)", async () => {
    const { st, logits, label } = load();
    const { dice, hd } = await fixtureMetrics();
    const lt = tf.tensor(logits.data, logits.shape);
    const yt = tf.tensor(label.data, label.shape);
    // one case per update: the buffer concatenates them
    for (let b = 0; b < 2; b++) {
      const lb = tf.slice(lt, [b, 0, 0, 0, 0], [1, -1, -1, -1, -1]);
      const yb = tf.slice(yt, [b, 0, 0, 0, 0], [1, -1, -1, -1, -1]);
      dice.update(lb, yb);
      hd.update(lb, yb, { spacing: [1.5, 1.5, 2.0] });
    }
    const d = dice.result().values;
    const h = hd.result().values;
    const wd = st.f32("io.dice_metric_per_case_class");
    const wh = st.f32("io.hd95_per_case_class");
    expect([d.length, h.length]).toEqual([26, 26]);
    const errs = { dice_rel: maxErrNaNAware(d, wd, true), hd95_mm: maxErrNaNAware(h, wh, false) };
    logParity("streaming Dice/HD95", errs);
    expect(errs.dice_rel).toBeLessThanOrEqual(DICE_REL);
    expect(errs.hd95_mm).toBeLessThanOrEqual(HD95_MM);
    // NaN-aware mean: case 0 over 13 classes, case 1 over 12, then the mean of the two
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    const row = (r: number) => Array.from(wd.slice(r * 13, r * 13 + 13)).filter((x) => !Number.isNaN(x));
    expect(dice.result("mean").values[0]).toBeCloseTo(mean([mean(row(0)), mean(row(1))]), 6);
    const agg = dice.aggregate();
    expect(agg.detail?.["3"]).toBeCloseTo(wd[2], 6); // class 3 only valid in case 0
  });
});
