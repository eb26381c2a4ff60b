import { tf } from "@voxelpipe/core";

/** Scale all gradients together so their global L2 norm is at most maxNorm (torch clip_grad_norm_). */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): void {
  const total = Math.sqrt(
    Object.values(grads).reduce((s, g) => s + tf.tidy(() => tf.sum(tf.square(g)).dataSync()[0]), 0),
  );
  if (total <= maxNorm) return;
  const scale = maxNorm / (total + 1e-6);
  for (const k of Object.keys(grads)) {
    const old = grads[k];
    grads[k] = tf.mul(old, scale);
    old.dispose();
  }
}

/**
 * clipByGlobalNorm with the norm read asynchronously (the training loop's form): webgpu in Node has
 * no synchronous read. Same sums in the same order, so the same result.
 */
export async function clipByGlobalNormAsync(grads: Record<string, tf.Tensor>, maxNorm: number): Promise<void> {
  let sq = 0;
  for (const g of Object.values(grads)) {
    const s = tf.tidy(() => tf.sum(tf.square(g)));
    sq += (await s.data())[0];
    s.dispose();
  }
  const total = Math.sqrt(sq);
  if (total <= maxNorm) return;
  const scale = maxNorm / (total + 1e-6);
  for (const k of Object.keys(grads)) {
    const old = grads[k];
    grads[k] = tf.mul(old, scale);
    old.dispose();
  }
}
