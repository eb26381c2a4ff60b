import * as tf from "@tensorflow/tfjs-core";
import { engine } from "@voxelpipe/core";
import { type ParamStore, torchDefault } from "../params/param-store.js";

/**
 * Conv3d, stride 1, odd kernel k, padding (k-1)/2 (= MONAI's get_padding for stride 1), through the
 * engine's backend-correct conv3d. Weight [k,k,k,Ci,Co]; bias only where MONAI has one.
 */
export class Conv3d {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(
    ps: ParamStore,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    opts: { bias?: boolean } = {},
  ) {
    if (kernel % 2 !== 1) throw new Error(`Conv3d: only odd kernels with stride 1 are supported, got ${kernel}`);
    const init = torchDefault(inChannels * kernel ** 3);
    this.weight = ps.add("weight", [kernel, kernel, kernel, inChannels, outChannels], init, "conv");
    this.bias = opts.bias ? ps.add("bias", [outChannels], init) : undefined;
  }

  apply(x: tf.Tensor): tf.Tensor5D {
    return tf.tidy(() => {
      const y = engine.conv3d(x as tf.Tensor5D, this.weight as tf.Tensor5D, {
        strides: 1,
        padding: this.kernel === 1 ? "valid" : "same",
      });
      return (this.bias ? tf.add(y, this.bias) : y) as tf.Tensor5D;
    });
  }
}

/** ConvTranspose3d(kernel = stride = 2, no bias) via the engine: exact ×2 upsampling. Weight [2,2,2,Co,Ci]. */
export class ConvTranspose3dK2 {
  readonly weight: tf.Variable;

  constructor(
    ps: ParamStore,
    readonly inChannels: number,
    readonly outChannels: number,
  ) {
    // PyTorch computes fan_in of a transposed conv from weight.size(1) = out channels
    this.weight = ps.add("weight", [2, 2, 2, outChannels, inChannels], torchDefault(outChannels * 8), "convTranspose");
  }

  apply(x: tf.Tensor): tf.Tensor5D {
    return engine.convTranspose3dK2S2(x as tf.Tensor5D, this.weight as tf.Tensor5D);
  }
}
