import * as tf from "@tensorflow/tfjs-core";
import type { ParamStore } from "../params/param-store.js";
import { SelfAttention } from "./attention.js";
import { MlpBlock } from "./mlp.js";
import { LayerNorm } from "./norms.js";
import type { Runtime } from "./runtime.js";

/**
 * MONAI TransformerBlock (pre-norm): x + attn(norm1(x)), then + mlp(norm2(x)). MONAI ≥ 1.4 also
 * creates unused cross-attention modules; they never run and are deliberately not built here.
 */
export class TransformerBlock {
  readonly norm1: LayerNorm;
  readonly attn: SelfAttention;
  readonly norm2: LayerNorm;
  readonly mlp: MlpBlock;

  constructor(
    ps: ParamStore,
    cfg: { hiddenSize: number; mlpDim: number; numHeads: number; dropoutRate: number; qkvBias: boolean },
  ) {
    // construction order = MONAI's module order (mlp, norm1, attn, norm2) only matters for init draws
    this.mlp = new MlpBlock(ps.child("mlp"), cfg.hiddenSize, cfg.mlpDim, cfg.dropoutRate);
    this.norm1 = new LayerNorm(ps.child("norm1"), cfg.hiddenSize);
    this.attn = new SelfAttention(ps.child("attn"), cfg.hiddenSize, cfg.numHeads, cfg.dropoutRate, cfg.qkvBias);
    this.norm2 = new LayerNorm(ps.child("norm2"), cfg.hiddenSize);
  }

  apply(x: tf.Tensor, rt: Runtime): tf.Tensor {
    return tf.tidy(() => {
      const y = tf.add(x, this.attn.apply(this.norm1.apply(x), rt));
      return tf.add(y, this.mlp.apply(this.norm2.apply(y), rt));
    });
  }
}
