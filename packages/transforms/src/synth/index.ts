export type { HuTable } from "./anatomy.js";
export { type SynthDatasetOptions, type SynthDatasetResult, validationCount, writeSynthDataset } from "./dataset.js";
export { BTCV_CLASS_NAMES, btcvLabelNames, NUM_CLASSES, Organ, type OrganName } from "./labels.js";
export { DEFAULT_FOV_MM, MIN_SIZE, resolveGrid, type SynthGrid, type SynthOptions } from "./options.js";
export { generateCase, type SynthCase, type SynthCaseInfo, synthCaseName } from "./phantom.js";
