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
