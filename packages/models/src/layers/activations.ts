import type * as tf from "@tensorflow/tfjs-core";
import { engine } from "@voxelpipe/core";

/** Exact (erf) GELU as PyTorch nn.GELU(): 0.5·x·(1 + erf(x/√2)). Not the tanh approximation. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return engine.gelu(x);
}

/** MONAI's dynunet blocks use LeakyReLU with negative_slope 0.01. */
export const LEAKY_SLOPE = 0.01;

export function leakyRelu(x: tf.Tensor): tf.Tensor {
  return engine.leakyRelu(x, LEAKY_SLOPE);
}
