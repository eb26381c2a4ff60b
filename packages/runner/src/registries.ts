import { Registries } from "@voxelpipe/core";
import { plugin as losses } from "@voxelpipe/losses";
import { plugin as metrics } from "@voxelpipe/metrics";
import { plugin as models } from "@voxelpipe/models";
import { plugin as transforms } from "@voxelpipe/transforms";
import { runnerPlugin } from "./builtins/plugin.js";

/** Registries holding every built-in component; pipelines add their `plugins:` on top. */
export function builtinRegistries(): Registries {
  const r = new Registries();
  for (const p of [transforms, models, losses, metrics, runnerPlugin]) r.use(p);
  return r;
}
