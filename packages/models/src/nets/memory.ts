import type { ModelMemory } from "@voxelpipe/core";

/**
 * Training memory of the networks, per sample, as fitted to what the engine keeps (measured with
 * tf.profile on wasm, lean backprop, fused norms; bench/calibrate-memory.mjs re-measures them and
 * packages/models/test/memory.test.ts holds the estimates to the measurements). Coefficients are
 * bytes per voxel and channel, or per token and feature.
 */

/** a ViT encoder's shape, and the bytes of its trainable weights */
export interface EncoderShape {
  layers: number;
  tokens: number;
  hidden: number;
  mlp: number;
  heads: number;
  vitParamBytes: number;
}

/** activations of the transformer blocks of one sample: attention, MLP, norms and residuals */
export function transformerBytes(o: Omit<EncoderShape, "vitParamBytes">): number {
  return o.layers * 4 * (o.tokens * (40 * o.hidden + 12 * o.mlp) + 6 * o.heads * o.tokens * o.tokens);
}

export function unetrMemory(
  o: EncoderShape & { voxels: number; feature: number; classes: number; checkpointing: boolean },
): ModelMemory {
  const vit = transformerBytes(o);
  if (!o.checkpointing) {
    // every conv stage keeps its inputs, norm outputs and concatenations; the ViT's linear layers
    // keep one copy of their weights per pass
    const saved = o.voxels * (179 * o.feature + 24 * o.classes + 63) + vit;
    return { saved, workspace: 0.1 * saved, fixed: o.vitParamBytes };
  }
  // stage inputs/outputs and the logits stay; one stage (the full-resolution decoder) is recomputed at a time
  return {
    saved: o.voxels * (14 * o.feature + 23 * o.classes + 87) + o.layers * o.tokens * o.hidden * 4,
    workspace: o.voxels * o.feature * 90 + vit / o.layers,
    fixed: 0,
  };
}

export function vitAutoEncMemory(o: EncoderShape & { voxels: number; checkpointing: boolean }): ModelMemory {
  const vit = transformerBytes(o);
  // the input, the reconstruction and the deconvolution between them
  const volume = 56 * o.voxels;
  if (!o.checkpointing) return { saved: volume + vit, workspace: 0.1 * (volume + vit), fixed: o.vitParamBytes };
  return { saved: volume + o.layers * o.tokens * o.hidden * 4, workspace: vit / o.layers, fixed: 0 };
}
