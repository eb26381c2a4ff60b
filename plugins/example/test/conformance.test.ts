import { tf } from "@voxelpipe/core";
import { describeConformance } from "@voxelpipe/testing/vitest";
import plugin from "../src/index.js";

// every component against the framework's contracts (@voxelpipe/testing); the MLP needs an input width
describeConformance(plugin, {
  components: {
    MLP: { args: { in_features: 3, hidden: [4] }, inputs: () => [tf.randomNormal([2, 3], 0, 1, "float32", 7)] },
  },
});
