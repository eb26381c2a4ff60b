import { gzipSync } from "node:zlib";
import { encodeNifti, minMax } from "@voxelpipe/transforms";
import type { ViewerCasePayload } from "@voxelpipe/web";
import type { OverlayVolumes } from "./overlay.js";

/**
 * The volumes of one case as the report's viewer gets them, small enough to inline: cropped to the labelled and
 * predicted voxels plus a margin, subsampled (nearest voxel, per axis, finest axis first) until at most
 * `maxVoxels` remain, the image quantised to 8 bits over its 0.5–99.5 % range with scl_slope/scl_inter so the
 * viewer still reads values in the image's units, labels as uint8, each NIfTI gzip-compressed and base64-encoded.
 * A 512×512×100 CT with organs over a third of it becomes about 2 M voxels: ~1 MB of text per volume triple.
 */
export interface PayloadOptions {
  title: string;
  classes: string[];
  notes?: Record<string, string>;
  errors?: boolean;
  /** voxel budget after crop and subsampling (default 2 M) */
  maxVoxels?: number;
  /** margin around the labelled voxels in mm (default 15) */
  marginMm?: number;
  /** voxel → world (row-major 4×4, RAS mm) of the volumes' grid; default: diag(spacing) */
  affine?: ArrayLike<number>;
}

export interface CropPlan {
  start: [number, number, number];
  stride: [number, number, number];
  shape: [number, number, number];
}

/** bounding box of label ∪ prediction plus a margin, then per-axis strides that fit the voxel budget */
export function planCrop(v: OverlayVolumes, maxVoxels: number, marginMm: number): CropPlan {
  const [a, b, c] = v.shape;
  const sp = v.spacing ?? [1, 1, 1];
  const lo = [a, b, c];
  const hi = [-1, -1, -1];
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++)
      for (let k = 0; k < c; k++) {
        const n = (i * b + j) * c + k;
        if (v.label[n] > 0 || v.pred[n] > 0) {
          if (i < lo[0]) lo[0] = i;
          if (i > hi[0]) hi[0] = i;
          if (j < lo[1]) lo[1] = j;
          if (j > hi[1]) hi[1] = j;
          if (k < lo[2]) lo[2] = k;
          if (k > hi[2]) hi[2] = k;
        }
      }
  const start: [number, number, number] = [0, 0, 0];
  const end = [a, b, c];
  if (hi[0] >= 0)
    for (let d = 0; d < 3; d++) {
      const m = Math.max(2, Math.ceil(marginMm / sp[d]));
      start[d] = Math.max(0, lo[d] - m);
      end[d] = Math.min(v.shape[d], hi[d] + m + 1);
    }
  const stride: [number, number, number] = [1, 1, 1];
  const out = () => [0, 1, 2].map((d) => Math.ceil((end[d] - start[d]) / stride[d])) as [number, number, number];
  // coarsen the axis whose sampled voxels are finest (in mm) until the budget holds
  while (out().reduce((p, n) => p * n, 1) > maxVoxels) {
    const d = [0, 1, 2].reduce((best, e) => (sp[e] * stride[e] < sp[best] * stride[best] ? e : best), 0);
    stride[d]++;
  }
  return { start, stride, shape: out() };
}

function sample<T extends Float32Array | Uint8Array>(
  src: ArrayLike<number>,
  shape: [number, number, number],
  p: CropPlan,
  out: T,
): T {
  const [, b, c] = shape;
  let n = 0;
  for (let i = 0; i < p.shape[0]; i++)
    for (let j = 0; j < p.shape[1]; j++)
      for (let k = 0; k < p.shape[2]; k++) {
        const si = p.start[0] + i * p.stride[0];
        const sj = p.start[1] + j * p.stride[1];
        const sk = p.start[2] + k * p.stride[2];
        out[n++] = src[(si * b + sj) * c + sk];
      }
  return out;
}

