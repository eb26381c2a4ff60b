import * as tf from "@tensorflow/tfjs-core";
import type { Runtime } from "./runtime.js";

/** The parts of tfjs' engine that activation checkpointing needs (tfjs-core 4.22, pinned). */
interface TapeEngine {
  isTapeOn(): boolean;
  state: { activeTape: unknown };
  gradients(
    f: () => tf.Tensor,
    xs: tf.Tensor[],
    dy?: tf.Tensor,
    allowNoGradients?: boolean,
  ): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };
}

const eng = () => tf.engine() as unknown as TapeEngine;

/** true when the ops run now are recorded for a backward pass (and not inside another op's forward) */
export function recordingGradients(): boolean {
  return eng().isTapeOn();
}

/**
 * Activation checkpointing (PyTorch's torch.utils.checkpoint): y = fn(rt, ...inputs), but the
 * backward pass keeps only `inputs` and recomputes fn's intermediates when the gradient reaches it,
 * block by block. tfjs frees a tape's saved tensors only when the whole backward ends, so without
 * this every intermediate of every block stays alive until then; with it, the peak is the block
 * inputs plus one block's intermediates.
 *
 * `params` are the variables fn reads: they are passed through the op so their gradients flow.
 * Dropout draws are recorded in the forward and replayed in the recomputation, so the mask (hence
 * the gradient) is the same. Outside a gradient tape (inference, validation) fn simply runs.
 */
export function checkpoint<T extends tf.Tensor>(
  rt: Runtime,
  fn: (rt: Runtime, ...xs: tf.Tensor[]) => T,
  inputs: tf.Tensor[],
  params: readonly tf.Variable[],
): T {
  if (!rt.checkpoint || !recordingGradients()) return fn(rt, ...inputs);
  const trainable = params.filter((p) => p.trainable);
  const n = inputs.length;
  const seeds: number[] = [];
  const recording: Runtime = {
    training: rt.training,
    checkpoint: false,
    dropoutSeed: () => {
      const s = rt.dropoutSeed();
      seeds.push(s);
      return s;
    },
  };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xs = args.slice(0, n) as tf.Tensor[];
    save(xs);
    return {
      value: fn(recording, ...xs),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        let k = 0;
        const replay: Runtime = { training: rt.training, checkpoint: false, dropoutSeed: () => seeds[k++] };
        const e = eng();
        // engine.gradients() starts a fresh tape when none is recording (we are inside the outer
        // backward) and clears it when done, which would drop the outer tape the caller is still
        // walking: put it back.
        const outer = e.state.activeTape;
        try {
          const { value, grads } = e.gradients(
            () => fn(replay, ...saved),
            [...saved, ...trainable],
            dy as tf.Tensor,
            true,
          );
          value.dispose();
          return grads.map((g, i) => g ?? tf.zerosLike(i < n ? saved[i] : trainable[i - n]));
        } finally {
          e.state.activeTape = outer;
        }
      },
    };
  });
  return op(...inputs, ...trainable) as T;
}
