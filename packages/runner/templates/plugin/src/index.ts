import { definePlugin, packageVersion } from "@voxelpipe/core";
import { HuberLossDef } from "./huber.js";
import { LinearDef } from "./linear.js";
import { ScaleDef } from "./scale.js";

/**
 * The plugin: its components under the namespace "__NAMESPACE__" (canonical keys __NAMESPACE__/Scale,
 * __NAMESPACE__/HuberLoss, __NAMESPACE__/Linear; short names work where they are unique). The
 * version is read from this package's package.json; `api` is the voxelpipe core plugin API this
 * code is written for (a core with another API refuses it with a clear message, VP152).
 */
const plugin = definePlugin({
  meta: {
    name: "__PACKAGE_NAME__",
    version: packageVersion(import.meta.url),
    namespace: "__NAMESPACE__",
    api: __CORE_API__,
  },
  components: [ScaleDef, HuberLossDef, LinearDef],
});
export default plugin;
export { HuberLossDef, LinearDef, ScaleDef };
