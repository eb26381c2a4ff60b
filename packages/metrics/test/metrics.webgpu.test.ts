/**
 * The streaming Dice / HD95 components fed from webgpu tensors the way the trainer's validation
 * feeds them (argmax over classes on the GPU, values downloaded asynchronously first: webgpu in
 * Node has no synchronous read), against MONAI's fixture. SwiftShader here and in CI (a missing
 * adapter or ../shared fails under CI).
 */
import * as tf from "@tensorflow/tfjs-core";
import { engine } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { logParity, maxErrNaNAware } from "../../../test-utils/compare.js";
import { loadFixture, toChannelLast } from "../../../test-utils/fixtures.js";
import { sharedOrSkip } from "../../../test-utils/gates.js";
import { webgpuOrSkip } from "../../../test-utils/webgpu.js";
import { DICE_REL, fixtureMetrics, HD95_MM } from "./fixture-metrics.js";

const need = sharedOrSkip("reference/fixtures/losses_metrics.safetensors");
const gpu = await webgpuOrSkip();

// the metrics compute in float64 on the host: the bounds of fixtures.test.ts (fixture-metrics.ts)
describe.skipIf(!need.ok || !gpu.ok)(need.title(gpu.title(`MONAI 1.4 metric fixtures from webgpu tensors`)), () => {
  it("Dice and HD95 per case and class from a GPU argmax", async () => {
    const st = loadFixture("losses_metrics");
    const logits = toChannelLast(st.get("io.logits"));
    const label = toChannelLast(st.get("io.label"));
    const { dice, hd } = await fixtureMetrics();
    const lt = tf.tensor(logits.data, logits.shape);
    const yt = tf.tensor(label.data, label.shape);
    for (let b = 0; b < 2; b++) {
      const lb = tf.slice(lt, [b, 0, 0, 0, 0], [1, -1, -1, -1, -1]);
      const yb = tf.slice(yt, [b, 0, 0, 0, 0], [1, -1, -1, -1, -1]);
      // as segmentationValidation does: argmax on the GPU, then an asynchronous download
      const pb = tf.tidy(() => tf.expandDims(tf.argMax(lb, -1), -1));
      await Promise.all([pb.data(), yb.data()]);
      dice.update(pb, yb);
      hd.update(pb, yb, { spacing: [1.5, 1.5, 2.0] });
      tf.dispose([lb, yb, pb]);
    }
    const errs = {
      dice_rel: maxErrNaNAware(dice.result().values, st.f32("io.dice_metric_per_case_class"), true),
      hd95_mm: maxErrNaNAware(hd.result().values, st.f32("io.hd95_per_case_class"), false),
    };
    tf.dispose([lt, yt]);
    logParity("webgpu streaming Dice/HD95", errs);
    expect(errs.dice_rel).toBeLessThanOrEqual(DICE_REL);
    expect(errs.hd95_mm).toBeLessThanOrEqual(HD95_MM);
    expect(engine.takeWebgpuErrors()).toEqual([]);
  });
});
