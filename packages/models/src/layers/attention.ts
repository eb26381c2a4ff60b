import * as tf from "@tensorflow/tfjs-core";
import type { ParamStore } from "../params/param-store.js";
import { Linear } from "./linear.js";
import { dropout, type Runtime } from "./runtime.js";

/**
 * MONAI SABlock (monai-semantics §3.2). One packed `qkv` Linear (no bias by default) whose output
 * feature f = t·H + h·dh + d (t ∈ {q,k,v}, head h, d < dh), i.e. einops "b n (qkv l d) -> qkv b l n d";
 * softmax(q·kᵀ·dh^-½) · v; heads re-concatenated head-major; `out_proj` Linear with bias.
 */
export class SelfAttention {
  readonly qkv: Linear;
  readonly outProj: Linear;
  readonly headDim: number;
  readonly scale: number;

  constructor(
    ps: ParamStore,
    readonly hiddenSize: number,
    readonly numHeads: number,
    readonly dropoutRate: number,
    qkvBias: boolean,
  ) {
    if (hiddenSize % numHeads !== 0)
      throw new Error(`hidden_size ${hiddenSize} is not divisible by num_heads ${numHeads}`);
    this.headDim = hiddenSize / numHeads;
    this.scale = this.headDim ** -0.5;
    this.qkv = new Linear(ps.child("qkv"), hiddenSize, 3 * hiddenSize, { bias: qkvBias });
    this.outProj = new Linear(ps.child("out_proj"), hiddenSize, hiddenSize);
  }

  /** x: [B, N, H] → [B, N, H] */
  apply(x: tf.Tensor, rt: Runtime): tf.Tensor {
    return tf.tidy(() => {
      const [b, n] = x.shape;
      const h = this.numHeads;
      const dh = this.headDim;
      const qkv = tf.reshape(this.qkv.apply(x), [b, n, 3, h, dh]);
      const packed = tf.transpose(qkv, [2, 0, 3, 1, 4]); // [3, B, heads, N, dh]
      const [q, k, v] = tf.split(packed, 3, 0).map((t) => tf.reshape(t, [b * h, n, dh]));
      let att = tf.softmax(tf.mul(tf.matMul(q, k, false, true), this.scale), -1); // [B·heads, N, N]
      att = dropout(att, this.dropoutRate, rt);
      const o = tf.reshape(tf.matMul(att, v), [b, h, n, dh]);
      const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [b, n, h * dh]); // "b h l d -> b l (h d)"
      return dropout(this.outProj.apply(merged), this.dropoutRate, rt);
    });
  }
}
