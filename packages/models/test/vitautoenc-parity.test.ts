import * as tf from "@tensorflow/tfjs-core";
import { createMemoryLogger, RandomState } from "@voxelpipe/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyInit, ViTAutoEnc } from "../src/index.js";
import { BACKENDS, channelLast, FIXTURES, hasShared, loadFixture, relErr, SKIP_NOTE, useBackend } from "./helpers.js";

describe.skipIf(!hasShared)(`ViTAutoEnc parity with MONAI 1.4 (vitautoenc_ssl.safetensors) ${SKIP_NOTE}`, () => {
  for (const backend of BACKENDS) {
    describe(backend, () => {
      let net: ViTAutoEnc;
      const fx = hasShared ? loadFixture("vitautoenc_ssl") : undefined;
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

      it("reconstructs both corrupted views to ≤ 1e-4 relative, and the L1 against gt_image matches", async () => {
        const gt = channelLast(fx!.tensors.get("io.gt_image")!);
        for (const [view, recon] of [
          ["io.view1", "io.recon1"],
          ["io.view2", "io.recon2"],
        ]) {
          const x = channelLast(fx!.tensors.get(view)!);
          const y = net.apply(x);
          expect(y.shape).toEqual([2, 32, 32, 32, 1]);
          // channel-last with C = 1 has the same element order as channel-first
          const e = relErr(await y.data(), fx!.tensors.get(recon)!.data as Float32Array);
          expect(e, `${backend} ${recon} rel err ${e}`).toBeLessThan(1e-4);
          if (recon === "io.recon1") {
            const l1 = tf.tidy(() => tf.mean(tf.abs(tf.sub(y, gt))));
            const ref = (fx!.tensors.get("io.l1")!.data as Float32Array)[0];
            expect(Math.abs((await l1.data())[0] - ref) / ref).toBeLessThan(1e-5);
            l1.dispose();
          }
          tf.dispose([x, y]);
        }
        gt.dispose();
      });
    });
  }
});
