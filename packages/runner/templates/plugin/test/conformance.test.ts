import { tf } from "@voxelpipe/core";
import { describeConformance } from "@voxelpipe/testing/vitest";
import plugin from "../src/index.js";

// Every component against voxelpipe's contracts. Give arguments where a component has required
// ones, and inputs for models (the kit cannot guess their shape).
describeConformance(plugin, {
  components: {
    Scale: { args: { keys: ["image"], factor: 2 } },
    Linear: { args: { in_features: 4 }, inputs: () => [tf.randomNormal([3, 4], 0, 1, "float32", 1)] },
  },
});
