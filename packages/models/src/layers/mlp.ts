import * as tf from "@tensorflow/tfjs-core";
import type { ParamStore } from "../params/param-store.js";
import { gelu } from "./activations.js";
import { Linear } from "./linear.js";
import { dropout, type Runtime } from "./runtime.js";

/** MONAI MLPBlock ("vit" dropout mode): linear1 → exact GELU → Dropout → linear2 → Dropout. */
export class MlpBlock {
  readonly linear1: Linear;
  readonly linear2: Linear;

  constructor(
    ps: ParamStore,
    hiddenSize: number,
    mlpDim: number,
    readonly dropoutRate: number,
  ) {
    this.linear1 = new Linear(ps.child("linear1"), hiddenSize, mlpDim);
    this.linear2 = new Linear(ps.child("linear2"), mlpDim, hiddenSize);
  }

  apply(x: tf.Tensor, rt: Runtime): tf.Tensor {
    return tf.tidy(() => {
      const h = dropout(gelu(this.linear1.apply(x)), this.dropoutRate, rt);
      return dropout(this.linear2.apply(h), this.dropoutRate, rt);
    });
  }
}
