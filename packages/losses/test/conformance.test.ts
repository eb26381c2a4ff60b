import { tf } from "@voxelpipe/core";
import { describeConformance } from "@voxelpipe/testing/vitest";
import { plugin } from "../src/index.js";

// Every built-in loss against the plugin contracts (@voxelpipe/testing): a differentiable scalar,
// and a declared batchReduction that holds over the batch (micro-batched training relies on it).
const logitsAndLabels = () =>
  tf.tidy(() => [
    tf.randomNormal([2, 4, 4, 4, 3], 0, 1, "float32", 1),
    tf.cast(tf.randomUniform([2, 4, 4, 4, 1], 0, 3, "int32", 2), "float32"),
  ]);

describeConformance(plugin, {
  components: {
    ContrastiveLoss: {
      args: { temperature: 0.5 },
      inputs: () =>
        tf.tidy(() => [tf.randomNormal([4, 8], 0, 1, "float32", 3), tf.randomNormal([4, 8], 0, 1, "float32", 4)]),
    },
    DiceLoss: { args: { softmax: true, to_onehot_y: true }, inputs: logitsAndLabels },
    DiceCELoss: { args: { softmax: true, to_onehot_y: true }, inputs: logitsAndLabels },
  },
});
