/**
 * The lean backward pass (engine/lean-tape.ts): the same gradients, bit for bit, as tfjs' own
 * engine.gradients, with intermediate gradients and saved tensors freed as the walk goes.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, describe, expect, it } from "vitest";
import { conv3d, installLeanBackprop, prepareBackend, uninstallLeanBackprop } from "../src/engine/index.js";

/** a small conv net with a shared input (two paths), a pass-through gradient and a broadcast */
function net(x: tf.Tensor5D, w1: tf.Variable, w2: tf.Variable, b: tf.Variable): tf.Scalar {
  const h = tf.relu(conv3d(x, w1 as tf.Tensor5D));
  const g = tf.add(conv3d(h, w2 as tf.Tensor5D), h); // h used twice: its gradient accumulates
  const y = tf.add(tf.sigmoid(tf.clone(g)), b); // Identity passes dy through unchanged
  return tf.mean(tf.square(y));
}

describe.each(["cpu", "wasm"])("lean backprop on %s", (backend) => {
  afterAll(() => installLeanBackprop());

  it("gives tfjs' gradients bit for bit, with a lower peak and no leaks", async () => {
    await tf.setBackend(backend);
    prepareBackend(backend);
    const x = tf.randomUniform([2, 12, 12, 12, 3], -1, 1, "float32", 1) as tf.Tensor5D;
    const w1 = tf.variable(tf.randomNormal([3, 3, 3, 3, 8], 0, 0.3, "float32", 2));
    const w2 = tf.variable(tf.randomNormal([3, 3, 3, 8, 8], 0, 0.3, "float32", 3));
    const b = tf.variable(tf.randomNormal([8], 0, 0.1, "float32", 4));
    const run = async () => {
      let out: Float32Array[] = [];
      const before = tf.memory().numTensors;
      const prof = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => net(x, w1, w2, b), [w1, w2, b]);
        out = [value, grads[w1.name], grads[w2.name], grads[b.name]].map((t) => t.dataSync() as Float32Array);
        tf.dispose([value, ...Object.values(grads)]);
      });
      expect(tf.memory().numTensors).toBe(before);
      return { out, peak: prof.peakBytes };
    };
    expect(installLeanBackprop()).toBe(true);
    const lean = await run();
    uninstallLeanBackprop();
    const stock = await run();
    installLeanBackprop();
    for (let i = 0; i < stock.out.length; i++) expect(lean.out[i]).toEqual(stock.out[i]);
    expect(lean.peak).toBeLessThan(stock.peak);
    tf.dispose([x, w1, w2, b]);
  });

  it("keeps a caller's dy and a gradient with respect to an intermediate", async () => {
    await tf.setBackend(backend);
    prepareBackend(backend);
    const a = tf.tensor1d([1, 2, 3]);
    const dy = tf.tensor1d([1, -1, 2]);
    const g = tf.grad((t: tf.Tensor) => tf.mul(tf.exp(t), 2))(a, dy);
    expect(Array.from(g.dataSync())).toEqual(Array.from(tf.mul(tf.exp(a), tf.mul(dy, 2)).dataSync()));
    expect(dy.isDisposed).toBe(false);
    tf.dispose([a, dy, g]);
  });
});
