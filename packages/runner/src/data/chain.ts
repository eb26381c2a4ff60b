// the chain runner lives in @voxelpipe/transforms (the browser app runs it too); re-exported for the runner's modules
export {
  applyChain,
  ChainError,
  type ChainItem,
  chainFailure,
  deterministicPrefix,
  runRange,
  subjectOf,
} from "@voxelpipe/transforms";
