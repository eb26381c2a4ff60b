import type * as tf from "@tensorflow/tfjs-core";
import { RandomState, z } from "@voxelpipe/core";
import { type ApplyOptions, NetworkBase, sizeArg, triple } from "./common.js";
import { encoderConfig, ViTEncoder, type ViTEncoderOutput } from "./vit-encoder.js";

/** The transformer hyper-parameters shared by ViT, ViTAutoEnc and UNETR (MONAI names and defaults). */
export const transformerArgs = {
  hidden_size: z.number().int().positive().default(768).describe("token dimension (MONAI hidden_size)"),
  mlp_dim: z.number().int().positive().default(3072).describe("hidden width of each transformer MLP"),
  num_heads: z.number().int().positive().default(12).describe("attention heads; must divide hidden_size"),
  proj_type: z
    .enum(["conv", "perceptron"])
    .default("conv")
    .describe("patch projection: Conv3d(kernel=stride=patch) or rearrange+Linear (same parameter count)"),
  dropout_rate: z.number().min(0).max(1).default(0).describe("dropout in the transformer (active only in training)"),
  spatial_dims: z.literal(3).default(3).describe("only 3-D networks are implemented"),
  qkv_bias: z.boolean().default(false).describe("bias on the packed qkv projection (MONAI default false)"),
};

export const vitArgs = z.object({
  in_channels: z.number().int().positive().describe("input channels"),
  img_size: sizeArg.describe("input spatial size (int or [S0, S1, S2]); fixed by the position embedding"),
  patch_size: sizeArg.describe("patch size per dim; must divide img_size"),
  num_layers: z.number().int().positive().default(12).describe("transformer blocks"),
  pos_embed_type: z
    .enum(["none", "learnable", "sincos"])
    .default("learnable")
    .describe("position embedding: learnable (trunc-normal init), fixed sin-cos, or none (zeros)"),
  classification: z.boolean().default(false).describe("prepend a cls token and return head(cls) instead of tokens"),
  num_classes: z.number().int().positive().default(2).describe("classes of the classification head"),
  post_activation: z.enum(["Tanh", "none"]).default("Tanh").describe("activation after the classification head"),
  ...transformerArgs,
});
export type ViTArgs = z.input<typeof vitArgs>;

/**
 * MONAI ViT (monai-semantics §3.2). `apply` returns the LayerNorm'd tokens [B, n, hidden_size]
 * (or the classification output [B, num_classes]); `forwardWithHidden` also returns the
 * un-normalised output of every block.
 */
export class ViT extends NetworkBase {
  readonly component = "ViT";
  readonly config: z.output<typeof vitArgs>;
  readonly encoder: ViTEncoder;

  constructor(args: ViTArgs, rng: RandomState = new RandomState(0)) {
    super(rng);
    const a = vitArgs.parse(args);
    this.config = a;
    this.encoder = new ViTEncoder(
      this.store,
      encoderConfig(a, {
        patchSize: triple(a.patch_size),
        numLayers: a.num_layers,
        posEmbedType: a.pos_embed_type,
        classification: a.classification ? { numClasses: a.num_classes, postActivation: a.post_activation } : undefined,
      }),
    );
  }

  forwardWithHidden(x: tf.Tensor, opts: ApplyOptions = {}): ViTEncoderOutput {
    const cfg = this.encoder.cfg;
    return this.encoder.forward(
      this.checkInput(x, cfg.imgSize, cfg.inChannels),
      this.runtime(opts.training, opts.seed),
    );
  }

  apply(x: tf.Tensor, opts: ApplyOptions = {}): tf.Tensor {
    const { out, hidden } = this.forwardWithHidden(x, opts);
    for (const h of hidden) h.dispose();
    return out;
  }
}
