import { definePlugin, Registries } from "@voxelpipe/core";
import { plugin as losses } from "@voxelpipe/losses";
import { plugin as metrics } from "@voxelpipe/metrics";
import { plugin as models } from "@voxelpipe/models";
import { plugin as transforms } from "@voxelpipe/transforms";
import { runnerComponents, runnerMeta } from "./builtins/components.js";
import { PreprocessDef } from "./data/preprocess-stage.js";
import { EvaluateDef } from "./evaluate/evaluate-stage.js";
import { InferDef } from "./infer/infer-stage.js";
import { SynthDef } from "./synth/synth-stage.js";
import { TrainDef } from "./train/train-stage.js";

/** The runner's own plugin: the stage kinds, optimizers, schedulers and datasets (namespace `vp`). */
export const runnerPlugin = definePlugin({
  meta: runnerMeta,
  components: [TrainDef, InferDef, EvaluateDef, SynthDef, PreprocessDef, ...runnerComponents],
});

/** Registries holding every built-in component; pipelines add their `plugins:` on top. */
export function builtinRegistries(): Registries {
  const r = new Registries();
  for (const p of [transforms, models, losses, metrics, runnerPlugin]) r.use(p);
  return r;
}
