// The networks the benchmarks build, defined once for bench/unetr.mjs, bench/webgpu.mjs and bench/realsize-ours.mjs.
// UNETR args as `new UNETR(...)` takes them (MONAI's UNETR fixes patch 16 and 12 layers, so a "patch 8, 4 layers"
// tiny net is not expressible with it); bench/unetr_torch.py and bench/realsize_torch.py hold PyTorch's copies.

/** UNETR configurations, 14 classes, one input channel */
export const UNETR_CONFIGS = {
  // the CLI test's network (packages/runner/test/fixtures/pipelines/tiny-infer.yaml)
  tiny: { in_channels: 1, out_channels: 14, img_size: 16, feature_size: 2, hidden_size: 16, mlp_dim: 32, num_heads: 2 },
  // a 32³ smoke-test size
  small: {
    in_channels: 1,
    out_channels: 14,
    img_size: 32,
    feature_size: 16,
    hidden_size: 96,
    mlp_dim: 384,
    num_heads: 4,
  },
  // pipelines/demo.yaml's fine-tuned network
  demo: {
    in_channels: 1,
    out_channels: 14,
    img_size: 48,
    feature_size: 8,
    hidden_size: 96,
    mlp_dim: 192,
    num_heads: 4,
  },
  // the BTCV tutorial's (the seed's) 96³ network
  btcv: {
    in_channels: 1,
    out_channels: 14,
    img_size: 96,
    feature_size: 16,
    hidden_size: 768,
    mlp_dim: 3072,
    num_heads: 12,
  },
};

/** the ViTAutoEnc that pretrains a UNETR config's ViT (the SSL tutorial's, ssl_train.ipynb, for btcv) */
const vitAutoEncOf = ({ img_size, hidden_size, mlp_dim, num_heads }) => ({
  img_size,
  patch_size: 16,
  hidden_size,
  mlp_dim,
  num_layers: 12,
  num_heads,
});

/** ViTAutoEnc configurations (in_channels left to the caller) */
export const VIT_AUTOENC_CONFIGS = {
  small: vitAutoEncOf(UNETR_CONFIGS.small),
  btcv: vitAutoEncOf(UNETR_CONFIGS.btcv),
};
