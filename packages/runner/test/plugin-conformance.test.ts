import { plugin as losses } from "@voxelpipe/losses";
import { plugin as metrics } from "@voxelpipe/metrics";
import { plugin as models } from "@voxelpipe/models";
import { describeConformance } from "@voxelpipe/testing/vitest";
import { plugin as transforms } from "@voxelpipe/transforms";
import { runnerPlugin } from "../src/registries.js";

// The runner's own components (optimizers, schedulers, generated data, stage kinds) against the plugin contracts.
describeConformance(runnerPlugin, {
  plugins: [transforms, models, losses, metrics],
  components: {
    Datalist: { args: { datalist: "dataset.json" }, skip: "reads a datalist file (covered by data-datasets.test.ts)" },
    ImageFolder: { args: { images: "imagesTr" }, skip: "reads a folder of images (covered by data-datasets.test.ts)" },
    SyntheticRegression: { args: { features: 3, train: 8, val: 4 } },
    SGD: { args: { lr: 0.1, momentum: 0.9 } },
    StepLR: { args: { step_size: 10 } },
  },
});
