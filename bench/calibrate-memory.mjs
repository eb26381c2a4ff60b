#!/usr/bin/env node
// What a training pass of UNETR / ViTAutoEnc keeps on wasm, measured with tf.profile, beside the
// networks' own estimates (packages/models/src/nets/memory.ts). Re-run it after an engine change
// that alters what the backward keeps, and refit the coefficients there if the ratios drift
// (packages/models/test/memory.test.ts holds them to 0.95–1.7 of the measured peak).
// Usage (after `npm run build`):
//   node bench/calibrate-memory.mjs unetr '[{"img_size":48,"feature_size":8,"hidden_size":48,"mlp_dim":96,"num_heads":4,"out_channels":14}]'
//   node bench/calibrate-memory.mjs vitae '[{"img_size":64,"hidden_size":192,"mlp_dim":768,"num_heads":12,"B":2}]'
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { engine, RandomState } from "../packages/core/dist/index.js";
import { UNETR, ViTAutoEnc } from "../packages/models/dist/index.js";

await tf.setBackend("wasm");
await tf.ready();
engine.prepareBackend("wasm");
const kind = process.argv[2] ?? "unetr";
const configs = JSON.parse(
  process.argv[3] ?? '[{"img_size":32,"feature_size":8,"hidden_size":48,"mlp_dim":96,"num_heads":4,"out_channels":14}]',
);
const mb = (b) => +(b / 2 ** 20).toFixed(1);

for (const { B = 1, ...cfg } of configs) {
  for (const checkpointing of [false, true]) {
    const S = cfg.img_size;
    const net =
      kind === "unetr"
        ? new UNETR({ in_channels: 1, ...cfg }, new RandomState(0))
        : new ViTAutoEnc({ in_channels: 1, patch_size: 16, ...cfg }, new RandomState(0));
    net.setGradientCheckpointing(checkpointing);
    const x = tf.randomUniform([B, S, S, S, 1]);
    const vars = [...net.params.values()].filter((v) => v.trainable);
    const base = tf.memory().numBytes;
    let atLoss = 0;
    const prof = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => {
        const loss = tf.mean(tf.square(net.apply(x, { training: true })));
        atLoss = tf.memory().numBytes;
        return loss;
      }, vars);
      tf.dispose([value, ...Object.values(grads)]);
    });
    const params = vars.reduce((a, v) => a + 4 * v.size, 0);
    const e = net.memoryEstimate({ checkpointing });
    const estimated = B * (e.saved + e.workspace) + (e.fixed ?? 0);
    const peak = prof.peakBytes - base - params;
    console.log(
      JSON.stringify({
        net: kind,
        B,
        ...cfg,
        checkpointing,
        saved_mb: mb(atLoss - base),
        peak_mb: mb(peak),
        estimated_mb: mb(estimated),
        ratio: +(estimated / peak).toFixed(2),
      }),
    );
    tf.dispose(x);
    net.dispose();
  }
}
