// `voxelpipe export web` / `voxelpipe serve` (Node) and the site's manifest format
export {
  type ComponentEntry,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  type Manifest,
  manifestSchema,
  parseManifest,
  WEIGHTS_FILE,
} from "./export/manifest.js";
export { resolveReferences } from "./export/refs.js";
export { webRegistries } from "./export/registries.js";
export { type SiteServer, serveSite } from "./export/serve.js";
export { APP_DIR, exportWebSite, type WebExportResult, type WebExportSpec } from "./export/site.js";
// the report viewer: organ colours (shared with the static PNGs), its payload format, the inlined bundle
export { inlineSafe, VIEWER_BUNDLE, viewerBundle, viewerScriptTag } from "./report-assets.js";
export {
  BTCV_CLASS_NAMES,
  classNames,
  ERROR_COLORS,
  ORGAN_COLORS,
  organColor,
  organHex,
} from "./viewer/organs.js";
export { VIEWER_ATTRIBUTE, type ViewerCasePayload, type ViewerPanelsPayload } from "./viewer/payload.js";
