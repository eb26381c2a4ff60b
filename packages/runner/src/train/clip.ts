import { tf } from "@voxelpipe/core";

/**
 * Scale all gradients together so their global L2 norm is at most maxNorm (torch clip_grad_norm_). The norm is read
 * asynchronously: webgpu in Node has no synchronous read.
 */
export async function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): Promise<void> {
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
