import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { describe, expect, it } from "vitest";
import { logParity, relDiff as rel } from "../../../test-utils/compare.js";
import { loadFixture, toChannelLast } from "../../../test-utils/fixtures.js";
import { sharedOrSkip } from "../../../test-utils/gates.js";
import { contrastiveLoss } from "../src/contrastive.js";
import { diceLoss } from "../src/dice.js";
import { diceCELoss } from "../src/dice-ce.js";
import { l1Loss } from "../src/regression.js";

const need = sharedOrSkip(
  "reference/fixtures/losses_metrics.safetensors",
  "reference/fixtures/vitautoenc_ssl.safetensors",
);

/**
 * |ours − MONAI| / |MONAI| bounds: 10× the measured error rounded up (node 20, tfjs 4.22, 2026-12), so a change
 * that loses an order of magnitude of agreement with MONAI fails. Where the measured error is 0 the bound is one
 * float32 ulp (2^-23 ≈ 1.2e-7): the fixture is float32, and a reordered float32 sum may move the last bit.
 */
const BOUND: Record<"cpu" | "wasm", Record<string, number>> = {
  cpu: {
    dice_ce: 1.2e-7, // measured 0
    dice_ce_squared_batch: 7e-7, // measured 6.0e-8
    dice_nobg_jaccard: 7e-7, // measured 6.2e-8
    l1: 1.2e-7, // measured 0
    contrastive: 2e-5, // measured 1.4e-6
    total: 7e-6, // measured 6.6e-7
  },
  wasm: {
    dice_ce: 1.2e-7, // measured 0
    dice_ce_squared_batch: 7e-7, // measured 6.0e-8
    dice_nobg_jaccard: 2e-6, // measured 1.9e-7
    l1: 3e-6, // measured 2.2e-7
    contrastive: 3e-5, // measured 2.8e-6
    total: 2e-5, // measured 1.7e-6
  },
};

function expectWithin(backend: "cpu" | "wasm", what: string, errs: Record<string, number>): void {
  logParity(`${backend} ${what}`, errs);
  for (const [k, e] of Object.entries(errs))
    expect(e, `${backend} ${k} rel err ${e}`).toBeLessThanOrEqual(BOUND[backend][k]);
}

describe.skipIf(!need.ok)(need.title("MONAI 1.4 loss fixtures"), () => {
  for (const backend of ["cpu", "wasm"] as const) {
    describe(backend, () => {
      it("DiceCELoss / DiceLoss configurations match losses_metrics.safetensors (relative error within BOUND)", async () => {
        await tf.setBackend(backend);
        const st = loadFixture("losses_metrics");
        const case_ = st.meta as Record<string, string>;
        expect(case_.dice_ce).toBe("DiceCELoss(to_onehot_y=True, softmax=True)");
        const lg = toChannelLast(st.get("io.logits"));
        const lb = toChannelLast(st.get("io.label"));
        const logits = tf.tensor(lg.data, lg.shape);
        const label = tf.tensor(lb.data, lb.shape);
        const v = (t: tf.Tensor) => t.dataSync()[0];
        const ref = (k: string) => st.f32(k)[0];

        const diceCe = diceCELoss(logits, label, { to_onehot_y: true, softmax: true });
        const sqBatch = diceCELoss(logits, label, {
          to_onehot_y: true,
          softmax: true,
          squared_pred: true,
          batch: true,
        });
        const jac = diceLoss(logits, label, {
          to_onehot_y: true,
          softmax: true,
          include_background: false,
          jaccard: true,
        });
        expectWithin(backend, "DiceCE/Dice", {
          dice_ce: rel(v(diceCe), ref("io.dice_ce")),
          dice_ce_squared_batch: rel(v(sqBatch), ref("io.dice_ce_squared_batch")),
          dice_nobg_jaccard: rel(v(jac), ref("io.dice_nobg_jaccard")),
        });
        // the reference values themselves (guards against a fixture read as zeros)
        expect(ref("io.dice_ce")).toBeCloseTo(4.002274, 5);
        tf.dispose([logits, label, diceCe, sqBatch, jac]);
      });

      it("SSL losses: L1, contrastive (T=0.05) and total l1 + cl·l1 from the ViTAutoEnc reconstructions", async () => {
        await tf.setBackend(backend);
        const st = loadFixture("vitautoenc_ssl");
        const temperature = (st.meta as { temperature: number }).temperature;
        expect(temperature).toBe(0.05);
        const t = (k: string) => {
          const c = toChannelLast(st.get(k));
          return tf.tensor(c.data, c.shape);
        };
        const [r1, r2, gt] = [t("io.recon1"), t("io.recon2"), t("io.gt_image")];
        const l1 = l1Loss(r1, gt);
        const cl = contrastiveLoss(r1, r2, { temperature });
        const total = tf.add(l1, tf.mul(cl, l1));
        const ref = (k: string) => st.f32(k)[0];
        expectWithin(backend, "SSL losses", {
          l1: rel(l1.dataSync()[0], ref("io.l1")),
          contrastive: rel(cl.dataSync()[0], ref("io.contrastive")),
          total: rel(total.dataSync()[0], ref("io.total")),
        });
        tf.dispose([r1, r2, gt, l1, cl, total]);
      });
    });
  }
});
