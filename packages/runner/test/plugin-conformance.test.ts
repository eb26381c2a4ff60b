import { plugin as losses } from "@voxelpipe/losses";
import { plugin as metrics } from "@voxelpipe/metrics";
import { plugin as models } from "@voxelpipe/models";
import { describeConformance } from "@voxelpipe/testing/vitest";
import { plugin as transforms } from "@voxelpipe/transforms";
import { runnerPlugin } from "../src/registries.js";

// The runner's own components (optimizers, schedulers, generated data) against the plugin contracts.
// The stage kinds are left out for now: several of their config fields (model, optimizer, batch_size,
// validate, ...) carry no description yet, which the kit reports as undocumented arguments.
const stage = { skip: "stage config fields are not all described yet" };
describeConformance(runnerPlugin, {
  plugins: [transforms, models, losses, metrics],
  components: {
    Datalist: { skip: "reads a datalist file (covered by data-datasets.test.ts)" },
    ImageFolder: { skip: "reads a folder of images (covered by data-datasets.test.ts)" },
    SyntheticRegression: { args: { features: 3, train: 8, val: 4 } },
    SGD: { args: { lr: 0.1, momentum: 0.9 } },
    StepLR: { args: { step_size: 10 } },
    train: stage,
    infer: stage,
    evaluate: stage,
    synth: stage,
    preprocess: stage,
  },
});
