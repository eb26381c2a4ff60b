import { defineLoss, type Loss, tf, z } from "@voxelpipe/core";

/** Huber (smooth L1) loss: quadratic within delta, linear beyond (PyTorch's HuberLoss). */
export const HuberLossDef = defineLoss({
  name: "HuberLoss",
  description: "Huber loss, mean over elements (example plugin)",
  args: z.object({ delta: z.number().positive().default(1).describe("where quadratic turns linear") }),
  create: (a): Loss => ({
    compute: ([pred, target]) =>
      tf.tidy(() => {
        const d = tf.abs(tf.sub(pred, target));
        const quad = tf.minimum(d, a.delta);
        return tf.mean(tf.add(tf.mul(tf.square(quad), 0.5), tf.mul(tf.sub(d, quad), a.delta))) as tf.Scalar;
      }),
  }),
});
