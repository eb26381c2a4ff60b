import * as tf from "@tensorflow/tfjs-core";

/**
 * Patch rearrangements (space ↔ depth) for the perceptron patch embedding. The k = s convolutions
 * themselves come from the engine (engine.patchConv3d / engine.convTranspose3d).
 */

export type Triple = [number, number, number];

/** [B, n0·p0, n1·p1, n2·p2, C] → [B, n0, n1, n2, p0·p1·p2·C] with the patch vector in (p0 p1 p2 c) C-order. */
export function spaceToDepth3d(x: tf.Tensor5D, p: Triple): tf.Tensor5D {
  return tf.tidy(() => {
    const [b, s0, s1, s2, c] = x.shape;
    const [p0, p1, p2] = p;
    const n0 = s0 / p0;
    const n1 = s1 / p1;
    const n2 = s2 / p2;
    if (!Number.isInteger(n0) || !Number.isInteger(n1) || !Number.isInteger(n2)) {
      throw new Error(`spaceToDepth3d: spatial shape [${s0},${s1},${s2}] is not divisible by patch [${p}]`);
    }
    const r = tf.reshape(x, [b * n0, p0, n1, p1, n2, p2 * c]);
    const t = tf.transpose(r, [0, 2, 4, 1, 3, 5]); // [b·n0, n1, n2, p0, p1, p2·c]
    return tf.reshape(t, [b, n0, n1, n2, p0 * p1 * p2 * c]) as tf.Tensor5D;
  });
}

/** Inverse of spaceToDepth3d: [B, n0, n1, n2, p0·p1·p2·C] → [B, n0·p0, n1·p1, n2·p2, C]. */
export function depthToSpace3d(y: tf.Tensor5D, p: Triple): tf.Tensor5D {
  return tf.tidy(() => {
    const [b, n0, n1, n2, f] = y.shape;
    const [p0, p1, p2] = p;
    const c = f / (p0 * p1 * p2);
    const r = tf.reshape(y, [b * n0, n1, n2, p0, p1, p2 * c]);
    const t = tf.transpose(r, [0, 3, 1, 4, 2, 5]); // [b·n0, p0, n1, p1, n2, p2·c]
    return tf.reshape(t, [b, n0 * p0, n1 * p1, n2 * p2, c]) as tf.Tensor5D;
  });
}
