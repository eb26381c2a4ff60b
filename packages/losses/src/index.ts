import { definePlugin } from "@voxelpipe/core";
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
  meta: { name: "@voxelpipe/losses", version: "0.1.0", namespace: "vp" },
  components: [...lossComponents],
});
export default plugin;
