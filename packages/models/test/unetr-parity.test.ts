import * as tf from "@tensorflow/tfjs-core";
import { createMemoryLogger, RandomState } from "@voxelpipe/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logParity, relErr } from "../../../test-utils/compare.js";
import { loadFixture } from "../../../test-utils/fixtures.js";
import { FIXTURES, sharedOrSkip } from "../../../test-utils/gates.js";
import { applyInit, UNETR } from "../src/index.js";
import { BACKENDS, channelLast, useBackend } from "./helpers.js";

const need = sharedOrSkip("reference/fixtures/unetr.safetensors");

/**
 * ‖ours − MONAI‖ / ‖MONAI‖ bounds: 10× the measured error rounded up (node 20, tfjs 4.22, 2026-12); the measured
 * figure is beside each. An order of magnitude lost against MONAI fails.
 */
const BOUND: Record<(typeof BACKENDS)[number], Record<string, number>> = {
  // measured cpu:  vit_out 5.5e-7, hidden_3 6.5e-7, hidden_6 5.9e-7, hidden_9 5.9e-7, logits 6.9e-7
  cpu: { vit_out: 6e-6, hidden_3: 7e-6, hidden_6: 6e-6, hidden_9: 6e-6, logits: 7e-6 },
  // measured wasm: vit_out 4.1e-7, hidden_3 3.7e-7, hidden_6 3.9e-7, hidden_9 4.0e-7, logits 5.9e-7
  wasm: { vit_out: 5e-6, hidden_3: 4e-6, hidden_6: 4e-6, hidden_9: 4e-6, logits: 6e-6 },
};

describe.skipIf(!need.ok)(need.title("UNETR parity with MONAI 1.4 (unetr.safetensors)"), () => {
  for (const backend of BACKENDS) {
    describe(backend, () => {
      let net: UNETR;
      const fx = need.ok ? loadFixture("unetr") : undefined;
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

      it("matches ViT output, hidden states 3/6/9 and logits within BOUND", async () => {
        const x = channelLast(fx!.get("io.input"));
        const before = tf.memory().numTensors;
        const { logits, vitOut, hidden } = net.forwardWithHidden(x);
        expect(hidden.length).toBe(12);
        const errs: Record<string, number> = {
          vit_out: relErr(await vitOut.data(), fx!.f32("io.vit_out")),
          hidden_3: relErr(await hidden[3].data(), fx!.f32("io.hidden_3")),
          hidden_6: relErr(await hidden[6].data(), fx!.f32("io.hidden_6")),
          hidden_9: relErr(await hidden[9].data(), fx!.f32("io.hidden_9")),
        };
        const ref = channelLast(fx!.get("io.output"));
        expect(logits.shape).toEqual([1, 32, 32, 32, 3]);
        errs.logits = relErr(await logits.data(), await ref.data());
        logParity(`${backend} UNETR`, errs);
        for (const [k, e] of Object.entries(errs))
          expect(e, `${backend} ${k} rel err ${e}`).toBeLessThanOrEqual(BOUND[backend][k]);
        // the errors must be real float32 noise, not a coincidental pass on zeros
        const peak = tf.tidy(() => tf.max(tf.abs(logits)));
        expect((await peak.data())[0]).toBeGreaterThan(0.1);
        peak.dispose();
        tf.dispose([logits, vitOut, ...hidden, ref]);
        // no tensors leak from a forward pass beyond the returned ones we just disposed
        expect(tf.memory().numTensors).toBe(before);
        x.dispose();
      });
    });
  }
});
