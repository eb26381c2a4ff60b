import type { ClassMatrix } from "./dice.js";
import { distanceToFeatures, type Shape3, type Spacing3 } from "./edt.js";
import { type BatchGeometry, type Box, classBoxes, extractMask, type LabelBatch } from "./layout.js";

/**
 * Surface voxels as MONAI `get_mask_edges` finds them: `mask XOR binary_erosion(mask)` with scipy's default
 * cross structuring element (6-connectivity in 3-D, 4 in 2-D) and everything outside the grid counted as 0.
 * `rank` = number of real spatial axes; leading axes beyond it are padding of a 2-D/1-D grid and have no neighbours.
 */
export function maskEdges(mask: ArrayLike<number>, shape: Shape3, rank = 3): Uint8Array {
  const [n0, n1, n2] = shape;
  const out = new Uint8Array(n0 * n1 * n2);
  const use0 = rank >= 3;
  const use1 = rank >= 2;
  const s0 = n1 * n2;
  let v = 0;
  for (let i0 = 0; i0 < n0; i0++)
    for (let i1 = 0; i1 < n1; i1++)
      for (let i2 = 0; i2 < n2; i2++, v++) {
        if (!mask[v]) continue;
        const interior =
          i2 > 0 &&
          i2 < n2 - 1 &&
          mask[v - 1] &&
          mask[v + 1] &&
          (!use1 || (i1 > 0 && i1 < n1 - 1 && mask[v - n2] && mask[v + n2])) &&
          (!use0 || (i0 > 0 && i0 < n0 - 1 && mask[v - s0] && mask[v + s0]));
        if (!interior) out[v] = 1;
      }
  return out;
}

function countNonZero(a: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += a[i];
  return n;
}

function infinities(n: number): Float32Array {
  return new Float32Array(n).fill(Number.POSITIVE_INFINITY);
}

/**
 * MONAI `get_surface_distance(seg_pred=from, seg_gt=to)`: for every `from` voxel, the Euclidean distance (mm, with
 * spacing) to the nearest `to` voxel, as float32. Empty `to`: +inf for each `from` voxel; empty `from` with non-empty
 * `to`: +inf for each `to` voxel (MONAI returns `dis[seg_gt]` there); both empty: an empty array.
 */
export function surfaceDistances(from: Uint8Array, to: Uint8Array, shape: Shape3, spacing: Spacing3): Float32Array {
  const nFrom = countNonZero(from);
  const nTo = countNonZero(to);
  if (nTo === 0) return infinities(nFrom);
  if (nFrom === 0) return infinities(nTo);
  const dist = distanceToFeatures(to, shape, spacing);
  const out = new Float32Array(nFrom);
  let k = 0;
  for (let i = 0; i < from.length; i++) if (from[i]) out[k++] = dist[i];
  return out;
}

export interface EdgeSurfaceDistances {
  /** number of prediction / ground-truth surface voxels */
  predEdges: number;
  gtEdges: number;
  /** [d(pred → gt)] or, symmetric, [d(pred → gt), d(gt → pred)] */
  distances: Float32Array[];
}

/**
 * MONAI `get_edge_surface_distance` on two binary masks over the same grid (already cropped or not: cropping to
 * the union box changes neither edges nor distances, it only saves work).
 */
export function edgeSurfaceDistances(
  pred: ArrayLike<number>,
  gt: ArrayLike<number>,
  shape: Shape3,
  spacing: Spacing3,
  opts: { symmetric: boolean; rank?: number },
): EdgeSurfaceDistances {
  const ep = maskEdges(pred, shape, opts.rank ?? 3);
  const eg = maskEdges(gt, shape, opts.rank ?? 3);
  const distances = [surfaceDistances(ep, eg, shape, spacing)];
  if (opts.symmetric) distances.push(surfaceDistances(eg, ep, shape, spacing));
  return { predEdges: countNonZero(ep), gtEdges: countNonZero(eg), distances };
}

/**
 * Surface distances of class c of item b: both masks are cropped to the union bounding box with a margin of 1
 * (clamped to the grid), MONAI `get_mask_edges(crop=True)`. Both empty → no distances.
 */
export function classSurfaceDistances(
  pred: LabelBatch,
  gt: LabelBatch,
  geo: BatchGeometry,
  b: number,
  c: number,
  boxes: { pred: Map<number, Box>; gt: Map<number, Box> },
  spacing: Spacing3,
  symmetric: boolean,
): EdgeSurfaceDistances {
  const bp = boxes.pred.get(c);
  const bg = boxes.gt.get(c);
  if (!bp && !bg)
    return {
      predEdges: 0,
      gtEdges: 0,
      distances: symmetric ? [new Float32Array(0), new Float32Array(0)] : [new Float32Array(0)],
    };
  const box: Box = [0, 0, 0, 0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const lo = Math.min(bp ? bp[2 * a] : Number.POSITIVE_INFINITY, bg ? bg[2 * a] : Number.POSITIVE_INFINITY);
    const hi = Math.max(bp ? bp[2 * a + 1] : 0, bg ? bg[2 * a + 1] : 0);
    box[2 * a] = Math.max(lo - 1, 0);
    box[2 * a + 1] = Math.min(hi + 1, geo.spatial[a]);
  }
  const shape: Shape3 = [box[1] - box[0], box[3] - box[2], box[5] - box[4]];
  const pm = extractMask(pred, geo, b, c, box);
  const gm = extractMask(gt, geo, b, c, box);
  return edgeSurfaceDistances(pm, gm, shape, spacing, { symmetric, rank: geo.spatialRank });
}

/** Bounding boxes of every requested class of item b, for both sides. */
export function pairBoxes(
  pred: LabelBatch,
  gt: LabelBatch,
  geo: BatchGeometry,
  b: number,
  classes: readonly number[],
): { pred: Map<number, Box>; gt: Map<number, Box> } {
  return { pred: classBoxes(pred, geo, b, classes), gt: classBoxes(gt, geo, b, classes) };
}

/**
 * The `[B, classes]` matrix of a surface-distance metric: per item and class, `score` of the class's cropped surface
 * distances (classSurfaceDistances; j is the column, the index of the class in `classes`).
 */
export function classSurfaceMatrix(
  pred: LabelBatch,
  gt: LabelBatch,
  geo: BatchGeometry,
  classes: number[],
  spacing: Spacing3,
  symmetric: boolean,
  score: (r: EdgeSurfaceDistances, j: number) => number,
): ClassMatrix {
  const cols = classes.length;
  const out = new Float64Array(geo.batch * cols);
  for (let b = 0; b < geo.batch; b++) {
    const boxes = pairBoxes(pred, gt, geo, b, classes);
    classes.forEach((c, j) => {
      out[b * cols + j] = score(classSurfaceDistances(pred, gt, geo, b, c, boxes, spacing, symmetric), j);
    });
  }
  return { data: out, rows: geo.batch, cols, classes };
}
