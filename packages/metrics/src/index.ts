import { definePlugin } from "@voxelpipe/core";

/** The built-in metrics plugin: registers through the same SDK a third party uses. */
export const plugin = definePlugin({
  meta: { name: "@voxelpipe/metrics", version: "0.1.0", namespace: "vp" },
  components: [],
});
export default plugin;
