/**
 * The streaming metric components as the tests build them through the plugin (its registry entry, its args schema),
 * and the MONAI fixture comparison that fixtures.test.ts (cpu) and metrics.webgpu.test.ts (webgpu tensors) share.
 */
import { plugin } from "../src/index.js";
import type { BufferedClassMetric } from "../src/streaming.js";

/**
 * Bounds (the metrics run in float64 on the host, so the backend does not matter); NaN (an absent class) must
 * match NaN exactly. Measured node 20, 2026-12.
 */
// |ours − MONAI| / |MONAI|: 10× the measured 4.6e-8 (the fixture's float32 rounding of MONAI's value)
export const DICE_REL = 5e-7;
// |ours − MONAI| in mm: measured 0; the bound is one float32 ulp at 32 mm (the fixture stores float32 distances)
export const HD95_MM = 4e-6;

/** a registered metric built from raw args, as the runner builds a config entry */
export async function makeMetric(name: string, args: Record<string, unknown>): Promise<BufferedClassMetric> {
  const def = plugin.components.find((d) => d.name === name);
  if (def?.kind !== "metric") throw new Error(`no metric ${name}`);
  return (await def.create(def.args.parse(args), {} as never)) as BufferedClassMetric;
}

/** Dice and HD95 per case and class over the fixture's 14 classes, argmax over the logits inside (reduction none) */
export async function fixtureMetrics(): Promise<{ dice: BufferedClassMetric; hd: BufferedClassMetric }> {
  const common = { num_classes: 14, reduction: "none", argmax: true };
  return {
    dice: await makeMetric("DiceMetric", { ...common, include_background: false }),
    hd: await makeMetric("HausdorffDistanceMetric", { ...common, percentile: 95 }),
  };
}
