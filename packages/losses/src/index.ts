import { definePlugin, packageVersion } from "@voxelpipe/core";
import { lossComponents } from "./components.js";

export * from "./components.js";
export * from "./contrastive.js";
export * from "./cross-entropy.js";
export * from "./dice.js";
export * from "./dice-ce.js";
export * from "./regression.js";
export type { LossReduction, WarnFn } from "./shapes.js";
export { oneHotLabels } from "./shapes.js";

/** The built-in losses plugin: registers through the same SDK a third party uses. */
export const plugin = definePlugin({
  meta: { name: "@voxelpipe/losses", version: packageVersion(import.meta.url), namespace: "vp" },
  components: [...lossComponents],
});
export default plugin;
