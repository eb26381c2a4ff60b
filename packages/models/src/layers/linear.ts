import * as tf from "@tensorflow/tfjs-core";
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
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      let y = tf.matMul(tf.reshape(x, [-1, this.inFeatures]), this.weight);
      if (this.bias) y = tf.add(y, this.bias);
      return tf.reshape(y, [...lead, this.outFeatures]);
    });
  }
}
