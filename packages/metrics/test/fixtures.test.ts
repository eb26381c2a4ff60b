import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import type { ComponentDefinition } from "@voxelpipe/core";
import { beforeAll, describe, expect, it } from "vitest";
import { readSafetensors, toChannelLast } from "../../losses/test/safetensors.js";
import { computeDice } from "../src/dice.js";
import { computeHausdorffDistance } from "../src/hausdorff.js";
import { plugin } from "../src/index.js";
import type { BufferedClassMetric } from "../src/streaming.js";

const SHARED = process.env.VOXELPIPE_SHARED ?? fileURLToPath(new URL("../../../../shared", import.meta.url));
const FILE = `${SHARED}/reference/fixtures/losses_metrics.safetensors`;
const hasShared = existsSync(FILE);

/** expected and got agree: both NaN, or equal infinities, or |a − b| ≤ rtol·|b| + atol */
function agree(got: number, want: number, rtol: number, atol = 0): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= rtol * Math.abs(want) + atol;
}

describe.skipIf(!hasShared)("MONAI 1.4 metric fixtures (needs ../shared; skipped: ../shared not found)", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });
  const load = () => {
    const st = readSafetensors(FILE);
    const logits = toChannelLast(st.tensors["io.logits"]);
    const label = toChannelLast(st.tensors["io.label"]);
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
    const want = st.tensors["io.dice_metric_per_case_class"];
    const got = computeDice(pred, label, { num_classes: 14, include_background: false });
    expect([got.rows, got.cols]).toEqual(want.shape);
    expect(got.classes).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    let nans = 0;
    for (let i = 0; i < got.data.length; i++) {
      expect(agree(got.data[i], want.data[i], 1e-5), `dice[${i}] ${got.data[i]} vs ${want.data[i]}`).toBe(true);
      if (Number.isNaN(want.data[i])) nans++;
    }
    expect(nans).toBe(1); // class 3 of case 1
    expect(Number.isNaN(got.data[13 + 2])).toBe(true);
  });

  it("HD95 per case and class, spacing (1.5, 1.5, 2.0), to 1e-4 mm incl. the NaN", () => {
    const { st, label, pred } = load();
    const want = st.tensors["io.hd95_per_case_class"];
    const got = computeHausdorffDistance(pred, label, { num_classes: 14, percentile: 95, spacing: [1.5, 1.5, 2.0] });
    expect([got.rows, got.cols]).toEqual(want.shape);
    for (let i = 0; i < got.data.length; i++) {
      expect(agree(got.data[i], want.data[i], 0, 1e-4), `hd95[${i}] ${got.data[i]} vs ${want.data[i]}`).toBe(true);
    }
    // class 3 of case 1: predicted (314 voxels) but absent from the ground truth → NaN (torch lerp of inf values)
    expect(Number.isNaN(got.data[13 + 2])).toBe(true);
  });

  it("the streaming components reproduce the same values from logits tensors (argmax inside)", async () => {
    const { st, logits, label } = load();
    const mk = async (name: string, args: Record<string, unknown>) => {
      const def = plugin.components.find((d) => d.name === name) as ComponentDefinition;
      return (await def.create(def.args.parse(args), {} as never)) as BufferedClassMetric;
    };
    const dice = await mk("DiceMetric", {
      num_classes: 14,
      include_background: false,
      reduction: "none",
      argmax: true,
    });
    const hd = await mk("HausdorffDistanceMetric", {
      num_classes: 14,
      percentile: 95,
      reduction: "none",
      argmax: true,
    });
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
    const wd = st.tensors["io.dice_metric_per_case_class"].data;
    const wh = st.tensors["io.hd95_per_case_class"].data;
    for (let i = 0; i < 26; i++) {
      expect(agree(d[i], wd[i], 1e-5)).toBe(true);
      expect(agree(h[i], wh[i], 0, 1e-4)).toBe(true);
    }
    // NaN-aware mean: case 0 over 13 classes, case 1 over 12, then the mean of the two
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    const row = (r: number) => Array.from(wd.slice(r * 13, r * 13 + 13)).filter((x) => !Number.isNaN(x));
    expect(dice.result("mean").values[0]).toBeCloseTo(mean([mean(row(0)), mean(row(1))]), 6);
    const agg = dice.aggregate();
    expect(agg.detail?.["3"]).toBeCloseTo(wd[2], 6); // class 3 only valid in case 0
  });
});
