import { Codes, VoxelpipeError } from "@voxelpipe/core";
import type { Shape3, Spacing3 } from "./edt.js";

/**
 * A batch of segmentations as a flat typed array, channel-last like the tensors: `[B, S0, S1, S2, C]`
 * (1 or 2 spatial axes are accepted too). C = 1: a label map (integer class per voxel); C > 1: one-hot,
 * binarised as `value != 0` (MONAI `.bool()`).
 */
export interface LabelBatch {
  data: ArrayLike<number>;
  shape: readonly number[];
}

/** The geometry shared by a prediction / ground-truth pair. */
export interface BatchGeometry {
  batch: number;
  /** spatial shape padded to 3-D with leading 1s */
  spatial: Shape3;
  /** voxels per item */
  voxels: number;
  /** number of spatial axes as given (1..3) */
  spatialRank: number;
}

export function metricError(metric: string, message: string, expected?: string, got?: string, hint?: string): never {
  throw new VoxelpipeError({ code: Codes.runtime, message: `${metric}: ${message}`, expected, got, hint });
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Checks that prediction and ground truth share batch and spatial shape; returns the geometry. */
export function pairGeometry(metric: string, pred: LabelBatch, gt: LabelBatch): BatchGeometry {
  for (const [name, t] of [
    ["prediction", pred],
    ["ground truth", gt],
  ] as const) {
    if (t.shape.length < 3 || t.shape.length > 5) {
      metricError(
        metric,
        `${name} must be channel-last [B, S0, S1, S2, C]`,
        "rank 3..5 (1 to 3 spatial axes)",
        `shape ${fmt(t.shape)}`,
        "label maps need a trailing channel axis of size 1",
      );
    }
    const n = t.shape.reduce((a, x) => a * x, 1);
    if (t.data.length !== n)
      metricError(metric, `${name} data length does not match its shape`, `${n}`, `${t.data.length}`);
  }
  const ps = pred.shape.slice(0, -1);
  const gs = gt.shape.slice(0, -1);
  if (ps.length !== gs.length || ps.some((d, i) => d !== gs[i])) {
    metricError(
      metric,
      "prediction and ground truth must have the same batch and spatial shape",
      `ground truth ${fmt([...ps, gt.shape[gt.shape.length - 1]])}`,
      `prediction ${fmt(pred.shape)}, ground truth ${fmt(gt.shape)}`,
    );
  }
  const spatialIn = ps.slice(1);
  const spatial = [1, 1, 1, ...spatialIn].slice(-3) as unknown as Shape3;
  return { batch: ps[0], spatial, voxels: spatial[0] * spatial[1] * spatial[2], spatialRank: spatialIn.length };
}

export function channelsOf(t: LabelBatch): number {
  return t.shape[t.shape.length - 1];
}

/** Voxel spacing for the padded 3-D geometry (missing entries → 1; a shorter list is aligned to the last axes). */
export function spacing3(metric: string, spacing: readonly number[] | undefined, spatialRank: number): Spacing3 {
  if (spacing === undefined) return [1, 1, 1];
  if (spacing.length !== spatialRank || spacing.some((s) => !(s > 0) || !Number.isFinite(s))) {
    metricError(
      metric,
      "spacing must give one positive voxel size per spatial axis",
      `${spatialRank} positive numbers (mm), e.g. [1.5, 1.5, 2.0]`,
      `[${spacing.join(", ")}]`,
    );
  }
  return [1, 1, 1, ...spacing].slice(-3) as unknown as Spacing3;
}

/**
 * Resolves the class indices a metric reports, MONAI style: `num_classes` (or the one-hot channel count) classes,
 * minus class 0 unless include_background. A label map without num_classes means a binary mask of class 1
 * (MONAI DiceHelper) when `binaryFallback`, else is an error.
 */
export function resolveClasses(
  metric: string,
  pred: LabelBatch,
  gt: LabelBatch,
  numClasses: number | undefined,
  includeBackground: boolean,
  binaryFallback: boolean,
): number[] {
  const cp = channelsOf(pred);
  const cg = channelsOf(gt);
  for (const c of [cp, cg]) {
    if (c > 1 && numClasses !== undefined && c !== numClasses) {
      metricError(metric, "one-hot channel count differs from num_classes", `${numClasses} channels`, `${c} channels`);
    }
  }
  if (cp > 1 && cg > 1 && cp !== cg) {
    metricError(metric, "prediction and ground truth have different channel counts", `${cp}`, `${cg}`);
  }
  const n = numClasses ?? Math.max(cp, cg);
  if (n === 1) {
    if (binaryFallback) return [1];
    metricError(
      metric,
      "label maps need num_classes",
      "num_classes (e.g. 14 for BTCV) or one-hot inputs [B, S0, S1, S2, C]",
      `prediction ${fmt(pred.shape)}, ground truth ${fmt(gt.shape)} and no num_classes`,
    );
  }
  const out: number[] = [];
  for (let c = includeBackground ? 0 : 1; c < n; c++) out.push(c);
  return out;
}

/** Accessor for "voxel v of item b belongs to class c" on either layout. */
export function classTester(t: LabelBatch, voxels: number): (b: number, v: number, c: number) => boolean {
  const ch = channelsOf(t);
  const d = t.data;
  if (ch === 1) return (b, v, c) => d[b * voxels + v] === c;
  return (b, v, c) => d[(b * voxels + v) * ch + c] !== 0;
}

/** Bounding box [lo, hi) per axis of the voxels of class c in item b (null when empty). */
export type Box = [number, number, number, number, number, number];

/**
 * Per class bounding boxes of item b in one pass for label maps (one pass per channel for one-hot).
 * Returns a map class → box for the requested classes (absent = empty).
 */
export function classBoxes(t: LabelBatch, geo: BatchGeometry, b: number, classes: readonly number[]): Map<number, Box> {
  const [n0, n1, n2] = geo.spatial;
  const ch = channelsOf(t);
  const d = t.data;
  const off = b * geo.voxels;
  const k = Math.max(...classes) + 1;
  // flat [lo0, hi0, lo1, hi1, lo2, hi2] per class; lo = +big marks "empty". Typed arrays, not a Map per voxel:
  // this pass touches every voxel of a possibly 50M-voxel volume.
  const bx = new Int32Array(k * 6);
  for (let c = 0; c < k; c++) bx.set([0x7fffffff, -1, 0x7fffffff, -1, 0x7fffffff, -1], c * 6);
  const wanted = new Uint8Array(k);
  for (const c of classes) wanted[c] = 1;
  const grow = (c: number, i0: number, i1: number, i2: number) => {
    const o = c * 6;
    if (i0 < bx[o]) bx[o] = i0;
    if (i0 > bx[o + 1]) bx[o + 1] = i0;
    if (i1 < bx[o + 2]) bx[o + 2] = i1;
    if (i1 > bx[o + 3]) bx[o + 3] = i1;
    if (i2 < bx[o + 4]) bx[o + 4] = i2;
    if (i2 > bx[o + 5]) bx[o + 5] = i2;
  };
  if (ch === 1) {
    let v = off;
    for (let i0 = 0; i0 < n0; i0++)
      for (let i1 = 0; i1 < n1; i1++)
        for (let i2 = 0; i2 < n2; i2++, v++) {
          const c = d[v];
          if (c >= 0 && c < k && wanted[c] === 1) grow(c, i0, i1, i2);
        }
  } else {
    for (const c of classes) {
      let v = off;
      for (let i0 = 0; i0 < n0; i0++)
        for (let i1 = 0; i1 < n1; i1++)
          for (let i2 = 0; i2 < n2; i2++, v++) if (d[v * ch + c] !== 0) grow(c, i0, i1, i2);
    }
  }
  const boxes = new Map<number, Box>();
  for (const c of classes) {
    const o = c * 6;
    if (bx[o + 1] >= 0) boxes.set(c, [bx[o], bx[o + 1] + 1, bx[o + 2], bx[o + 3] + 1, bx[o + 4], bx[o + 5] + 1]);
  }
  return boxes;
}

/** Binary mask of class c of item b inside box (C order over the box). */
export function extractMask(t: LabelBatch, geo: BatchGeometry, b: number, c: number, box: Box): Uint8Array {
  const [, n1, n2] = geo.spatial;
  const ch = channelsOf(t);
  const d = t.data;
  const off = b * geo.voxels;
  const out = new Uint8Array((box[1] - box[0]) * (box[3] - box[2]) * (box[5] - box[4]));
  let k = 0;
  for (let i0 = box[0]; i0 < box[1]; i0++)
    for (let i1 = box[2]; i1 < box[3]; i1++) {
      const row = off + (i0 * n1 + i1) * n2;
      if (ch === 1) for (let i2 = box[4]; i2 < box[5]; i2++) out[k++] = d[row + i2] === c ? 1 : 0;
      else for (let i2 = box[4]; i2 < box[5]; i2++) out[k++] = d[(row + i2) * ch + c] !== 0 ? 1 : 0;
    }
  return out;
}
