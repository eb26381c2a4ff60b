import * as tf from "@tensorflow/tfjs-core";
import { engine, type ModelMemory, RandomState, z } from "@voxelpipe/core";
import type { Triple } from "../ops/patch-ops.js";
import { torchDefault } from "../params/param-store.js";
import { type ApplyOptions, NetworkBase, sizeArg, triple } from "./common.js";
import { vitAutoEncMemory } from "./memory.js";
import { transformerArgs } from "./vit.js";
import { encoderConfig, ViTEncoder } from "./vit-encoder.js";

export const vitAutoEncArgs = z.object({
  in_channels: z.number().int().positive().describe("input channels"),
  img_size: sizeArg.describe("input spatial size (int or [S0, S1, S2]); fixed by the position embedding"),
  patch_size: sizeArg.describe("patch size per dim; must divide img_size (16 gives an output the size of the input)"),
  out_channels: z.number().int().positive().default(1).describe("channels of the reconstruction"),
  deconv_chns: z.number().int().positive().default(16).describe("channels between the two 4×4×4 deconvolutions"),
  num_layers: z.number().int().positive().default(12).describe("transformer blocks"),
  ...transformerArgs,
});
export type ViTAutoEncArgs = z.input<typeof vitAutoEncArgs>;

/** MONAI hard-codes the decoder's transposed convs to kernel = stride = 4 (×16 upsampling in total). */
const DECONV: Triple = [4, 4, 4];

/**
 * MONAI ViTAutoEnc (monai-semantics §3.3): the ViT encoder (same parameter names as UNETR's `vit.*`)
 * → tokens as a [B, n0, n1, n2, hidden] grid → conv3d_transpose (hidden→deconv_chns, k=s=4, bias)
 * → conv3d_transpose_1 (deconv_chns→out_channels, k=s=4, bias). No activation anywhere in the decoder.
 * Output spatial size = (img/patch)·16.
 */
export class ViTAutoEnc extends NetworkBase {
  readonly component = "ViTAutoEnc";
  readonly config: z.output<typeof vitAutoEncArgs>;
  readonly encoder: ViTEncoder;
  readonly deconv1: { weight: tf.Variable; bias: tf.Variable };
  readonly deconv2: { weight: tf.Variable; bias: tf.Variable };

  constructor(args: ViTAutoEncArgs, rng: RandomState = new RandomState(0)) {
    super(rng);
    const a = vitAutoEncArgs.parse(args);
    this.config = a;
    this.encoder = new ViTEncoder(
      this.store,
      encoderConfig(a, { patchSize: triple(a.patch_size), numLayers: a.num_layers, posEmbedType: "learnable" }),
    );
    const k3 = DECONV[0] * DECONV[1] * DECONV[2];
    const d1 = this.store.child("conv3d_transpose");
    const i1 = torchDefault(a.deconv_chns * k3);
    this.deconv1 = {
      weight: d1.add("weight", [...DECONV, a.deconv_chns, a.hidden_size], i1, "convTranspose"),
      bias: d1.add("bias", [a.deconv_chns], i1),
    };
    const d2 = this.store.child("conv3d_transpose_1");
    const i2 = torchDefault(a.out_channels * k3);
    this.deconv2 = {
      weight: d2.add("weight", [...DECONV, a.out_channels, a.deconv_chns], i2, "convTranspose"),
      bias: d2.add("bias", [a.out_channels], i2),
    };
  }

  /** reconstruction [B, 16·n0, 16·n1, 16·n2, out_channels] and every block's hidden state */
  forwardWithHidden(x: tf.Tensor, opts: ApplyOptions = {}): { out: tf.Tensor5D; hidden: tf.Tensor3D[] } {
    const cfg = this.encoder.cfg;
    const xin = this.checkInput(x, cfg.imgSize, cfg.inChannels);
    const rt = this.runtime(opts.training, opts.seed);
    return tf.tidy(() => {
      const { out: tokens, hidden } = this.encoder.forward(xin, rt);
      const [n0, n1, n2] = this.encoder.patchEmbedding.grid;
      // token order is S0-major, so the channel-last grid is a plain reshape (no permute)
      const grid = tf.reshape(tokens, [xin.shape[0], n0, n1, n2, cfg.hiddenSize]) as tf.Tensor5D;
      const up = tf.add(engine.convTranspose3d(grid, this.deconv1.weight as tf.Tensor5D), this.deconv1.bias);
      const out = tf.add(
        engine.convTranspose3d(up as tf.Tensor5D, this.deconv2.weight as tf.Tensor5D),
        this.deconv2.bias,
      );
      return { out: out as tf.Tensor5D, hidden };
    });
  }

  memoryEstimate(o: { checkpointing: boolean }): ModelMemory {
    const c = this.encoder.cfg;
    const g = this.encoder.patchEmbedding.grid;
    return vitAutoEncMemory({
      voxels: c.imgSize[0] * c.imgSize[1] * c.imgSize[2],
      tokens: g[0] * g[1] * g[2],
      hidden: c.hiddenSize,
      mlp: c.mlpDim,
      heads: c.numHeads,
      layers: c.numLayers,
      vitParamBytes: this.paramBytes("patch_embedding.") + this.paramBytes("blocks.") + this.paramBytes("norm."),
      checkpointing: o.checkpointing,
    });
  }

  apply(x: tf.Tensor, opts: ApplyOptions = {}): tf.Tensor {
    const { out, hidden } = this.forwardWithHidden(x, opts);
    for (const h of hidden) h.dispose();
    return out;
  }
}
