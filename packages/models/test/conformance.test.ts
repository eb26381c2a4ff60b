import { tf } from "@voxelpipe/core";
import { describeConformance } from "@voxelpipe/testing/vitest";
import { plugin } from "../src/index.js";

// Every built-in network against the plugin contracts (@voxelpipe/testing) at a small size: stable
// MONAI state-dict names, deterministic initialisation, a checkpoint that round-trips exactly.
const small = {
  in_channels: 1,
  img_size: [16, 16, 16],
  patch_size: [8, 8, 8],
  hidden_size: 32,
  mlp_dim: 64,
  num_layers: 2,
  num_heads: 2,
};
const volume = () => [tf.randomNormal([1, 16, 16, 16, 1], 0, 1, "float32", 5)];

describeConformance(plugin, {
  components: {
    ViT: { args: small, inputs: volume },
    ViTAutoEnc: { args: small, inputs: volume },
    UNETR: {
      args: {
        in_channels: 1,
        out_channels: 2,
        img_size: [16, 16, 16],
        feature_size: 4,
        hidden_size: 32,
        mlp_dim: 64,
        num_heads: 2,
      },
      inputs: volume,
    },
    SlidingWindow: {
      args: { roi_size: [8, 8, 8], sw_batch_size: 2 },
      inputs: () => [tf.randomNormal([1, 12, 12, 12, 2], 0, 1, "float32", 6)],
    },
  },
});
