import { definePlugin, Registries } from "@voxelpipe/core";
import { plugin as losses } from "@voxelpipe/losses";
import { plugin as metrics } from "@voxelpipe/metrics";
import { plugin as models } from "@voxelpipe/models";
import { plugin as transforms } from "@voxelpipe/transforms";
import { runnerComponents, runnerMeta } from "./builtins/components.js";
import { preprocessStage } from "./data/preprocess-stage.js";
import { evaluateStage } from "./evaluate/evaluate-stage.js";
import { inferStage } from "./infer/infer-stage.js";
import { synthStage } from "./synth/synth-stage.js";
import { trainStage } from "./train/train-stage.js";

/** The runner's own plugin: the stage kinds, optimizers, schedulers and datasets (namespace `vp`). */
export const runnerPlugin = definePlugin({
  meta: runnerMeta,
  components: [trainStage, inferStage, evaluateStage, synthStage, preprocessStage, ...runnerComponents],
});

/** Registries holding every built-in component; pipelines add their `plugins:` on top. */
export function builtinRegistries(): Registries {
  const r = new Registries();
  for (const p of [transforms, models, losses, metrics, runnerPlugin]) r.use(p);
  return r;
}
