import { Registries } from "@voxelpipe/core";
import { plugin as models } from "@voxelpipe/models";
import { plugin as transforms } from "@voxelpipe/transforms";

/**
 * The components the browser app bundles: voxelpipe's transforms, models and inferers (the same
 * plugins the runner registers). `voxelpipe export web` refuses a pipeline whose inference chain
 * needs anything else (VP295), so a site never fails on an unknown component.
 */
export function webRegistries(): Registries {
  const r = new Registries();
  r.use(transforms);
  r.use(models);
  return r;
}
