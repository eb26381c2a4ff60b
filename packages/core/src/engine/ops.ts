import * as tf from "@tensorflow/tfjs-core";

/**
 * conv3d, channel-last. x: [B, D, H, W, Ci]; w: [kd, kh, kw, Ci, Co]; padding "same" or "valid";
 * stride a number or triple. Differentiable on every backend.
 * (Reference implementation; the engine work replaces it with the fast composite forms.)
 */
export function conv3d(
  x: tf.Tensor5D,
  w: tf.Tensor5D,
  opts: { strides?: number | [number, number, number]; padding?: "same" | "valid" } = {},
): tf.Tensor5D {
  const s = opts.strides ?? 1;
  return tf.conv3d(x, w, typeof s === "number" ? [s, s, s] : s, opts.padding ?? "same");
}

/**
 * Transposed conv with kernel = stride = 2, channel-last. x: [B, D, H, W, Ci]; w: [2, 2, 2, Co, Ci]
 * (tfjs conv3dTranspose layout). Output [B, 2D, 2H, 2W, Co]. Exact and trainable: one matMul
 * [M, Ci] @ [Ci, 8·Co] followed by depth-to-space.
 */
export function convTranspose3dK2S2(x: tf.Tensor5D, w: tf.Tensor5D): tf.Tensor5D {
  return tf.tidy(() => {
    const [b, d, h, wd, ci] = x.shape;
    const co = w.shape[3];
    // w [2,2,2,Co,Ci] -> [Ci, 2,2,2, Co] -> [Ci, 8*Co]
    const wm = tf.reshape(tf.transpose(w, [4, 0, 1, 2, 3]), [ci, 8 * co]);
    const y = tf.matMul(tf.reshape(x, [b * d * h * wd, ci]), wm); // [M, 8*Co]
    // [b,d,h,w,2,2,2,co] -> [b,d,2,h,2,w,2,co]
    const y8 = tf.reshape(y, [b * d, h, wd, 2, 2, 2, co]);
    const t = tf.transpose(y8, [0, 3, 1, 4, 2, 5, 6]); // [b*d, 2(kd), h, 2(kh), w, 2(kw), co]
    return tf.reshape(t, [b, 2 * d, 2 * h, 2 * wd, co]) as tf.Tensor5D;
  });
}
