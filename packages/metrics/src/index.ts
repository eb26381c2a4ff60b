import { definePlugin, packageVersion } from "@voxelpipe/core";
import { metricComponents } from "./components.js";

export * from "./components.js";
export * from "./dice.js";
export * from "./edt.js";
export * from "./hausdorff.js";
export type { BatchGeometry, Box, LabelBatch } from "./layout.js";
export * from "./quantile.js";
export * from "./reduction.js";
export * from "./streaming.js";
export * from "./surface.js";
export * from "./surface-dice.js";

/** The built-in metrics plugin: registers through the same SDK a third party uses. */
export const plugin = definePlugin({
  meta: { name: "@voxelpipe/metrics", version: packageVersion(import.meta.url), namespace: "vp" },
  components: [...metricComponents],
});
export default plugin;
