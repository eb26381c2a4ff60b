import * as tf from "@tensorflow/tfjs-core";
import { checkpoint } from "../layers/checkpoint.js";
import { Linear } from "../layers/linear.js";
import { LayerNorm } from "../layers/norms.js";
import { PatchEmbedding, type PosEmbedType, type ProjType } from "../layers/patch-embedding.js";
import type { Runtime } from "../layers/runtime.js";
import { TransformerBlock } from "../layers/transformer-block.js";
import type { Triple } from "../ops/patch-ops.js";
import type { ParamStore } from "../params/param-store.js";
import { triple } from "./common.js";

export interface ViTEncoderConfig {
  inChannels: number;
  imgSize: Triple;
  patchSize: Triple;
  hiddenSize: number;
  mlpDim: number;
  numLayers: number;
  numHeads: number;
  projType: ProjType;
  posEmbedType: PosEmbedType;
  dropoutRate: number;
  qkvBias: boolean;
  /** prepend a cls token and add a head (MONAI ViT classification=True) */
  classification?: { numClasses: number; postActivation: "Tanh" | "none" };
}

/** the MONAI-named transformer arguments every ViT-based network shares */
export interface TransformerArgsLike {
  in_channels: number;
  img_size: number | number[];
  hidden_size: number;
  mlp_dim: number;
  num_heads: number;
  proj_type: ProjType;
  dropout_rate: number;
  qkv_bias: boolean;
}

/** ViTEncoderConfig from MONAI-named args (patch size, layers and position embedding given by the network) */
export function encoderConfig(
  a: TransformerArgsLike,
  o: {
    patchSize: Triple;
    numLayers: number;
    posEmbedType: PosEmbedType;
    classification?: ViTEncoderConfig["classification"];
  },
): ViTEncoderConfig {
  return {
    inChannels: a.in_channels,
    imgSize: triple(a.img_size as number | [number, number, number]),
    patchSize: o.patchSize,
    hiddenSize: a.hidden_size,
    mlpDim: a.mlp_dim,
    numLayers: o.numLayers,
    numHeads: a.num_heads,
    projType: a.proj_type,
    posEmbedType: o.posEmbedType,
    dropoutRate: a.dropout_rate,
    qkvBias: a.qkv_bias,
    classification: o.classification,
  };
}

export interface ViTEncoderOutput {
  /** LayerNorm'd tokens [B, n(+1), H], or the classification head output [B, classes] */
  out: tf.Tensor;
  /** un-normalised output of every transformer block, [B, n(+1), H] each */
  hidden: tf.Tensor3D[];
}

/**
 * MONAI ViT body (monai-semantics §3.2): patch_embedding → blocks.* → norm (eps 1e-5), parameter
 * names patch_embedding.*, blocks.i.*, norm.* (+ cls_token, classification_head.* when classifying)
 * under the given store prefix ("vit." inside UNETR).
 */
export class ViTEncoder {
  readonly patchEmbedding: PatchEmbedding;
  readonly blocks: TransformerBlock[] = [];
  /** each block's variables (passed through activation checkpointing) */
  private readonly blockParams: tf.Variable[][] = [];
  readonly norm: LayerNorm;
  readonly clsToken: tf.Variable | undefined;
  readonly head: { linear: Linear; tanh: boolean } | undefined;

  constructor(
    ps: ParamStore,
    readonly cfg: ViTEncoderConfig,
  ) {
    if (!(cfg.dropoutRate >= 0 && cfg.dropoutRate <= 1)) throw new Error("dropout_rate should be between 0 and 1");
    if (cfg.hiddenSize % cfg.numHeads !== 0) {
      throw new Error(`hidden_size (${cfg.hiddenSize}) should be divisible by num_heads (${cfg.numHeads})`);
    }
    this.patchEmbedding = new PatchEmbedding(ps.child("patch_embedding"), cfg);
    for (let i = 0; i < cfg.numLayers; i++) {
      const bs = ps.child(`blocks.${i}`);
      const before = new Set(ps.vars.keys());
      this.blocks.push(new TransformerBlock(bs, cfg));
      this.blockParams.push([...ps.vars].filter(([k]) => !before.has(k)).map(([, v]) => v));
    }
    this.norm = new LayerNorm(ps.child("norm"), cfg.hiddenSize);
    if (cfg.classification) {
      this.clsToken = ps.add("cls_token", [1, 1, cfg.hiddenSize], { kind: "zeros" });
      const tanh = cfg.classification.postActivation === "Tanh";
      const name = tanh ? "classification_head.0" : "classification_head";
      this.head = { linear: new Linear(ps.child(name), cfg.hiddenSize, cfg.classification.numClasses), tanh };
    }
  }

  /** x: [B, S0, S1, S2, C] (already validated) */
  forward(x: tf.Tensor5D, rt: Runtime): ViTEncoderOutput {
    return tf.tidy(() => {
      let h: tf.Tensor3D = this.patchEmbedding.apply(x, rt);
      if (this.clsToken) {
        const cls = tf.tile(this.clsToken, [h.shape[0], 1, 1]);
        h = tf.concat([cls, h], 1) as tf.Tensor3D;
      }
      const hidden: tf.Tensor3D[] = [];
      for (const [i, blk] of this.blocks.entries()) {
        h = checkpoint(rt, (r, t) => blk.apply(t, r) as tf.Tensor3D, [h], this.blockParams[i]);
        hidden.push(h);
      }
      let out: tf.Tensor = this.norm.apply(h);
      if (this.head) {
        const first = tf.reshape(tf.slice(out, [0, 0, 0], [-1, 1, -1]), [out.shape[0], this.cfg.hiddenSize]);
        out = this.head.linear.apply(first);
        if (this.head.tanh) out = tf.tanh(out);
      }
      return { out, hidden };
    });
  }
}
