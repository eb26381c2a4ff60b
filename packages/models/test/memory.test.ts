import * as tf from "@tensorflow/tfjs-core";
import { RandomState } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { type Network, UNETR, ViTAutoEnc } from "../src/index.js";
import { useBackend } from "./helpers.js";

/**
 * What a training pass keeps (bytes live when the loss is computed, over the weights and input)
 * and the transient peak above that, measured with tf.profile, against the networks' estimates —
 * the trainer plans micro-batches and checkpointing from them (runner/src/train/memory-plan.ts).
 */
async function measure(net: Network, shape: number[]): Promise<{ saved: number; peak: number }> {
  const x = tf.randomUniform(shape, 0, 1, "float32", 1);
  const vars = [...net.params.values()].filter((v) => v.trainable);
  const base = tf.memory().numBytes;
  let atLoss = 0;
  const prof = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => {
      const l = tf.mean(tf.square(net.apply(x, { training: true }))) as tf.Scalar;
      atLoss = tf.memory().numBytes;
      return l;
    }, vars);
    tf.dispose([value, ...Object.values(grads)]);
  });
  x.dispose();
  const params = vars.reduce((a, v) => a + 4 * v.size, 0);
  // the peak above the weights and input, less the gradients (the plan counts those with the weights)
  return { saved: atLoss - base, peak: prof.peakBytes - base - params };
}

const cases: [string, () => Network, number[]][] = [
  [
    "UNETR 48³ feature 8",
    () =>
      new UNETR(
        { in_channels: 1, out_channels: 14, img_size: 48, feature_size: 8, hidden_size: 48, mlp_dim: 96, num_heads: 4 },
        new RandomState(0),
      ),
    [1, 48, 48, 48, 1],
  ],
  [
    "UNETR 64³ feature 4, hidden 96",
    () =>
      new UNETR(
        {
          in_channels: 1,
          out_channels: 3,
          img_size: 64,
          feature_size: 4,
          hidden_size: 96,
          mlp_dim: 384,
          num_heads: 12,
        },
        new RandomState(0),
      ),
    [1, 64, 64, 64, 1],
  ],
  [
    "ViTAutoEnc 64³ hidden 192",
    () =>
      new ViTAutoEnc(
        { in_channels: 1, img_size: 64, patch_size: 16, hidden_size: 192, mlp_dim: 768, num_heads: 12 },
        new RandomState(0),
      ),
    [1, 64, 64, 64, 1],
  ],
];

describe("training memory estimates hold to what the engine keeps (wasm)", () => {
  it.each(cases)("%s, with and without checkpointing", async (_name, make, shape) => {
    await useBackend("wasm");
    for (const checkpointing of [false, true]) {
      const net = make();
      net.setGradientCheckpointing(checkpointing);
      const m = await measure(net, shape);
      const e = net.memoryEstimate!({ checkpointing });
      const estimated = e.saved + e.workspace + (e.fixed ?? 0);
      // on the safe side, never far off: measured estimate/peak 1.09–1.20 (UNETR), 1.45–1.57 (ViTAutoEnc)
      const label = `${checkpointing ? "checkpointed" : "plain"}: estimated ${estimated}, peak ${m.peak}`;
      expect(estimated / m.peak, label).toBeGreaterThan(0.95);
      expect(estimated / m.peak, label).toBeLessThan(1.7);
      net.dispose();
    }
  });
});
