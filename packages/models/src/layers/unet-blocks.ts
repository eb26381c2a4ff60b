import * as tf from "@tensorflow/tfjs-core";
import type { ParamStore } from "../params/param-store.js";
import { leakyRelu } from "./activations.js";
import { Conv3d } from "./convs.js";
import { instanceNorm, instanceNormLeakyRelu } from "./norms.js";

/** The norms UNETR's blocks support. MONAI also offers batch/group norms; not ported yet. */
export type NormName = "instance";

/**
 * MONAI UnetResBlock (dynunet), stride 1: conv1 → norm1 → LReLU → conv2 → norm2; residual is the
 * input, or conv3 (1×1×1) → norm3 when channels change; LReLU(out + residual). Convs have no bias.
 * Keys: conv1.conv.weight, conv2.conv.weight, conv3.conv.weight.
 */
export class UnetResBlock {
  readonly conv1: Conv3d;
  readonly conv2: Conv3d;
  readonly conv3: Conv3d | undefined;

  constructor(ps: ParamStore, inChannels: number, outChannels: number, kernel: number, _norm: NormName) {
    this.conv1 = new Conv3d(ps.child("conv1.conv"), inChannels, outChannels, kernel);
    this.conv2 = new Conv3d(ps.child("conv2.conv"), outChannels, outChannels, kernel);
    this.conv3 =
      inChannels !== outChannels ? new Conv3d(ps.child("conv3.conv"), inChannels, outChannels, 1) : undefined;
  }

  apply(x: tf.Tensor): tf.Tensor5D {
    return tf.tidy(() => {
      let out = instanceNormLeakyRelu(this.conv1.apply(x));
      out = instanceNorm(this.conv2.apply(out));
      const residual = this.conv3 ? instanceNorm(this.conv3.apply(x)) : x;
      return leakyRelu(tf.add(out, residual)) as tf.Tensor5D;
    });
  }
}

/** MONAI UnetBasicBlock, stride 1: conv1 → norm1 → LReLU → conv2 → norm2 → LReLU (no residual). */
export class UnetBasicBlock {
  readonly conv1: Conv3d;
  readonly conv2: Conv3d;

  constructor(ps: ParamStore, inChannels: number, outChannels: number, kernel: number, _norm: NormName) {
    this.conv1 = new Conv3d(ps.child("conv1.conv"), inChannels, outChannels, kernel);
    this.conv2 = new Conv3d(ps.child("conv2.conv"), outChannels, outChannels, kernel);
  }

  apply(x: tf.Tensor): tf.Tensor5D {
    return tf.tidy(() => {
      const out = instanceNormLeakyRelu(this.conv1.apply(x));
      return instanceNormLeakyRelu(this.conv2.apply(out)) as tf.Tensor5D;
    });
  }
}

/** MONAI UnetOutBlock: 1×1×1 Conv3d WITH bias. Keys conv.conv.{weight,bias}. */
export class UnetOutBlock {
  readonly conv: Conv3d;

  constructor(ps: ParamStore, inChannels: number, outChannels: number) {
    this.conv = new Conv3d(ps.child("conv.conv"), inChannels, outChannels, 1, { bias: true });
  }

  apply(x: tf.Tensor): tf.Tensor5D {
    return this.conv.apply(x);
  }
}
