import * as tf from "@tensorflow/tfjs-core";
import type { ModelMemory } from "@voxelpipe/core";
import { RandomState, z } from "@voxelpipe/core";
import { checkpoint } from "../layers/checkpoint.js";
import { UnetOutBlock } from "../layers/unet-blocks.js";
import { UnetrBasicBlock, UnetrPrUpBlock, UnetrUpBlock } from "../layers/unetr-blocks.js";
import { type ApplyOptions, NetworkBase, sizeArg, triple } from "./common.js";
import { unetrMemory } from "./memory.js";
import { transformerArgs } from "./vit.js";
import { encoderConfig, ViTEncoder } from "./vit-encoder.js";

export const unetrArgs = z.object({
  in_channels: z.number().int().positive().describe("input channels"),
  out_channels: z.number().int().positive().describe("output classes (logit channels)"),
  img_size: sizeArg.describe("input spatial size (int or [S0, S1, S2]), each divisible by 16"),
  feature_size: z
    .number()
    .int()
    .positive()
    .default(16)
    .describe("channels of the first decoder stage (doubles per level)"),
  norm_name: z.enum(["instance"]).default("instance").describe("norm of the conv blocks (InstanceNorm3d, no affine)"),
  conv_block: z.boolean().default(true).describe("conv blocks after each upsampling in the PrUp encoders"),
  res_block: z
    .boolean()
    .default(true)
    .describe("residual (UnetResBlock) instead of plain (UnetBasicBlock) conv blocks"),
  ...transformerArgs,
});
export type UNETRArgs = z.input<typeof unetrArgs>;

/** MONAI UNETR fixes these: a 12-layer ViT with 16³ patches; skips from blocks 3, 6, 9 (0-based). */
export const UNETR_PATCH = 16;
export const UNETR_LAYERS = 12;
export const UNETR_SKIPS = [3, 6, 9] as const;

export interface UNETROutput {
  logits: tf.Tensor5D;
  /** the ViT's LayerNorm'd output [B, n, hidden] (the bottleneck) */
  vitOut: tf.Tensor3D;
  /** all 12 un-normalised block outputs [B, n, hidden]; UNETR uses indices 3, 6, 9 */
  hidden: tf.Tensor3D[];
}

/**
 * MONAI UNETR (monai-semantics §3.4), channel-last. Parameter names are MONAI's state-dict keys
 * (vit.*, encoder1..4.*, decoder2..5.*, out.*).
 */
export class UNETR extends NetworkBase {
  readonly component = "UNETR";
  readonly config: z.output<typeof unetrArgs>;
  readonly vit: ViTEncoder;
  readonly featSize: [number, number, number];
  readonly encoder1: UnetrBasicBlock;
  readonly encoder2: UnetrPrUpBlock;
  readonly encoder3: UnetrPrUpBlock;
  readonly encoder4: UnetrPrUpBlock;
  readonly decoder5: UnetrUpBlock;
  readonly decoder4: UnetrUpBlock;
  readonly decoder3: UnetrUpBlock;
  readonly decoder2: UnetrUpBlock;
  readonly out: UnetOutBlock;

