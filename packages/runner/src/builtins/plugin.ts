import { definePlugin } from "@voxelpipe/core";
import { Datalist, ImageFolder } from "../data/datasets.js";
import { preprocessStage } from "../data/preprocess-stage.js";
import { evaluateStage } from "../evaluate/evaluate-stage.js";
import { inferStage } from "../infer/infer-stage.js";
import { synthStage } from "../synth/synth-stage.js";
import { trainStage } from "../train/train-stage.js";
import { Adam, AdamW, SGD } from "./optimizers.js";
import { ConstantLR, StepLR, WarmupCosine } from "./schedulers.js";
import { SyntheticRegression } from "./synthetic-regression.js";

/** The runner's own components: stage kinds, optimizers, schedulers, generated datasets. */
export const runnerPlugin = definePlugin({
  meta: { name: "@voxelpipe/runner", version: "0.1.0", namespace: "vp" },
  components: [
    trainStage,
    inferStage,
    evaluateStage,
    synthStage,
    preprocessStage,
    Adam,
    AdamW,
    SGD,
    ConstantLR,
    StepLR,
    WarmupCosine,
    SyntheticRegression,
    Datalist,
    ImageFolder,
  ],
});