/** the 0.5 % and 99.5 % quantiles (histogram of 4096 bins; exact enough for a display window) */
export function robustRange(a: ArrayLike<number>): [number, number] {
  const [lo, hi] = minMax(a);
  if (!(hi > lo)) return [lo, lo + 1];
  const bins = new Uint32Array(4096);
  const f = (bins.length - 1) / (hi - lo);
  for (let i = 0; i < a.length; i++) bins[Math.floor((a[i] - lo) * f)]++;
  const q = (p: number) => {
    let acc = 0;
    for (let k = 0; k < bins.length; k++) {
      acc += bins[k];
      if (acc >= p * a.length) return lo + k / f;
    }
    return hi;
  };
  const r: [number, number] = [q(0.005), q(0.995)];
  return r[1] > r[0] ? r : [lo, hi];
}

function niftiGzB64(data: Uint8Array, shape: [number, number, number], affine: Float64Array, scl?: [number, number]) {
  const bytes = encodeNifti({ data, shape, channels: 1, affine, meta: {} }, { dtype: "uint8" });
  if (scl) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setFloat32(112, scl[0], true); // scl_slope
    view.setFloat32(116, scl[1], true); // scl_inter
  }
  return gzipSync(bytes, { level: 6 }).toString("base64");
}

/** the viewer payload of one case (volumes on the cropped, subsampled grid; affine updated to match) */
export function viewerPayload(v: OverlayVolumes, o: PayloadOptions): ViewerCasePayload {
  const sp = v.spacing ?? [1, 1, 1];
  const p = planCrop(v, o.maxVoxels ?? 2_000_000, o.marginMm ?? 15);
  const base = o.affine
    ? Float64Array.from(o.affine)
    : Float64Array.from([sp[0], 0, 0, 0, 0, sp[1], 0, 0, 0, 0, sp[2], 0, 0, 0, 0, 1]);
  const affine = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let col = 0; col < 3; col++) affine[r * 4 + col] = base[r * 4 + col] * p.stride[col];
    affine[r * 4 + 3] =
      base[r * 4] * p.start[0] + base[r * 4 + 1] * p.start[1] + base[r * 4 + 2] * p.start[2] + base[r * 4 + 3];
  }
  const n = p.shape[0] * p.shape[1] * p.shape[2];
  const img = sample(v.image, v.shape, p, new Float32Array(n));
  const [lo, hi] = robustRange(img);
  const slope = (hi - lo) / 255;
  const q = new Uint8Array(n);
  for (let i = 0; i < n; i++) q[i] = Math.max(0, Math.min(255, Math.round((img[i] - lo) / slope)));
  // CT in Hounsfield units opens on the abdominal soft-tissue window the BTCV pipelines use (−175…250 HU)
  const window: [number, number] = lo < -500 && hi > 100 ? [-175, 250] : [lo, hi];
  const crop = p.start.some((s, d) => s > 0 || p.shape[d] * p.stride[d] < v.shape[d]);
  const stride = p.stride.some((s) => s > 1);
  return {
    title: o.title,
    classes: o.classes,
    image: niftiGzB64(q, p.shape, affine, [slope, lo]),
    groundTruth: niftiGzB64(sample(v.label, v.shape, p, new Uint8Array(n)), p.shape, affine),
    prediction: niftiGzB64(sample(v.pred, v.shape, p, new Uint8Array(n)), p.shape, affine),
    window,
    notes: o.notes,
    errors: o.errors,
    caption: [
      `grid ${p.shape.join("×")}`,
      crop ? `cropped from ${v.shape.join("×")} to the labelled region + ${o.marginMm ?? 15} mm` : "whole volume",
      stride ? `every ${p.stride.join("/")} voxel per axis (nearest)` : "",
      `image in 8 bits over ${lo.toPrecision(4)}…${hi.toPrecision(4)}`,
      o.affine
        ? ""
        : v.spacing
          ? `${sp.map((s) => +s.toPrecision(3)).join("×")} mm voxels, axes taken as RAS`
          : "1 mm voxels and RAS axes assumed",
    ]
      .filter(Boolean)
      .join("; "),
  };
}
