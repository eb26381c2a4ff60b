export type { HuTable } from "./anatomy.js";
export {
  type SynthDatasetOptions,
  type SynthDatasetResult,
  synthValidationCount,
  writeSynthDataset,
} from "./dataset.js";
export { BTCV_CLASS_NAMES, BTCV_NUM_CLASSES, BtcvLabel, type BtcvLabelName, btcvLabelNames } from "./labels.js";
export {
  resolveSynthGrid,
  SYNTH_DEFAULT_FOV_MM,
  SYNTH_MIN_SIZE,
  type SynthGrid,
  type SynthOptions,
} from "./options.js";
export { generateCase, type SynthCase, type SynthCaseInfo, synthCaseName } from "./phantom.js";
