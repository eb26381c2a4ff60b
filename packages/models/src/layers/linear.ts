import type * as tf from "@tensorflow/tfjs-core";
import { engine } from "@voxelpipe/core";
import type { Initializer } from "../params/init.js";
import { type ParamStore, torchDefault } from "../params/param-store.js";

/** nn.Linear over the last axis. Kernel stored [in, out] (PyTorch's [out, in] transposed). */
export class Linear {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(
    ps: ParamStore,
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean; weightInit?: Initializer; biasInit?: Initializer } = {},
  ) {
    const def = torchDefault(inFeatures);
    this.weight = ps.add("weight", [inFeatures, outFeatures], opts.weightInit ?? def, "linear");
    this.bias = (opts.bias ?? true) ? ps.add("bias", [outFeatures], opts.biasInit ?? def) : undefined;
  }

  apply(x: tf.Tensor): tf.Tensor {
    // one rank-2 matMul over the folded leading dims (the engine's fast path on wasm)
    return engine.linear(x, this.weight as tf.Tensor2D, this.bias as tf.Tensor1D | undefined);
  }
}
