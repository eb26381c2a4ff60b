import * as tf from "@tensorflow/tfjs-core";
import { createMemoryLogger, RandomState } from "@voxelpipe/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logParity, relDiff, relErr } from "../../../test-utils/compare.js";
import { loadFixture } from "../../../test-utils/fixtures.js";
import { FIXTURES, sharedOrSkip } from "../../../test-utils/gates.js";
import { applyInit, ViTAutoEnc } from "../src/index.js";
import { BACKENDS, channelLast, useBackend } from "./helpers.js";

const need = sharedOrSkip("reference/fixtures/vitautoenc_ssl.safetensors");

/**
 * Relative error bounds: 10× the measured error rounded up (node 20, tfjs 4.22, 2026-12), the measured figure
 * beside each. recon: ‖ours − MONAI‖ / ‖MONAI‖; l1: |ours − MONAI| / |MONAI| of the scalar loss.
 */
const BOUND: Record<(typeof BACKENDS)[number], Record<string, number>> = {
  // measured cpu: recon1 1.8e-7, recon2 1.9e-7, l1 0 (bound: one float32 ulp, 2^-23, so a reordered sum passes)
  cpu: { recon1: 2e-6, recon2: 2e-6, l1: 1.2e-7 },
  // measured wasm: recon1 1.2e-7, recon2 1.2e-7, l1 7.1e-6 (wasm's float32 mean sums in another order)
  wasm: { recon1: 2e-6, recon2: 2e-6, l1: 8e-5 },
};

describe.skipIf(!need.ok)(need.title("ViTAutoEnc parity with MONAI 1.4 (vitautoenc_ssl.safetensors)"), () => {
  for (const backend of BACKENDS) {
    describe(backend, () => {
      let net: ViTAutoEnc;
      const fx = need.ok ? loadFixture("vitautoenc_ssl") : undefined;
      beforeAll(async () => {
        await useBackend(backend);
        const cfg = (fx!.meta as { config: Record<string, unknown> }).config;
        net = new ViTAutoEnc(
          {
            in_channels: cfg.in_channels as number,
            img_size: cfg.img_size as [number, number, number],
            patch_size: cfg.patch_size as [number, number, number],
            hidden_size: cfg.hidden_size as number,
            mlp_dim: cfg.mlp_dim as number,
            num_heads: cfg.num_heads as number,
            proj_type: "conv",
          },
          new RandomState(2),
        );
        const report = await applyInit(
          net,
          { from: `${FIXTURES}/vitautoenc_ssl.safetensors`, format: "monai", exclude: ["io.*"], strict: true },
          createMemoryLogger(),
        );
        expect(report.loaded.length).toBe(net.params.size);
      });
      afterAll(() => net?.dispose());

      it("reconstructs both corrupted views, and the L1 against gt_image, within BOUND", async () => {
        const gt = channelLast(fx!.get("io.gt_image"));
        const errs: Record<string, number> = {};
        for (const [view, recon] of [
          ["io.view1", "recon1"],
          ["io.view2", "recon2"],
        ]) {
          const x = channelLast(fx!.get(view));
          const y = net.apply(x);
          expect(y.shape).toEqual([2, 32, 32, 32, 1]);
          // channel-last with C = 1 has the same element order as channel-first
          errs[recon] = relErr(await y.data(), fx!.f32(`io.${recon}`));
          if (recon === "recon1") {
            const l1 = tf.tidy(() => tf.mean(tf.abs(tf.sub(y, gt))));
            errs.l1 = relDiff((await l1.data())[0], fx!.f32("io.l1")[0]);
            l1.dispose();
          }
          tf.dispose([x, y]);
        }
        gt.dispose();
        logParity(`${backend} ViTAutoEnc`, errs);
        for (const [k, e] of Object.entries(errs))
          expect(e, `${backend} ${k} rel err ${e}`).toBeLessThanOrEqual(BOUND[backend][k]);
      });
    });
  }
});
