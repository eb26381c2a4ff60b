/**
 * The voxelpipe viewer (browser): NiiVue with organ colours, legend, layer toggles, slices, 3-D and the error
 * view. The report bundle (bundle.ts) and the export-web site both mount it through `mountViewer`.
 */
export { errorColormap, errorMap, organColormap } from "./error-map.js";
export { mountAll } from "./mount.js";
export { BTCV_CLASS_NAMES, classNames, ERROR_COLORS, ORGAN_COLORS, organColor, organHex } from "./organs.js";
export { mountPanels, type PanelsHandle, type PanelsOptions } from "./panels.js";
export { base64ToBytes, VIEWER_ATTRIBUTE, type ViewerCasePayload, type ViewerPanelsPayload } from "./payload.js";
export type { Layer, Layout } from "./toolbar.js";
export { loadVolume, mountViewer, type ViewerHandle, type ViewerOptions, type VolumeSource } from "./viewer.js";