  constructor(args: UNETRArgs, rng: RandomState = new RandomState(0)) {
    super(rng);
    const a = unetrArgs.parse(args);
    this.config = a;
    const img = triple(a.img_size);
    for (const s of img) {
      if (s % UNETR_PATCH !== 0) throw new Error(`UNETR img_size [${img}] must be divisible by ${UNETR_PATCH}`);
    }
    this.featSize = [img[0] / UNETR_PATCH, img[1] / UNETR_PATCH, img[2] / UNETR_PATCH];
    const ps = this.store;
    this.vit = new ViTEncoder(
      ps.child("vit"),
      encoderConfig(a, {
        patchSize: [UNETR_PATCH, UNETR_PATCH, UNETR_PATCH],
        numLayers: UNETR_LAYERS,
        posEmbedType: "learnable",
      }),
    );
    const f = a.feature_size;
    const h = a.hidden_size;
    const n = a.norm_name;
    const cb = a.conv_block;
    const rb = a.res_block;
    this.encoder1 = new UnetrBasicBlock(ps.child("encoder1"), a.in_channels, f, 3, n, rb);
    this.encoder2 = new UnetrPrUpBlock(ps.child("encoder2"), h, 2 * f, 2, 3, n, cb, rb);
    this.encoder3 = new UnetrPrUpBlock(ps.child("encoder3"), h, 4 * f, 1, 3, n, cb, rb);
    this.encoder4 = new UnetrPrUpBlock(ps.child("encoder4"), h, 8 * f, 0, 3, n, cb, rb);
    this.decoder5 = new UnetrUpBlock(ps.child("decoder5"), h, 8 * f, 3, n, rb);
    this.decoder4 = new UnetrUpBlock(ps.child("decoder4"), 8 * f, 4 * f, 3, n, rb);
    this.decoder3 = new UnetrUpBlock(ps.child("decoder3"), 4 * f, 2 * f, 3, n, rb);
    this.decoder2 = new UnetrUpBlock(ps.child("decoder2"), 2 * f, f, 3, n, rb);
    this.out = new UnetOutBlock(ps.child("out"), f, a.out_channels);
  }

  /** [B, n, hidden] tokens → channel-last grid [B, f0, f1, f2, hidden]: a reshape (tokens are S0-major) */
  private projFeat(t: tf.Tensor): tf.Tensor5D {
    return tf.reshape(t, [t.shape[0], ...this.featSize, this.config.hidden_size]) as tf.Tensor5D;
  }

  forwardWithHidden(x: tf.Tensor, opts: ApplyOptions = {}): UNETROutput {
    const cfg = this.vit.cfg;
    const xin = this.checkInput(x, cfg.imgSize, cfg.inChannels);
    const rt = this.runtime(opts.training, opts.seed);
    // with checkpointing on, each encoder/decoder stage keeps only its inputs for the backward
    const stage = <T extends tf.Tensor>(name: string, fn: (...xs: tf.Tensor[]) => T, ...xs: tf.Tensor[]): T =>
      checkpoint(rt, (_r, ...ys) => fn(...ys), xs, this.paramsUnder(`${name}.`));
    return tf.tidy(() => {
      const { out: vitOut, hidden } = this.vit.forward(xin, rt);
      const enc1 = stage("encoder1", (t) => this.encoder1.apply(t), xin);
      const enc2 = stage("encoder2", (t) => this.encoder2.apply(this.projFeat(t)), hidden[UNETR_SKIPS[0]]);
      const enc3 = stage("encoder3", (t) => this.encoder3.apply(this.projFeat(t)), hidden[UNETR_SKIPS[1]]);
      const enc4 = stage("encoder4", (t) => this.encoder4.apply(this.projFeat(t)), hidden[UNETR_SKIPS[2]]);
      const dec3 = stage("decoder5", (t, s) => this.decoder5.apply(this.projFeat(t), s), vitOut, enc4);
      const dec2 = stage("decoder4", (t, s) => this.decoder4.apply(t, s), dec3, enc3);
      const dec1 = stage("decoder3", (t, s) => this.decoder3.apply(t, s), dec2, enc2);
      const out = stage("decoder2", (t, s) => this.decoder2.apply(t, s), dec1, enc1);
      return { logits: this.out.apply(out), vitOut: vitOut as tf.Tensor3D, hidden };
    });
  }

  memoryEstimate(o: { checkpointing: boolean }): ModelMemory {
    const c = this.vit.cfg;
    return unetrMemory({
      voxels: c.imgSize[0] * c.imgSize[1] * c.imgSize[2],
      feature: this.config.feature_size,
      classes: this.config.out_channels,
      tokens: this.featSize[0] * this.featSize[1] * this.featSize[2],
      hidden: c.hiddenSize,
      mlp: c.mlpDim,
      heads: c.numHeads,
      layers: c.numLayers,
      vitParamBytes: this.paramBytes("vit."),
      checkpointing: o.checkpointing,
    });
  }

  apply(x: tf.Tensor, opts: ApplyOptions = {}): tf.Tensor {
    const { logits, vitOut, hidden } = this.forwardWithHidden(x, opts);
    vitOut.dispose();
    for (const t of hidden) t.dispose();
    return logits;
  }
}
