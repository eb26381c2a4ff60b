import * as tf from "@tensorflow/tfjs-core";
import { fmtShape, shapeError } from "./shapes.js";

export interface ContrastiveLossOptions {
  /** softmax temperature T (MONAI default 0.5; the ViT SSL tutorial uses 0.05) */
  temperature?: number;
}

/** torch `F.cosine_similarity` guard: the product of squared norms is clamped below at eps² (eps = 1e-8). */
const COSINE_EPS = 1e-8;

/**
 * Gram matrix R·Rᵀ of `[n, F]` rows, accumulated in chunks: the F axis is split into k chunks of m ≈ √F, each chunk
 * gives a partial `[n, n]` product and the k partials are summed. A single matMul over F = 96³ accumulates
 * sequentially in float32 on wasm (1.4e-3 relative error of the loss at T = 0.05 measured); chunking makes the
 * error ∝ √F. Zero padding to k·m columns does not change any dot product. The cpu backend accumulates each
 * 48-term block in float64 already and its transpose is slow (0.75 s for 8×96³), so it keeps the plain matMul.
 */
function gram(r: tf.Tensor2D): tf.Tensor2D {
  const [n, f] = r.shape;
  if (f < 4096 || tf.getBackend() === "cpu") return tf.matMul(r, r, false, true);
  const m = Math.ceil(Math.sqrt(f));
  const k = Math.ceil(f / m);
  const padded =
    k * m === f
      ? r
      : tf.pad(r, [
          [0, 0],
          [0, k * m - f],
        ]);
  const chunks = tf.transpose(tf.reshape(padded, [n, k, m]), [1, 0, 2]); // [k, n, m]
  return tf.sum(tf.matMul(chunks, chunks, false, true), 0) as tf.Tensor2D;
}

/**
 * NT-Xent (SimCLR) exactly as MONAI `ContrastiveLoss` (monai-semantics §4.1), computed in log space so that
 * small temperatures (0.005: e^200) do not overflow float32 the way MONAI does:
 *   R = [a; b] (2B rows), S = cosine similarities, loss_i = logsumexp_{j≠i}(S_ij/T) − S_{i,i±B}/T,
 *   loss = mean over the 2B anchors.
 * Inputs of any shape `[B, ...]` are flattened per batch item (the tutorial flattens the reconstructions).
 */
export function contrastiveLoss(input: tf.Tensor, target: tf.Tensor, opts: ContrastiveLossOptions = {}): tf.Scalar {
  const temperature = opts.temperature ?? 0.5;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    shapeError("ContrastiveLoss", "temperature must be a positive number", "temperature > 0", `${temperature}`);
  }
  if (
    input.rank < 1 ||
    input.shape.length !== target.shape.length ||
    input.shape.some((d, i) => d !== target.shape[i])
  ) {
    shapeError(
      "ContrastiveLoss",
      "the two views must have the same shape",
      `target shape ${fmtShape(input)}`,
      fmtShape(target),
      "pass the two reconstructions (or embeddings) of the same batch, e.g. [B, S0, S1, S2, C] each",
    );
  }
  const b = input.shape[0];
  return tf.tidy(() => {
    const a2 = tf.reshape(input, [b, -1]);
    const b2 = tf.reshape(target, [b, -1]);
    const r = tf.concat([a2, b2], 0) as tf.Tensor2D; // [2B, F]
    const n = 2 * b;
    const dots = gram(r); // [2B, 2B]
    const eye = tf.eye(n);
    const sq = tf.sum(tf.mul(dots, eye), 1); // squared norms = the Gram diagonal
    const normProd = tf.mul(tf.reshape(sq, [n, 1]), tf.reshape(sq, [1, n]));
    const sim = tf.div(dots, tf.sqrt(tf.maximum(normProd, COSINE_EPS * COSINE_EPS)));
    const logits = tf.div(sim, temperature);
    // exclude self-similarity from the denominator (MONAI's negatives_mask), as −inf inside logsumexp
    const masked = tf.where(tf.cast(eye, "bool"), tf.fill([n, n], Number.NEGATIVE_INFINITY), logits);
    const lse = tf.logSumExp(masked, 1); // [2B]
    // positive of anchor i is column (i + B) mod 2B: a constant 0/1 mask avoids gather (no gradient on wasm)
    const posMask = new Float32Array(n * n);
    for (let i = 0; i < n; i++) posMask[i * n + ((i + b) % n)] = 1;
    const pos = tf.sum(tf.mul(logits, tf.tensor2d(posMask, [n, n])), 1);
    return tf.mean(tf.sub(lse, pos)) as tf.Scalar;
  });
}
