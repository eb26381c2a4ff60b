import type { ClassMatrix } from "./dice.js";
import { type LabelBatch, metricError, pairGeometry, resolveClasses, spacing3 } from "./layout.js";
import { classSurfaceMatrix } from "./surface.js";

export interface SurfaceDiceOptions {
  /** tolerance τ per reported class (mm), in class order */
  class_thresholds: readonly number[];
  num_classes?: number;
  include_background?: boolean;
  spacing?: readonly number[];
}

/**
 * MONAI `compute_surface_dice` (normalised surface distance, use_subvoxels=False): per case and class
 * (#pred-surface voxels within τ of gt surface + #gt-surface voxels within τ of pred surface) / (all surface voxels);
 * NaN when both are empty; 0 when exactly one is empty. Distances are float32 and τ is compared as float32.
 */
export function computeSurfaceDice(pred: LabelBatch, gt: LabelBatch, opts: SurfaceDiceOptions): ClassMatrix {
  const metric = "SurfaceDiceMetric";
  const geo = pairGeometry(metric, pred, gt);
  const classes = resolveClasses(metric, pred, gt, opts.num_classes, opts.include_background ?? false, false);
  const th = opts.class_thresholds;
  if (th.length !== classes.length) {
    metricError(
      metric,
      "class_thresholds needs one tolerance per reported class",
      `${classes.length} thresholds (classes ${classes.join(", ")})`,
      `${th.length}`,
      "with include_background: false, class 0 has no threshold",
    );
  }
  if (th.some((t) => !Number.isFinite(t) || t < 0)) {
    metricError(metric, "class_thresholds must be finite and >= 0", ">= 0", `[${th.join(", ")}]`);
  }
  const spacing = spacing3(metric, opts.spacing, geo.spatialRank);
  return classSurfaceMatrix(pred, gt, geo, classes, spacing, true, ({ distances }, j) => {
    const tau = Math.fround(th[j]);
    let complete = 0;
    let correct = 0;
    for (const d of distances) {
      complete += d.length;
      for (let i = 0; i < d.length; i++) if (d[i] <= tau) correct++;
    }
    return complete === 0 ? Number.NaN : correct / complete;
  });
}
