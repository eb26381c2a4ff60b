import type * as tf from "@tensorflow/tfjs-core";
import { engine } from "@voxelpipe/core";
import type { ParamStore } from "../params/param-store.js";

/** PyTorch's default eps for LayerNorm and InstanceNorm (tfjs-layers defaults to 1e-3: do not use it). */
export const NORM_EPS = 1e-5;

/** nn.LayerNorm(dim) over the last axis, biased variance, eps 1e-5, γ=1 β=0 at init. */
export class LayerNorm {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    ps: ParamStore,
    readonly dim: number,
    readonly eps = NORM_EPS,
  ) {
    this.weight = ps.add("weight", [dim], { kind: "ones" });
    this.bias = ps.add("bias", [dim], { kind: "zeros" });
  }

  apply(x: tf.Tensor): tf.Tensor {
    return engine.layerNorm(x, this.weight as tf.Tensor1D, this.bias as tf.Tensor1D, this.eps);
  }
}

/**
 * InstanceNorm3d(affine=False, track_running_stats=False): per sample and channel, mean and biased
 * variance over the spatial axes of a channel-last [B, S0, S1, S2, C] tensor; no parameters,
 * identical in training and inference.
 */
export function instanceNorm(x: tf.Tensor, eps = NORM_EPS): tf.Tensor {
  return engine.instanceNorm(x as tf.Tensor5D, eps);
}

/**
 * InstanceNorm3d(affine=False) followed by LeakyReLU(0.01) (MONAI dynunet's norm → act), as one op
 * with its own gradient: the backward keeps only the output and 1/σ per (sample, channel).
 */
export function instanceNormLeakyRelu(x: tf.Tensor, slope = 0.01, eps = NORM_EPS): tf.Tensor {
  return engine.instanceNormLeakyRelu(x, slope, eps);
}
