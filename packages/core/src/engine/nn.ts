/**
 * Small layer helpers with MONAI/PyTorch numerics (monai-semantics.md §3): exact-erf GELU,
 * LayerNorm and InstanceNorm with eps 1e-5, LeakyReLU slope 0.01, and a Linear that always
 * issues a rank-2 matMul (the one case stock tfjs-backend-wasm runs through XNNPACK). All are
 * built from ops whose gradients are right on cpu and wasm.
 */
import * as tf from "@tensorflow/tfjs-core";
import { instanceNormFused } from "./fused-norm.js";

/** GELU, exact form 0.5·x·(1 + erf(x/√2)) (PyTorch nn.GELU() default, not the tanh approximation). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))) as T);
}

/**
 * LayerNorm over the last axis: (x − mean) / √(var + eps) · gamma + beta, biased variance,
 * eps 1e-5 (PyTorch; tfjs-layers defaults to 1e-3). gamma/beta [C] are optional.
 */
export function layerNorm<T extends tf.Tensor>(x: T, gamma?: tf.Tensor1D, beta?: tf.Tensor1D, eps = 1e-5): T {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    let y: tf.Tensor = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    if (gamma) y = tf.mul(y, gamma);
    if (beta) y = tf.add(y, beta);
    return y as T;
  });
}

/**
 * InstanceNorm3d(affine=False, track_running_stats=False): per sample and channel over the
 * spatial axes of a channel-last [B, S0, S1, S2, C] tensor, biased variance, eps 1e-5. One op with
 * its own gradient (fused-norm.ts); with a LeakyReLU after it use instanceNormLeakyRelu.
 */
export function instanceNorm(x: tf.Tensor5D, eps = 1e-5): tf.Tensor5D {
  return instanceNormFused(x, eps);
}

/** LeakyReLU with PyTorch's default slope 0.01 (tf.leakyRelu defaults to 0.2). */
export function leakyRelu<T extends tf.Tensor>(x: T, alpha = 0.01): T {
  return tf.leakyRelu(x, alpha);
}

/**
 * Linear layer: x [..., in] @ w [in, out] (+ b [out]). The leading dims are folded into rows so
 * the product is one rank-2 matMul. PyTorch Linear weights [out, in] must be transposed.
 */
export function linear<T extends tf.Tensor>(x: T, w: tf.Tensor2D, b?: tf.Tensor1D): T {
  return tf.tidy(() => {
    const inF = x.shape[x.rank - 1];
    const rows = tf.reshape(x, [-1, inF]) as tf.Tensor2D;
    let y: tf.Tensor = tf.matMul(rows, w);
    if (b) y = tf.add(y, b);
    return tf.reshape(y, [...x.shape.slice(0, -1), w.shape[1]]) as T;
  });
}
