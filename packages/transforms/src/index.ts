import { definePlugin, packageVersion } from "@voxelpipe/core";
import { ioComponents } from "./io/index.js";
import { transformComponents } from "./transforms/index.js";

export * from "./io/index.js";
export * from "./synth/index.js";
export * from "./transforms/index.js";

/** The built-in transforms plugin: registers through the same SDK a third party uses. */
export const plugin = definePlugin({
  meta: { name: "@voxelpipe/transforms", version: packageVersion(import.meta.url), namespace: "vp" },
  components: [...ioComponents, ...transformComponents],
});
export default plugin;
