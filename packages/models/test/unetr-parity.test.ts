import * as tf from "@tensorflow/tfjs-core";
import { createMemoryLogger, RandomState } from "@voxelpipe/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyInit, UNETR } from "../src/index.js";
import { BACKENDS, channelLast, FIXTURES, hasShared, loadFixture, relErr, SKIP_NOTE, useBackend } from "./helpers.js";

describe.skipIf(!hasShared)(`UNETR parity with MONAI 1.4 (unetr.safetensors) ${SKIP_NOTE}`, () => {
  for (const backend of BACKENDS) {
    describe(backend, () => {
      let net: UNETR;
      const fx = hasShared ? loadFixture("unetr") : undefined;
      beforeAll(async () => {
        await useBackend(backend);
        const cfg = (fx!.meta as { config: Record<string, unknown> }).config;
        net = new UNETR(
          {
            in_channels: cfg.in_channels as number,
            out_channels: cfg.out_channels as number,
            img_size: cfg.img_size as [number, number, number],
            feature_size: cfg.feature_size as number,
            hidden_size: cfg.hidden_size as number,
            mlp_dim: cfg.mlp_dim as number,
            num_heads: cfg.num_heads as number,
            proj_type: "conv",
            norm_name: "instance",
            res_block: true,
            conv_block: true,
          },
          new RandomState(1),
        );
        const logger = createMemoryLogger();
        // the fixture's weights are a MONAI state dict; io.* are inputs/outputs, not parameters
        const report = await applyInit(
          net,
          { from: `${FIXTURES}/unetr.safetensors`, format: "monai", exclude: ["io.*"], strict: true },
          logger,
        );
        expect(report.missing).toEqual([]);
        expect(report.loaded.length).toBe(net.params.size);
      });
      afterAll(() => net?.dispose());

      it("matches ViT output, hidden states 3/6/9 and logits to ≤ 1e-4 relative", async () => {
        const x = channelLast(fx!.tensors.get("io.input")!);
        const before = tf.memory().numTensors;
        const { logits, vitOut, hidden } = net.forwardWithHidden(x);
        expect(hidden.length).toBe(12);
        const errs: Record<string, number> = {
          vit_out: relErr(await vitOut.data(), fx!.tensors.get("io.vit_out")!.data as Float32Array),
          hidden_3: relErr(await hidden[3].data(), fx!.tensors.get("io.hidden_3")!.data as Float32Array),
          hidden_6: relErr(await hidden[6].data(), fx!.tensors.get("io.hidden_6")!.data as Float32Array),
          hidden_9: relErr(await hidden[9].data(), fx!.tensors.get("io.hidden_9")!.data as Float32Array),
        };
        const ref = channelLast(fx!.tensors.get("io.output")!);
        expect(logits.shape).toEqual([1, 32, 32, 32, 3]);
        errs.logits = relErr(await logits.data(), await ref.data());
        for (const [k, e] of Object.entries(errs)) expect(e, `${backend} ${k} rel err ${e}`).toBeLessThan(1e-4);
        // the errors must be real float32 noise, not a coincidental pass on zeros
        const peak = tf.tidy(() => tf.max(tf.abs(logits)));
        expect((await peak.data())[0]).toBeGreaterThan(0.1);
        peak.dispose();
        console.log(`${backend} UNETR rel errors`, JSON.stringify(errs));
        tf.dispose([logits, vitOut, ...hidden, ref]);
        // no tensors leak from a forward pass beyond the returned ones we just disposed
        expect(tf.memory().numTensors).toBe(before);
        x.dispose();
      });
    });
  }
});
