import { definePlugin, packageVersion, Registries } from "@voxelpipe/core";
import { plugin as losses } from "@voxelpipe/losses";
import { plugin as metrics } from "@voxelpipe/metrics";
import { plugin as models } from "@voxelpipe/models";
import { plugin as transforms } from "@voxelpipe/transforms";
import { DatalistDef, ImageFolderDef } from "./datasets.js";
import { AdamDef, AdamWDef, SGDDef } from "./optimizers.js";
import { ConstantLRDef, StepLRDef, WarmupCosineDef } from "./schedulers.js";
import { SyntheticRegressionDef } from "./synthetic-regression.js";

/** The runner plugin's identity; `registries.ts` adds the stage kinds under the same name. */
export const runnerMeta = {
  name: "@voxelpipe/runner",
  version: packageVersion(import.meta.url),
  namespace: "vp",
} as const;

/** The runner's own components other than stage kinds: optimizers, schedulers, datasets. */
export const runnerComponents = [
  AdamDef,
  AdamWDef,
  SGDDef,
  ConstantLRDef,
  StepLRDef,
  WarmupCosineDef,
  SyntheticRegressionDef,
  DatalistDef,
  ImageFolderDef,
];

/**
 * Registries of every built-in component except the stage kinds: what worker threads (data loading, model
 * replicas) and embedders building a model or a chain use. They never run a stage, so they do not load the
 * stage kinds and what those import (the trainer, the reports, PNG encoding).
 */
export function componentRegistries(): Registries {
  const r = new Registries();
  const runner = definePlugin({ meta: runnerMeta, components: runnerComponents });
  for (const p of [transforms, models, losses, metrics, runner]) r.use(p);
  return r;
}
