import * as tf from "@tensorflow/tfjs-core";
import { engine } from "@voxelpipe/core";
import { spaceToDepth3d, type Triple } from "../ops/patch-ops.js";
import { type ParamStore, torchDefault } from "../params/param-store.js";
import { Linear } from "./linear.js";
import { dropout, type Runtime } from "./runtime.js";

export type ProjType = "conv" | "perceptron";
export type PosEmbedType = "none" | "learnable" | "sincos";

/**
 * MONAI's fixed 3-D sin-cos table (pos_embed_utils.build_sincos_position_embedding, temperature
 * 1e4): grid (h, w, d) = patch grid with "ij" meshgrid (h = S0), pos_dim = dim/6,
 * ω_i = 1/10000^(i/pos_dim), columns [sin(w·ω), cos(w·ω), sin(h·ω), cos(h·ω), sin(d·ω), cos(d·ω)].
 * Returns [n0·n1·n2, dim] row-major, token order S0 major (as the patch tokens).
 */
export function sincosPositionEmbedding(grid: Triple, dim: number, temperature = 10000): Float32Array {
  if (dim % 6 !== 0) {
    throw new Error(`sincos position embedding needs hidden_size divisible by 6 for 3-D, got ${dim}`);
  }
  const pd = dim / 6;
  const omega = new Float32Array(pd);
  for (let i = 0; i < pd; i++) omega[i] = 1 / temperature ** Math.fround(i / pd);
  const [n0, n1, n2] = grid;
  const out = new Float32Array(n0 * n1 * n2 * dim);
  let row = 0;
  for (let h = 0; h < n0; h++)
    for (let w = 0; w < n1; w++)
      for (let d = 0; d < n2; d++, row++) {
        const o = row * dim;
        for (let i = 0; i < pd; i++) {
          // float32 products, as torch.einsum on float32 tensors
          const aw = Math.fround(w * omega[i]);
          const ah = Math.fround(h * omega[i]);
          const ad = Math.fround(d * omega[i]);
          out[o + i] = Math.sin(aw);
          out[o + pd + i] = Math.cos(aw);
          out[o + 2 * pd + i] = Math.sin(ah);
          out[o + 3 * pd + i] = Math.cos(ah);
          out[o + 4 * pd + i] = Math.sin(ad);
          out[o + 5 * pd + i] = Math.cos(ad);
        }
      }
  return out;
}

export interface PatchEmbeddingConfig {
  inChannels: number;
  imgSize: Triple;
  patchSize: Triple;
  hiddenSize: number;
  projType: ProjType;
  posEmbedType: PosEmbedType;
  dropoutRate: number;
}

/**
 * MONAI PatchEmbeddingBlock → [B, n_patches, hidden].
 * - conv: Conv3d(kernel = stride = patch, bias) — key `patch_embeddings.{weight,bias}`;
 * - perceptron: rearrange to (p1 p2 p3 c) patch vectors + Linear — key `patch_embeddings.1.{weight,bias}`.
 * Both are the same matMul here (the conv kernel [p0,p1,p2,C,H] flattens in (p1 p2 p3 c) order).
 * `position_embeddings` [1, n, hidden] is added (learnable trunc-normal, fixed sincos, or zeros for "none").
 */
export class PatchEmbedding {
  readonly grid: Triple;
  readonly nPatches: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly posEmbed: tf.Variable;
  private readonly perceptron: Linear | undefined;

  constructor(
    ps: ParamStore,
    readonly cfg: PatchEmbeddingConfig,
  ) {
    const { imgSize, patchSize, inChannels, hiddenSize } = cfg;
    for (let i = 0; i < 3; i++) {
      if (imgSize[i] % patchSize[i] !== 0) {
        throw new Error(`img_size [${imgSize}] must be divisible by patch_size [${patchSize}] (dim ${i})`);
      }
    }
    this.grid = [imgSize[0] / patchSize[0], imgSize[1] / patchSize[1], imgSize[2] / patchSize[2]];
    this.nPatches = this.grid[0] * this.grid[1] * this.grid[2];
    const patchDim = inChannels * patchSize[0] * patchSize[1] * patchSize[2];
    // creation order fixes the init draw order (determinism), nothing else
    const posInit =
      cfg.posEmbedType === "learnable"
        ? ({ kind: "truncNormal", std: 0.02, a: -2, b: 2 } as const)
        : cfg.posEmbedType === "sincos"
          ? ({ kind: "values", data: sincosPositionEmbedding(this.grid, hiddenSize) } as const)
          : ({ kind: "zeros" } as const);
    // sincos is a frozen buffer-like parameter in MONAI (requires_grad False); "none" stays zero but trainable
    this.posEmbed = ps.add(
      "position_embeddings",
      [1, this.nPatches, hiddenSize],
      posInit,
      "plain",
      cfg.posEmbedType !== "sincos",
    );
    if (cfg.projType === "conv") {
      const p = ps.child("patch_embeddings");
      const init = torchDefault(patchDim);
      this.weight = p.add("weight", [...patchSize, inChannels, hiddenSize], init, "conv");
      this.bias = p.add("bias", [hiddenSize], init);
      this.perceptron = undefined;
    } else {
      this.perceptron = new Linear(ps.child("patch_embeddings.1"), patchDim, hiddenSize, {
        weightInit: { kind: "truncNormal", std: 0.02, a: -2, b: 2 },
        biasInit: { kind: "zeros" },
      });
      this.weight = this.perceptron.weight;
      this.bias = this.perceptron.bias as tf.Variable;
    }
  }

  /** x: [B, S0, S1, S2, C] → [B, n, hidden] */
  apply(x: tf.Tensor5D, rt: Runtime): tf.Tensor3D {
    return tf.tidy(() => {
      const b = x.shape[0];
      const h = this.cfg.hiddenSize;
      let tokens: tf.Tensor;
      if (this.perceptron) {
        const cols = spaceToDepth3d(x, this.cfg.patchSize);
        tokens = this.perceptron.apply(tf.reshape(cols, [b, this.nPatches, cols.shape[4]]));
      } else {
        const y = engine.patchConv3d(x, this.weight as tf.Tensor5D);
        tokens = tf.add(tf.reshape(y, [b, this.nPatches, h]), this.bias);
      }
      return dropout(tf.add(tokens, this.posEmbed), this.cfg.dropoutRate, rt) as tf.Tensor3D;
    });
  }
}
