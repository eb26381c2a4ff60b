import * as tf from "@tensorflow/tfjs-core";
import { RandomState } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { type Network, UNETR, ViTAutoEnc } from "../src/index.js";
import { BACKENDS, useBackend } from "./helpers.js";

/** loss and every trainable parameter's gradient of mean((net(x) − t)²) */
function lossAndGrads(
  net: Network,
  x: tf.Tensor,
  target: tf.Tensor,
): { loss: number; grads: Map<string, Float32Array> } {
  const named = [...net.params].filter(([, v]) => v.trainable);
  const { value, grads } = tf.variableGrads(
    () => tf.mean(tf.square(tf.sub(net.apply(x, { training: true }), target))) as tf.Scalar,
    named.map(([, v]) => v),
  );
  const out = new Map<string, Float32Array>();
  for (const [k, v] of named) out.set(k, grads[v.name].dataSync() as Float32Array);
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, grads: out };
}

function maxRelDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let worst = 0;
  for (const [k, ga] of a) {
    const gb = b.get(k)!;
    let num = 0;
    let den = 0;
    for (let i = 0; i < ga.length; i++) {
      num = Math.max(num, Math.abs(ga[i] - gb[i]));
      den = Math.max(den, Math.abs(ga[i]));
    }
    worst = Math.max(worst, den > 0 ? num / den : num);
  }
  return worst;
}

const data = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, "float32", seed);

describe.each(BACKENDS)("activation checkpointing on %s: same loss and gradients, less memory kept", (backend) => {
  it("UNETR: every parameter's gradient equals the plain backward's", async () => {
    await useBackend(backend);
    const args = {
      in_channels: 1,
      out_channels: 3,
      img_size: 16,
      feature_size: 4,
      hidden_size: 24,
      mlp_dim: 48,
      num_heads: 2,
    };
    const net = new UNETR(args, new RandomState(3));
    const x = data([2, 16, 16, 16, 1], 1);
    const t = data([2, 16, 16, 16, 3], 2);
    const before = tf.memory().numTensors;
    const plain = lossAndGrads(net, x, t);
    net.setGradientCheckpointing(true);
    const ckpt = lossAndGrads(net, x, t);
    expect(tf.memory().numTensors).toBe(before); // the recomputation leaks nothing
    expect(ckpt.loss).toBe(plain.loss); // the forward is the same computation
    expect(ckpt.grads.size).toBe(plain.grads.size);
    // measured: 0 on cpu and wasm (same kernels, same order); allow round-off of a re-ordered sum
    expect(maxRelDiff(ckpt.grads, plain.grads)).toBeLessThan(1e-6);
    tf.dispose([x, t]);
    net.dispose();
  });

  it("ViTAutoEnc with dropout: the recomputation replays the forward's masks", async () => {
    await useBackend(backend);
    const args = {
      in_channels: 1,
      img_size: 32,
      patch_size: 16,
      hidden_size: 24,
      mlp_dim: 48,
      num_heads: 2,
      num_layers: 3,
      dropout_rate: 0.3,
    };
    // two identically seeded networks: their dropout streams are in the same state
    const a = new ViTAutoEnc(args, new RandomState(5));
    const b = new ViTAutoEnc(args, new RandomState(5));
    b.setGradientCheckpointing(true);
    const x = data([2, 32, 32, 32, 1], 3);
    const t = data([2, 32, 32, 32, 1], 4);
    const plain = lossAndGrads(a, x, t);
    const ckpt = lossAndGrads(b, x, t);
    expect(ckpt.loss).toBe(plain.loss);
    expect(maxRelDiff(ckpt.grads, plain.grads)).toBeLessThan(1e-6);
    tf.dispose([x, t]);
    a.dispose();
    b.dispose();
  });

  // (the cpu backend's native conv3d makes this minutes there; the bookkeeping is backend-independent)
  it.runIf(backend === "wasm")("keeps less for the backward: peak bytes of a UNETR step drop", async () => {
    await useBackend(backend);
    const args = {
      in_channels: 1,
      out_channels: 3,
      img_size: 32,
      feature_size: 8,
      hidden_size: 24,
      mlp_dim: 48,
      num_heads: 2,
    };
    const net = new UNETR(args, new RandomState(3));
    const x = data([1, 32, 32, 32, 1], 1);
    const t = data([1, 32, 32, 32, 3], 2);
    const peak = async () =>
      (
        await tf.profile(() => {
          lossAndGrads(net, x, t);
        })
      ).peakBytes;
    const plain = await peak();
    net.setGradientCheckpointing(true);
    const ckpt = await peak();
    // measured 0.61 on wasm (feature 8 at 32³; larger volumes gain more)
    expect(ckpt).toBeLessThan(0.75 * plain);
    tf.dispose([x, t]);
    net.dispose();
  });
});
