export {
  applyChain,
  ChainError,
  type ChainItem,
  chainFailure,
  deterministicPrefix,
  runRange,
  subjectOf,
} from "@voxelpipe/transforms";
export { buildChain, type ChainSource, chainEntries, chainPath, resolveEntryRefs } from "./chain-source.js";
export * from "./collate.js";
export { DiskCache } from "./disk-cache.js";
export {
  type BatchOptions,
  DataLoader,
  type DataLoaderOptions,
  type LoaderOptions,
  type LoaderStats,
  loadBatches,
} from "./loader.js";
export { cachedCount, type LoaderConfig, loaderDefaults, loaderSchema } from "./loader-config.js";
export { WorkerPool, WorkerTaskError, workerFile } from "./pool.js";
export { type PreprocessConfig, PreprocessDef, preprocessLoaderSchema } from "./preprocess-stage.js";
export { cloneSamples, decodeSamples, encodeSamples, transferables } from "./sample-codec.js";
