import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { expect, it } from "vitest";
it("grad", async () => {
  await tf.setBackend("cpu");
  console.log("has Sum grad before:", !!tf.getGradient?.("Sum"));
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, x)))(tf.tensor([1, 2, 3]));
  expect(Array.from(g.dataSync())).toEqual([2, 4, 6]);
});
