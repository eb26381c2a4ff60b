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
export { webRegistries } from "./export/registries.js";
export { resolveReferences } from "./export/refs.js";
export { type SiteServer, serveSite } from "./export/serve.js";
export { APP_DIR, exportWebSite, type WebExportResult, type WebExportSpec } from "./export/site.js";
