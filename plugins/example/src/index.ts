import { definePlugin, packageVersion } from "@voxelpipe/core";
import { HuberLossDef } from "./huber.js";
import { MLPDef } from "./mlp.js";

/**
 * A third-party-style plugin: its own package, depending only on @voxelpipe/core. A pipeline
 * loads it with `plugins: [../plugins/example]` and uses `example/MLP`, `example/HuberLoss`
 * (or the short names when unique).
 */
export const plugin = definePlugin({
  meta: { name: "@voxelpipe-example/plugin", version: packageVersion(import.meta.url), namespace: "example" },
  components: [MLPDef, HuberLossDef],
});
export default plugin;
export { HuberLossDef, MLPDef };
