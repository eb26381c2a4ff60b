export {
  checkDatalistFiles,
  type Datalist,
  type DatalistRecord,
  fileStem,
  globDatalist,
  loadDecathlonDatalist,
  readDecathlonDatalist,
} from "./datalist.js";
export { caseName, ioComponents, LoadImageDef, SaveImageDef, saveImagePath } from "./load-save.js";
export { type NiftiDtype, SUPPORTED_DTYPES } from "./nifti-dtypes.js";
export type { NiftiHeaderMeta } from "./nifti-header.js";
export {
  checkDeclaredBytes,
  defaultMaxImageBytes,
  formatBytes,
  MAX_IMAGE_BYTES_ENV,
  MAX_IMAGE_BYTES_FROM_ENV,
  maxImageBytes,
  setMaxImageBytes,
  setNiftiWarningHandler,
  withMaxImageBytes,
} from "./nifti-limits.js";
export { parseNifti, type ReadNiftiOptions, readNifti, readNiftiSync } from "./nifti-read.js";
export { encodeNifti, type WriteNiftiOptions, writeNifti, writeNiftiSync } from "./nifti-write.js";
export { channelLastToFortran, fortranToChannelLast } from "./transpose.js";
