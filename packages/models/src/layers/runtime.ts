import * as tf from "@tensorflow/tfjs-core";

/** Per-forward-pass state threaded through the layers. */
export interface Runtime {
  /** dropout is active only when training and rate > 0 (MONAI's nn.Dropout in train mode) */
  training: boolean;
  /** a fresh deterministic seed for one dropout mask */
  dropoutSeed(): number;
  /** recompute block activations in the backward pass instead of keeping them (memory for time) */
  checkpoint?: boolean;
}

export const INFERENCE: Runtime = { training: false, dropoutSeed: () => 0 };

export function dropout(x: tf.Tensor, rate: number, rt: Runtime): tf.Tensor {
  if (!rt.training || rate <= 0) return x;
  return tf.dropout(x, rate, undefined, rt.dropoutSeed());
}
