import type { PluginDefinition } from "@voxelpipe/core";
import { describe, it } from "vitest";
import { useBackend } from "./backend.js";
import { type ConformanceOptions, conformanceChecks, pluginChecks } from "./conformance.js";

/**
 * Register the conformance suite of a plugin with vitest: one test per component and contract.
 * A plugin author's whole test file:
 *
 *   import { describeConformance } from "@voxelpipe/testing/vitest";
 *   import plugin from "../src/index.js";
 *   describeConformance(plugin, { components: { MyModel: { inputs: () => [tf.zeros([1, 4])] } } });
 */
export function describeConformance(
  plugin: PluginDefinition,
  options: ConformanceOptions & { backend?: "cpu" | "wasm" } = {},
): void {
  describe(`${plugin.meta.name} conforms to @voxelpipe/core's contracts`, () => {
    it(`runs on the ${options.backend ?? "cpu"} backend`, async () => {
      await useBackend(options.backend ?? "cpu");
    });
    for (const c of [...pluginChecks(plugin), ...conformanceChecks(plugin, options)]) {
      if (c.skipped !== undefined) {
        it.skip(`${c.title} [skipped: ${c.skipped}]`);
        continue;
      }
      it(c.title, async () => {
        await useBackend(options.backend ?? "cpu");
        await c.run();
      });
    }
  });
}
