import * as tf from "@tensorflow/tfjs-core";

const INV_SQRT2 = Math.SQRT1_2;

/** Exact (erf) GELU as PyTorch nn.GELU(): 0.5·x·(1 + erf(x/√2)). Not the tanh approximation. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, INV_SQRT2)), 1)));
}

/** MONAI's dynunet blocks use LeakyReLU with negative_slope 0.01. */
export const LEAKY_SLOPE = 0.01;

export function leakyRelu(x: tf.Tensor): tf.Tensor {
  return tf.leakyRelu(x, LEAKY_SLOPE);
}
