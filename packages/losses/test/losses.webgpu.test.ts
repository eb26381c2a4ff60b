/**
 * The MONAI loss fixtures (DiceCE/Dice configurations, the SSL L1 + contrastive) on the webgpu
 * backend, as fixtures.test.ts does on cpu and wasm, plus the DiceCE gradient against wasm.
 * SwiftShader here and in CI (a missing adapter or ../shared fails under CI).
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { engine } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { switchBackend } from "../../../test-utils/backend.js";
import { logParity, relDiff as rel, relErr } from "../../../test-utils/compare.js";
import { loadFixture, toChannelLast } from "../../../test-utils/fixtures.js";
import { sharedOrSkip } from "../../../test-utils/gates.js";
import { webgpuOrSkip } from "../../../test-utils/webgpu.js";
import { contrastiveLoss } from "../src/contrastive.js";
import { diceLoss } from "../src/dice.js";
import { diceCELoss } from "../src/dice-ce.js";
import { l1Loss } from "../src/regression.js";

const need = sharedOrSkip(
  "reference/fixtures/losses_metrics.safetensors",
  "reference/fixtures/vitautoenc_ssl.safetensors",
);
const gpu = await webgpuOrSkip();

/**
 * One float32 ulp, relative: both sides are float32, so they differ by a whole number of the value's ulp, and
 * ulp(v) / v ≤ 2^-23 < 2 ulp(v) / v for any v: this bound admits exactly one ulp.
 */
const ONE_ULP = 2 ** -23;

/** relative error bounds on webgpu (SwiftShader): ~10× the measured error, one ulp where 0 was measured */
const BOUND: Record<string, number> = {
  dice_ce: ONE_ULP, // measured 0 (3 runs, SwiftShader via Dawn, tfjs 4.22)
  dice_ce_squared_batch: ONE_ULP, // measured 0 (3 runs, SwiftShader via Dawn, tfjs 4.22)
  dice_nobg_jaccard: 7e-7, // measured 6.2e-8
  l1: ONE_ULP, // measured 0 (4 runs, SwiftShader via Dawn, tfjs 4.22)
  contrastive: 2e-5, // measured 1.4e-6
  total: 1e-5, // measured 7.3e-7 (1.0e-6 in the SSL step test)
  dice_ce_grad: 5e-7, // measured 4.4e-8 (vs wasm)
};

const value = async (t: tf.Tensor) => (await t.data())[0];

describe.skipIf(!need.ok || !gpu.ok)(need.title(gpu.title(`MONAI 1.4 loss fixtures on webgpu`)), () => {
  it("DiceCE / Dice configurations, the SSL losses, and the DiceCE gradient (vs wasm)", async () => {
    const st = loadFixture("losses_metrics");
    const lg = toChannelLast(st.get("io.logits"));
    const lb = toChannelLast(st.get("io.label"));
    const logits = tf.tensor(lg.data, lg.shape);
    const label = tf.tensor(lb.data, lb.shape);
    const ref = (k: string) => st.f32(k)[0];
    const diceCe = diceCELoss(logits, label, { to_onehot_y: true, softmax: true });
    const sqBatch = diceCELoss(logits, label, { to_onehot_y: true, softmax: true, squared_pred: true, batch: true });
    const jac = diceLoss(logits, label, { to_onehot_y: true, softmax: true, include_background: false, jaccard: true });
    const errs: Record<string, number> = {
      dice_ce: rel(await value(diceCe), ref("io.dice_ce")),
      dice_ce_squared_batch: rel(await value(sqBatch), ref("io.dice_ce_squared_batch")),
      dice_nobg_jaccard: rel(await value(jac), ref("io.dice_nobg_jaccard")),
    };
    const grad = (x: tf.Tensor, y: tf.Tensor) =>
      tf.grad((z: tf.Tensor) => diceCELoss(z, y, { to_onehot_y: true, softmax: true }))(x);
    const g = grad(logits, label);
    const gWebgpu = await g.data();
    tf.dispose([diceCe, sqBatch, jac, g]);

    const ssl = loadFixture("vitautoenc_ssl");
    const t = (k: string) => {
      const c = toChannelLast(ssl.get(k));
      return tf.tensor(c.data, c.shape);
    };
    const [r1, r2, gt] = [t("io.recon1"), t("io.recon2"), t("io.gt_image")];
    const l1 = l1Loss(r1, gt);
    const cl = contrastiveLoss(r1, r2, { temperature: 0.05 });
    const total = tf.add(l1, tf.mul(cl, l1));
    errs.l1 = rel(await value(l1), ssl.f32("io.l1")[0]);
    errs.contrastive = rel(await value(cl), ssl.f32("io.contrastive")[0]);
    errs.total = rel(await value(total), ssl.f32("io.total")[0]);
    tf.dispose([r1, r2, gt, l1, cl, total, logits, label]);
    expect(engine.takeWebgpuErrors()).toEqual([]);

    // the same gradient on wasm (its own parity is covered by gradients.test.ts)
    await switchBackend("wasm");
    const [lw, yw] = [tf.tensor(lg.data, lg.shape), tf.tensor(lb.data, lb.shape)];
    const gw = grad(lw, yw);
    errs.dice_ce_grad = relErr(gWebgpu, await gw.data());
    tf.dispose([lw, yw, gw]);
    await switchBackend("webgpu");

    expect(ref("io.dice_ce")).toBeCloseTo(4.002274, 5);
    logParity("webgpu losses", errs);
    for (const [k, e] of Object.entries(errs)) expect(e, `webgpu ${k}`).toBeLessThanOrEqual(BOUND[k]);
  });
});
