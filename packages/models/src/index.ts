import { definePlugin, packageVersion } from "@voxelpipe/core";
import { SlidingWindowDef } from "./components/inferers.js";
import { UNETRDef, ViTAutoEncDef, ViTDef } from "./components/models.js";

export { SlidingWindow, SlidingWindowDef, slidingWindowArgs } from "./components/inferers.js";
export { UNETRDef, ViTAutoEncDef, ViTDef } from "./components/models.js";
export {
  labelVolume,
  labelVolumeAsync,
  type PredictOptions,
  predictLogits,
  probabilityVolume,
  probabilityVolumeAsync,
} from "./inferers/predict.js";
export {
  type BlendMode,
  fallBackRoi,
  importanceMap,
  type PaddingMode,
  type Predictor,
  type SlidingWindowGrid,
  type SlidingWindowOptions,
  scanIntervals,
  slidingWindowGrid,
  slidingWindowInference,
  windowGrid,
  windowStarts,
} from "./inferers/sliding-window.js";
export { gelu, LEAKY_SLOPE, leakyRelu } from "./layers/activations.js";
export { SelfAttention } from "./layers/attention.js";
export { Conv3d, ConvTranspose3dK2 } from "./layers/convs.js";
export { Linear } from "./layers/linear.js";
export { MlpBlock } from "./layers/mlp.js";
export { instanceNorm, LayerNorm, NORM_EPS } from "./layers/norms.js";
export {
  PatchEmbedding,
  type PatchEmbeddingConfig,
  type PosEmbedType,
  type ProjType,
  sincosPositionEmbedding,
} from "./layers/patch-embedding.js";
export { dropout, INFERENCE, type Runtime } from "./layers/runtime.js";
export { TransformerBlock } from "./layers/transformer-block.js";
export { type NormName, UnetBasicBlock, UnetOutBlock, UnetResBlock } from "./layers/unet-blocks.js";
export { UnetrBasicBlock, UnetrPrUpBlock, UnetrUpBlock } from "./layers/unetr-blocks.js";
export { type Network, NetworkBase, sizeArg, triple } from "./nets/common.js";
export {
  UNETR,
  UNETR_LAYERS,
  UNETR_PATCH,
  UNETR_SKIPS,
  type UNETRArgs,
  type UNETROutput,
  unetrArgs,
} from "./nets/unetr.js";
export { transformerArgs, ViT, type ViTArgs, vitArgs } from "./nets/vit.js";
export { ViTEncoder, type ViTEncoderConfig, type ViTEncoderOutput } from "./nets/vit-encoder.js";
export { ViTAutoEnc, type ViTAutoEncArgs, vitAutoEncArgs } from "./nets/vitautoenc.js";
export { depthToSpace3d, spaceToDepth3d, type Triple } from "./ops/patch-ops.js";
export { fillInit, type Initializer } from "./params/init.js";
export { countParams, type ParamInfo, type ParamLayout, ParamStore, torchDefault } from "./params/param-store.js";
export {
  CHECKPOINT_FORMAT,
  type CheckpointMeta,
  defaultVersions,
  isVoxelpipeCheckpoint,
  type LoadedCheckpoint,
  loadCheckpoint,
  MODELS_VERSION,
  saveCheckpoint,
} from "./weights/checkpoint.js";
export {
  applyCheckpoint,
  applyInit,
  globToRegExp,
  type InitReport,
  type InitSpec,
  initSchema,
  prefixRenamer,
} from "./weights/init.js";
export { fromTorchLayout, fromTorchShape, permuteArray, toTorchLayout } from "./weights/layout.js";
export {
  exportMonaiStateDict,
  importMonaiStateDict,
  isUnusedMonaiKey,
  loadMonaiSafetensors,
  saveMonaiSafetensors,
} from "./weights/monai.js";
export { assignVariable, modelTensors, toFloat32 } from "./weights/tensors.js";

/** The built-in models plugin: registers through the same SDK a third party uses. */
export const plugin = definePlugin({
  meta: { name: "@voxelpipe/models", version: packageVersion(import.meta.url), namespace: "vp" },
  components: [ViTDef, ViTAutoEncDef, UNETRDef, SlidingWindowDef],
});
export default plugin;
