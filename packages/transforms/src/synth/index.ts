export type { HuTable } from "./anatomy.js";
export { BTCV_CLASS_NAMES, btcvLabelNames, NUM_CLASSES, Organ, type OrganName } from "./labels.js";
export { DEFAULT_FOV_MM, MIN_SIZE, resolveGrid, type SynthGrid, type SynthOptions } from "./options.js";
export { synthCaseName, generateCase, type SynthCase, type SynthCaseInfo } from "./phantom.js";
