import * as tf from "@tensorflow/tfjs-core";
import type { ParamStore } from "../params/param-store.js";
import { ConvTranspose3dK2 } from "./convs.js";
import { type NormName, UnetBasicBlock, UnetResBlock } from "./unet-blocks.js";

type ConvBlock = UnetResBlock | UnetBasicBlock;

function convBlock(ps: ParamStore, cin: number, cout: number, k: number, norm: NormName, res: boolean): ConvBlock {
  return res ? new UnetResBlock(ps, cin, cout, k, norm) : new UnetBasicBlock(ps, cin, cout, k, norm);
}

/** MONAI UnetrBasicBlock: `layer` = UnetResBlock (res_block) or UnetBasicBlock. */
export class UnetrBasicBlock {
  readonly layer: ConvBlock;

  constructor(ps: ParamStore, cin: number, cout: number, kernel: number, norm: NormName, resBlock: boolean) {
    this.layer = convBlock(ps.child("layer"), cin, cout, kernel, norm, resBlock);
  }

  apply(x: tf.Tensor): tf.Tensor5D {
    return this.layer.apply(x);
  }
}

/**
 * MONAI UnetrPrUpBlock: transp_conv_init (k=s=2, in→out), then num_layer × [transposed conv
 * (out→out) → conv block] when conv_block (keys blocks.i.0.conv.weight, blocks.i.1.*), or just
 * num_layer transposed convs otherwise (keys blocks.i.conv.weight).
 */
export class UnetrPrUpBlock {
  readonly transpConvInit: ConvTranspose3dK2;
  readonly blocks: { up: ConvTranspose3dK2; conv: ConvBlock | undefined }[] = [];

  constructor(
    ps: ParamStore,
    cin: number,
    cout: number,
    numLayer: number,
    kernel: number,
    norm: NormName,
    convBlockOn: boolean,
    resBlock: boolean,
  ) {
    this.transpConvInit = new ConvTranspose3dK2(ps.child("transp_conv_init.conv"), cin, cout);
    for (let i = 0; i < numLayer; i++) {
      const b = ps.child(`blocks.${i}`);
      if (convBlockOn) {
        const up = new ConvTranspose3dK2(b.child("0.conv"), cout, cout);
        this.blocks.push({ up, conv: convBlock(b.child("1"), cout, cout, kernel, norm, resBlock) });
      } else {
        this.blocks.push({ up: new ConvTranspose3dK2(b.child("conv"), cout, cout), conv: undefined });
      }
    }
  }

  apply(x: tf.Tensor): tf.Tensor5D {
    return tf.tidy(() => {
      let y: tf.Tensor5D = this.transpConvInit.apply(x);
      for (const b of this.blocks) {
        y = b.up.apply(y);
        if (b.conv) y = b.conv.apply(y);
      }
      return y;
    });
  }
}

/** MONAI UnetrUpBlock: transp_conv (k=s=2) → concat [upsampled, skip] on channels → conv_block(2·out → out). */
export class UnetrUpBlock {
  readonly transpConv: ConvTranspose3dK2;
  readonly convBlock: ConvBlock;

  constructor(ps: ParamStore, cin: number, cout: number, kernel: number, norm: NormName, resBlock: boolean) {
    this.transpConv = new ConvTranspose3dK2(ps.child("transp_conv.conv"), cin, cout);
    this.convBlock = convBlock(ps.child("conv_block"), 2 * cout, cout, kernel, norm, resBlock);
  }

  apply(x: tf.Tensor, skip: tf.Tensor): tf.Tensor5D {
    return tf.tidy(() => this.convBlock.apply(tf.concat([this.transpConv.apply(x), skip], -1)));
  }
}
