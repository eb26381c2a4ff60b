import { defineMetric, z } from "@voxelpipe/core";
import { computeDice } from "./dice.js";
import { computeHausdorffDistance } from "./hausdorff.js";
import { type MetricReduction, metricReductions } from "./reduction.js";
import { type BatchCompute, BufferedClassMetric } from "./streaming.js";
import { computeSurfaceDice } from "./surface-dice.js";

const common = {
  num_classes: z
    .number()
    .int()
    .min(2)
    .optional()
    .describe("number of classes incl. background, needed for label-map inputs [B, S0, S1, S2, 1]"),
  reduction: z
    .enum(metricReductions)
    .default("mean")
    .describe("MONAI MetricReduction over the buffered [cases, classes] values; NaNs are ignored"),
  argmax: z
    .boolean()
    .default(false)
    .describe("take argmax over the channels of a multi-channel prediction first (logits/probabilities → labels)"),
  class_names: z
    .array(z.string())
    .optional()
    .describe("names for the per-class breakdown, indexed by class (incl. background); default: the class index"),
  name: z.string().optional().describe("name under which the metric is reported"),
};

/** The buffered [cases, classes] metric of every definition here, with `common`'s reduction, argmax and names. */
function buffered(
  name: string,
  compute: BatchCompute,
  a: { reduction: MetricReduction; argmax: boolean; class_names?: string[] },
): BufferedClassMetric {
  return new BufferedClassMetric(name, compute, a.reduction, { argmax: a.argmax, classNames: a.class_names });
}

const distanceMetric = z
  .literal("euclidean")
  .default("euclidean")
  .describe('MONAI distance_metric; only "euclidean" (exact EDT) is implemented');

const spacingArg = z
  .array(z.number().positive())
  .optional()
  .describe("voxel spacing (mm) per spatial axis when the data does not provide one; default 1");

export const DiceMetricDef = defineMetric({
  name: "DiceMetric",
  description:
    "MONAI DiceMetric on discrete segmentations: pred/target label maps [B, S0, S1, S2, 1] (with num_classes) or one-hot [B, S0, S1, S2, C]; NaN for classes absent from the ground truth (ignore_empty), NaN-aware reduction.",
  args: z.object({
    ...common,
    include_background: z.boolean().default(true).describe("include class 0 (MONAI default true)"),
    ignore_empty: z
      .boolean()
      .default(true)
      .describe(
        "NaN (ignored) when a class is absent from the ground truth; false: 1 if also absent from pred, else 0",
      ),
  }),
  create: (a) =>
    buffered(
      a.name ?? "dice",
      (p, g) =>
        computeDice(p, g, {
          num_classes: a.num_classes,
          include_background: a.include_background,
          ignore_empty: a.ignore_empty,
        }),
      a,
    ),
});

export const HausdorffDistanceMetricDef = defineMetric({
  name: "HausdorffDistanceMetric",
  description:
    "MONAI HausdorffDistanceMetric (euclidean, exact EDT): symmetric max or percentile (HD95) of surface distances in mm; NaN when a class is absent from both, inf (max) when from one side.",
  args: z.object({
    ...common,
    include_background: z.boolean().default(false).describe("include class 0 (MONAI default false)"),
    percentile: z.number().min(0).max(100).optional().describe("e.g. 95 for HD95; omitted = maximum distance"),
    directed: z.boolean().default(false).describe("only distances from prediction to ground truth"),
    distance_metric: distanceMetric,
    spacing: spacingArg,
  }),
  create: (a) =>
    buffered(
      a.name ?? (a.percentile ? `hd${a.percentile}` : "hausdorff"),
      (p, g, info) =>
        computeHausdorffDistance(p, g, {
          num_classes: a.num_classes,
          include_background: a.include_background,
          percentile: a.percentile,
          directed: a.directed,
          spacing: info.spacing ?? a.spacing,
        }),
      a,
    ),
});

export const SurfaceDiceMetricDef = defineMetric({
  name: "SurfaceDiceMetric",
  description:
    "MONAI SurfaceDiceMetric (normalised surface Dice, voxel counting): share of surface voxels within a per-class tolerance (mm) of the other surface; NaN when a class is absent from both.",
  args: z.object({
    ...common,
    class_thresholds: z
      .array(z.number().nonnegative())
      .min(1)
      .describe("tolerance in mm per reported class (classes 1.. when include_background is false)"),
    include_background: z.boolean().default(false).describe("include class 0 (MONAI default false)"),
    distance_metric: distanceMetric,
    use_subvoxels: z
      .literal(false)
      .default(false)
      .describe("MONAI use_subvoxels; only voxel counting (false) is implemented"),
    spacing: spacingArg,
  }),
  create: (a) =>
    buffered(
      a.name ?? "surface_dice",
      (p, g, info) =>
        computeSurfaceDice(p, g, {
          class_thresholds: a.class_thresholds,
          num_classes: a.num_classes,
          include_background: a.include_background,
          spacing: info.spacing ?? a.spacing,
        }),
      a,
    ),
});

export const metricComponents = [DiceMetricDef, HausdorffDistanceMetricDef, SurfaceDiceMetricDef] as const;
