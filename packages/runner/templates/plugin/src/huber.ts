import { defineLoss, tf, z } from "@voxelpipe/core";

/** Huber (smooth L1) loss: quadratic within delta, linear beyond; the mean over all elements. */
export const HuberLossDef = defineLoss({
  name: "HuberLoss",
  description: "Huber loss, mean over elements",
  args: z.object({ delta: z.number().positive().default(1).describe("where quadratic turns linear") }),
  create: (a) => ({
    // the mean over equally sized samples is the mean of the per-sample means: micro-batches may split it
    batchReduction: "mean",
    compute: ([pred, target]) =>
      tf.tidy(() => {
        const d = tf.abs(tf.sub(pred, target));
        const q = tf.minimum(d, a.delta);
        return tf.mean(tf.add(tf.mul(tf.square(q), 0.5), tf.mul(tf.sub(d, q), a.delta)));
      }),
  }),
});
