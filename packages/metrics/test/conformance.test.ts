import { describeConformance } from "@voxelpipe/testing/vitest";
import { plugin } from "../src/index.js";

// Every built-in metric against the plugin contracts (@voxelpipe/testing): streaming over batches
// agrees with one update of them all, and reset() forgets (the kit's one-hot [2, 6, 6, 6, 2] batches).
describeConformance(plugin, {
  components: {
    SurfaceDiceMetric: { args: { class_thresholds: [1] } },
  },
});
