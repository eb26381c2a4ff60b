import type { ClassMatrix } from "./dice.js";
import type { Shape3, Spacing3 } from "./edt.js";
import { type LabelBatch, metricError, pairGeometry, resolveClasses, spacing3 } from "./layout.js";
import { torchQuantile } from "./quantile.js";
import { classSurfaceMatrix, edgeSurfaceDistances } from "./surface.js";

export interface HausdorffOptions {
  num_classes?: number;
  /** MONAI default false */
  include_background?: boolean;
  /** e.g. 95 for HD95; undefined (or 0, MONAI treats it as falsy) = maximum */
  percentile?: number;
  /** only d(pred → gt) instead of the max of both directions */
  directed?: boolean;
  /** voxel size per spatial axis (mm); default 1 */
  spacing?: readonly number[];
}

/**
 * MONAI `_compute_percentile_hausdorff_distance`: NaN for no distances (both masks empty), the maximum when
 * `percentile` is falsy, else torch.quantile(percentile/100).
 */
export function percentileDistance(d: Float32Array, percentile?: number): number {
  if (d.length === 0) return Number.NaN;
  if (!percentile) {
    let m = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < d.length; i++) {
      if (Number.isNaN(d[i])) return Number.NaN;
      if (d[i] > m) m = d[i];
    }
    return m;
  }
  if (!(percentile >= 0 && percentile <= 100)) {
    metricError("HausdorffDistanceMetric", "percentile should be a value between 0 and 100", "0..100", `${percentile}`);
  }
  return torchQuantile(d, percentile / 100);
}

/** torch.max over the per-direction values: NaN propagates. */
function maxOf(values: number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (Number.isNaN(v)) return Number.NaN;
    if (v > m) m = v;
  }
  return m;
}

/**
 * Hausdorff distance between two binary masks on a 3-D grid (C order): symmetric max of the per-direction
 * percentile (or max) surface distances. Empty pred or gt → +inf with the maximum (NaN with a percentile, from
 * torch's lerp of inf values); both empty → NaN.
 */
export function hausdorffDistance(
  pred: ArrayLike<number>,
  gt: ArrayLike<number>,
  shape: Shape3,
  opts: { spacing?: Spacing3; percentile?: number; directed?: boolean } = {},
): number {
  const r = edgeSurfaceDistances(pred, gt, shape, opts.spacing ?? [1, 1, 1], { symmetric: !opts.directed });
  return maxOf(r.distances.map((d) => percentileDistance(d, opts.percentile)));
}

/**
 * MONAI `compute_hausdorff_distance` (HausdorffDistanceMetric with reduction "none"): `[B, classes]` distances in
 * spacing units. Masks are cropped per class to the union bounding box (margin 1) before the exact EDT.
 */
export function computeHausdorffDistance(pred: LabelBatch, gt: LabelBatch, opts: HausdorffOptions = {}): ClassMatrix {
  const metric = "HausdorffDistanceMetric";
  const geo = pairGeometry(metric, pred, gt);
  const classes = resolveClasses(metric, pred, gt, opts.num_classes, opts.include_background ?? false, false);
  const spacing = spacing3(metric, opts.spacing, geo.spatialRank);
  return classSurfaceMatrix(pred, gt, geo, classes, spacing, !opts.directed, (r) =>
    maxOf(r.distances.map((d) => percentileDistance(d, opts.percentile))),
  );
}
