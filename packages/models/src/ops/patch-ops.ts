import * as tf from "@tensorflow/tfjs-core";

/**
 * Non-overlapping ("patch") convolutions, kernel = stride. The engine (`@voxelpipe/core` engine)
 * has no such op yet; these are exact rewrites as one matMul around a space↔depth rearrangement,
 * differentiable on every backend and far faster on wasm than a strided tf.conv3d (naive loop).
 * Candidates to move into the engine as `patchConv3d` / `convTranspose3dPatch`.
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

/**
 * Conv3d with kernel = stride = p, no padding (PyTorch Conv3d(kernel_size=p, stride=p)).
 * x: [B, S0, S1, S2, Ci]; w: [p0, p1, p2, Ci, Co] (our conv layout); optional bias [Co].
 */
export function patchConv3d(x: tf.Tensor5D, w: tf.Tensor5D, bias?: tf.Tensor1D): tf.Tensor5D {
  return tf.tidy(() => {
    const [p0, p1, p2, ci, co] = w.shape;
    const cols = spaceToDepth3d(x, [p0, p1, p2]);
    const [b, n0, n1, n2, k] = cols.shape;
    let y = tf.matMul(tf.reshape(cols, [b * n0 * n1 * n2, k]), tf.reshape(w, [p0 * p1 * p2 * ci, co]));
    if (bias) y = tf.add(y, bias);
    return tf.reshape(y, [b, n0, n1, n2, co]) as tf.Tensor5D;
  });
}

/**
 * ConvTranspose3d with kernel = stride = p, no padding: every input voxel writes its own p0×p1×p2
 * block, so it is one matMul [M, Ci] @ [Ci, p³·Co] + depthToSpace.
 * x: [B, n0, n1, n2, Ci]; w: [p0, p1, p2, Co, Ci] (our convTranspose layout); optional bias [Co].
 */
export function convTranspose3dPatch(x: tf.Tensor5D, w: tf.Tensor5D, bias?: tf.Tensor1D): tf.Tensor5D {
  return tf.tidy(() => {
    const [b, n0, n1, n2, ci] = x.shape;
    const [p0, p1, p2, co] = w.shape;
    const wm = tf.reshape(tf.transpose(w, [4, 0, 1, 2, 3]), [ci, p0 * p1 * p2 * co]);
    const y = tf.matMul(tf.reshape(x, [b * n0 * n1 * n2, ci]), wm);
    let out = depthToSpace3d(tf.reshape(y, [b, n0, n1, n2, p0 * p1 * p2 * co]) as tf.Tensor5D, [p0, p1, p2]);
    if (bias) out = tf.add(out, bias);
    return out;
  });
}
