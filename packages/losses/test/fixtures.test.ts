import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { describe, expect, it } from "vitest";
import { contrastiveLoss } from "../src/contrastive.js";
import { diceLoss } from "../src/dice.js";
import { diceCELoss } from "../src/dice-ce.js";
import { l1Loss } from "../src/regression.js";
import { readSafetensors, toChannelLast } from "./safetensors.js";

const SHARED = process.env.VOXELPIPE_SHARED ?? fileURLToPath(new URL("../../../../shared", import.meta.url));
const FIX = `${SHARED}/reference/fixtures`;
const hasShared = existsSync(`${FIX}/losses_metrics.safetensors`);

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

describe.skipIf(!hasShared)("MONAI 1.4 loss fixtures (needs ../shared; skipped: ../shared not found)", () => {
  for (const backend of ["cpu", "wasm"]) {
    describe(backend, () => {
      it("DiceCELoss / DiceLoss configurations match losses_metrics.safetensors to 1e-5 relative", async () => {
        await tf.setBackend(backend);
        const st = readSafetensors(`${FIX}/losses_metrics.safetensors`);
        const case_ = JSON.parse(st.metadata.case) as Record<string, string>;
        expect(case_.dice_ce).toBe("DiceCELoss(to_onehot_y=True, softmax=True)");
        const lg = toChannelLast(st.tensors["io.logits"]);
        const lb = toChannelLast(st.tensors["io.label"]);
        const logits = tf.tensor(lg.data, lg.shape);
        const label = tf.tensor(lb.data, lb.shape);
        const v = (t: tf.Tensor) => t.dataSync()[0];
        const ref = (k: string) => st.tensors[k].data[0];

        const diceCe = diceCELoss(logits, label, { to_onehot_y: true, softmax: true });
        expect(rel(v(diceCe), ref("io.dice_ce"))).toBeLessThan(1e-5);
        const sqBatch = diceCELoss(logits, label, {
          to_onehot_y: true,
          softmax: true,
          squared_pred: true,
          batch: true,
        });
        expect(rel(v(sqBatch), ref("io.dice_ce_squared_batch"))).toBeLessThan(1e-5);
        const jac = diceLoss(logits, label, {
          to_onehot_y: true,
          softmax: true,
          include_background: false,
          jaccard: true,
        });
        expect(rel(v(jac), ref("io.dice_nobg_jaccard"))).toBeLessThan(1e-5);
        // the reference values themselves (guards against a fixture read as zeros)
        expect(ref("io.dice_ce")).toBeCloseTo(4.002274, 5);
        tf.dispose([logits, label, diceCe, sqBatch, jac]);
      });

      it("SSL losses: L1, contrastive (T=0.05) and total l1 + cl·l1 from the ViTAutoEnc reconstructions", async () => {
        await tf.setBackend(backend);
        const st = readSafetensors(`${FIX}/vitautoenc_ssl.safetensors`);
        const temperature = (JSON.parse(st.metadata.case) as { temperature: number }).temperature;
        expect(temperature).toBe(0.05);
        const t = (k: string) => {
          const c = toChannelLast(st.tensors[k]);
          return tf.tensor(c.data, c.shape);
        };
        const [r1, r2, gt] = [t("io.recon1"), t("io.recon2"), t("io.gt_image")];
        const l1 = l1Loss(r1, gt);
        const cl = contrastiveLoss(r1, r2, { temperature });
        const total = tf.add(l1, tf.mul(cl, l1));
        const ref = (k: string) => st.tensors[k].data[0];
        expect(rel(l1.dataSync()[0], ref("io.l1"))).toBeLessThan(1e-5);
        expect(rel(cl.dataSync()[0], ref("io.contrastive"))).toBeLessThan(1e-5);
        expect(rel(total.dataSync()[0], ref("io.total"))).toBeLessThan(1e-5);
        tf.dispose([r1, r2, gt, l1, cl, total]);
      });
    });
  }
});
