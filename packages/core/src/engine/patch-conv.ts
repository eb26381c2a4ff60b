/**
 * Convolutions whose kernel equals their stride (no overlap): the ViT patch embedding
 * (Conv3d k = s = patch) and the k = s transposed convs of UNETR (2) and ViTAutoEnc (4). Both are
 * exactly one matMul plus a space-to-depth / depth-to-space reshuffle (reshape + transpose), so
 * they are exact, fast (one XNNPACK GEMM on wasm) and differentiable on every backend through the
 * stock gradients of reshape, transpose and matMul.
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * [a, b, c, d] → [a, c, b, d] of x viewed as that shape. The patch reshuffles below are rank-6
 * permutations; tfjs-backend-wasm's C transpose has fast loops up to rank 4 (after dropping size-1
 * and leading fixed dims) and a per-element generic loop beyond (≈0.2 ms vs ≈55 ms for 0.5 M
 * floats), so each is written as two rank-4 block swaps (fast even without the kernel fixes).
 */
function swapMiddle(x: tf.Tensor, a: number, b: number, c: number, d: number): tf.Tensor4D {
  return tf.transpose(tf.reshape(x, [a, b, c, d]), [0, 2, 1, 3]) as tf.Tensor4D;
}

/**
 * Conv3d with kernel = stride = w.shape[0..2] and no padding, channel-last.
 * x: [B, D, H, W, Ci]; w: [p0, p1, p2, Ci, Co] → [B, ⌊D/p0⌋, ⌊H/p1⌋, ⌊W/p2⌋, Co]. Trailing voxels
 * that do not fill a patch are dropped, like PyTorch's Conv3d (and tf 'valid').
 */
export function patchConv3d(x: tf.Tensor5D, w: tf.Tensor5D): tf.Tensor5D {
  return tf.tidy(() => {
    const [b, d, h, wd, ci] = x.shape;
    const [p0, p1, p2, , co] = w.shape;
    const [n0, n1, n2] = [Math.floor(d / p0), Math.floor(h / p1), Math.floor(wd / p2)];
    const xc =
      n0 * p0 === d && n1 * p1 === h && n2 * p2 === wd ? x : tf.slice(x, 0, [b, n0 * p0, n1 * p1, n2 * p2, ci]);
    // [b·n0, p0, n1, p1, n2, p2·Ci] → [b·n0, n1, n2, p0, p1, p2·Ci]: each row is one patch in the
    // C order of w's [p0, p1, p2, Ci] (p0 slowest, channel fastest). Two block swaps:
    // [b·n0, p0, n1, (p1·n2·p2·Ci)] → [b·n0, n1, p0, p1, n2, p2·Ci], then
    // [(b·n0·n1), (p0·p1), n2, p2·Ci] → [b·n0, n1, n2, p0, p1, p2·Ci]
    const f = p2 * ci;
    const s1 = swapMiddle(xc, b * n0, p0, n1, p1 * n2 * f);
    const s2 = swapMiddle(s1, b * n0 * n1, p0 * p1, n2, f);
    const rows = tf.reshape(s2, [b * n0 * n1 * n2, p0 * p1 * f]);
    const y = tf.matMul(rows as tf.Tensor2D, tf.reshape(w, [p0 * p1 * p2 * ci, co]) as tf.Tensor2D);
    return tf.reshape(y, [b, n0, n1, n2, co]) as tf.Tensor5D;
  });
}

/**
 * Transposed conv with kernel = stride = w.shape[0..2], no padding, channel-last (PyTorch
 * ConvTranspose3d(k=s, p=0) semantics). x: [B, D, H, W, Ci]; w: [p0, p1, p2, Co, Ci] (the
 * tf.conv3dTranspose filter layout) → [B, p0·D, p1·H, p2·W, Co]:
 * out[b, p0·i + a, p1·j + c, p2·k + e, o] = Σ_ci x[b, i, j, k, ci] · w[a, c, e, o, ci].
 * One matMul [M, Ci] @ [Ci, p0·p1·p2·Co] then depth-to-space.
 */
export function convTranspose3dPatch(x: tf.Tensor5D, w: tf.Tensor5D): tf.Tensor5D {
  return tf.tidy(() => {
    const [b, d, h, wd, ci] = x.shape;
    const [p0, p1, p2, co] = w.shape;
    // w [p0,p1,p2,Co,Ci] → [Ci, p0·p1·p2·Co] (a 2-D transpose)
    const wm = tf.transpose(tf.reshape(w, [p0 * p1 * p2 * co, ci])) as tf.Tensor2D;
    const y = tf.matMul(tf.reshape(x, [b * d * h * wd, ci]) as tf.Tensor2D, wm);
    // [b·d, h, w, p0, p1, p2·Co] → [b·d, p0, h, p1, w, p2·Co] = [b, d·p0, h·p1, w·p2, Co] in C order.
    // Two block swaps: [b·d, (h·w), p0, (p1·p2·Co)] → [b·d, p0, h, w, p1, p2·Co], then
    // [(b·d·p0·h), w, p1, p2·Co] → [b·d, p0, h, p1, w, p2·Co]
    const f = p2 * co;
    const s1 = swapMiddle(y, b * d, h * wd, p0, p1 * f);
    const s2 = swapMiddle(s1, b * d * p0 * h, wd, p1, f);
    return tf.reshape(s2, [b, d * p0, h * p1, wd * p2, co]) as tf.Tensor5D;
  });
}

/** Conv3d with a 1×1×1 kernel: one matMul [M, Ci] @ [Ci, Co]. */
export function pointwiseConv3d(x: tf.Tensor5D, w: tf.Tensor5D): tf.Tensor5D {
  return tf.tidy(() => {
    const [b, d, h, wd, ci] = x.shape;
    const co = w.shape[4];
    const y = tf.matMul(tf.reshape(x, [b * d * h * wd, ci]) as tf.Tensor2D, tf.reshape(w, [ci, co]) as tf.Tensor2D);
    return tf.reshape(y, [b, d, h, wd, co]) as tf.Tensor5D;
  });
}
