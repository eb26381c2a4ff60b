/**
 * Deterministic crops and pads: CropForeground (bbox of x > threshold, margin, k_divisible) and
 * SpatialPad (symmetric/end, constant). Both are windows of the input grid (see grid.ts) recorded in
 * meta.applied as `{ start, size }`; their inverse (grid.ts undoWindow) is the opposite window.
 */
import { defineTransform, type Volume, z } from "@voxelpipe/core";
import { allowMissingArg, builtinTransform, fallBack3, keysArg, rep3, size3Arg } from "./base.js";
import { undoWindow, windowVolume } from "./grid.js";
import { dataError, derive, presentKeys, type Shape3, volumeAt } from "./sample.js";

/** the registered names: in the definition, op records and messages */
const CROP_FOREGROUND = "CropForeground";
const SPATIAL_PAD = "SpatialPad";

export type Box = { start: [number, number, number]; end: [number, number, number] };

/** Crop/pad a volume to the window [start, start+size) of its grid (negative start or overflow pads). */
export function cropWindow(
  v: Volume,
  start: ArrayLike<number>,
  size: ArrayLike<number>,
  op: string,
  fill: number | "edge" = 0,
): Volume {
  const s = [start[0], start[1], start[2]] as [number, number, number];
  const z3 = [size[0], size[1], size[2]] as Shape3;
  const r = windowVolume(v, s, z3, fill);
  return derive(v, r, { op, params: { start: s, size: z3 } });
}

/**
 * MONAI generate_spatial_bounding_box + CropForeground.compute_bounding_box: foreground = any channel
 * (of channelIndices) with value > threshold; box = [first, last+1) ± margin (clamped to the image when
 * allowSmaller), then enlarged symmetrically to a multiple of kDivisible (start moves by floor(diff/2)).
 * Returns null when there is no foreground.
 */
export function foregroundBox(
  v: Volume,
  opts: {
    threshold?: number;
    channelIndices?: number[] | null;
    margin?: number | number[];
    allowSmaller?: boolean;
    kDivisible?: number | number[];
  } = {},
): Box | null {
  // Long by design: mirrors MONAI's generate_spatial_bounding_box + compute_bounding_box in their order (scan,
  // margin, allow_smaller, k_divisible) for parity.
  const thr = opts.threshold ?? 0;
  const [n0, n1, n2] = v.shape;
  const C = v.channels;
  const chans = opts.channelIndices ?? Array.from({ length: C }, (_, c) => c);
  for (const c of chans) {
    if (c < 0 || c >= C) dataError(`CropForeground: channel index ${c} out of range`, { expected: `0..${C - 1}` });
  }
  const lo = [n0, n1, n2];
  const hi = [-1, -1, -1];
  const d = v.data;
  const all = chans.length === C;
  for (let i = 0; i < n0; i++) {
    for (let j = 0; j < n1; j++) {
      // per row: first and last foreground k (one pass, no per-voxel allocation)
      const row = (i * n1 + j) * n2 * C;
      let kFirst = -1;
      let kLast = -1;
      if (C === 1) {
        for (let k = 0; k < n2; k++) {
          if (d[row + k] > thr) {
            if (kFirst < 0) kFirst = k;
            kLast = k;
          }
        }
      } else {
        for (let k = 0; k < n2; k++) {
          const p = row + k * C;
          let fg = false;
          if (all) {
            for (let c = 0; c < C; c++) if (d[p + c] > thr) fg = true;
          } else {
            for (let t = 0; t < chans.length; t++) if (d[p + chans[t]] > thr) fg = true;
          }
          if (fg) {
            if (kFirst < 0) kFirst = k;
            kLast = k;
          }
        }
      }
      if (kFirst < 0) continue;
      if (i < lo[0]) lo[0] = i;
      if (i > hi[0]) hi[0] = i;
      if (j < lo[1]) lo[1] = j;
      if (j > hi[1]) hi[1] = j;
      if (kFirst < lo[2]) lo[2] = kFirst;
      if (kLast > hi[2]) hi[2] = kLast;
    }
  }
  if (hi[0] < 0) return null;
  const margin = rep3(opts.margin ?? 0);
  const kdiv = rep3(opts.kDivisible ?? 1);
  const allowSmaller = opts.allowSmaller ?? true;
  const start = [0, 0, 0] as [number, number, number];
  const end = [0, 0, 0] as [number, number, number];
  for (let a = 0; a < 3; a++) {
    if (margin[a] < 0) dataError("CropForeground: margin must be ≥ 0", { got: String(opts.margin) });
    let s = lo[a] - margin[a];
    let e = hi[a] + margin[a] + 1;
    if (allowSmaller) {
      s = Math.max(s, 0);
      e = Math.min(e, v.shape[a]);
    }
    const size = e - s;
    const k = kdiv[a];
    const target = k > 0 ? Math.ceil(size / k) * k : size;
    s -= Math.floor((target - size) / 2);
    start[a] = s;
    end[a] = s + target;
  }
  return { start, end };
}

export const CropForegroundDef = defineTransform({
  name: CROP_FOREGROUND,
  description:
    "Crop all keys to the bounding box of the foreground (value > threshold) of source_key (MONAI CropForegroundd).",
  spatial: { inverse: undoWindow },
  args: z.object({
    keys: keysArg,
    source_key: z.string().describe("key whose foreground defines the box, e.g. image"),
    threshold: z
      .number()
      .default(0)
      .describe("foreground = value > threshold in any selected channel (MONAI's default select_fn is x > 0)"),
    channel_indices: z
      .array(z.number().int())
      .nullable()
      .default(null)
      .describe("channels of source_key to test (null: all)"),
    margin: size3Arg.default(0).describe("voxels added around the box per dim"),
    allow_smaller: z
      .boolean()
      .default(true)
      .describe("clamp the margin-enlarged box to the image (MONAI 1.4 default true; false pads beyond the image)"),
    k_divisible: size3Arg.default(1).describe("enlarge the box so each size is a multiple of k (padding if needed)"),
    allow_missing_keys: allowMissingArg,
  }),
  create: (args) =>
    builtinTransform(CROP_FOREGROUND, false, (sample) => {
      const src = volumeAt(sample, args.source_key, CROP_FOREGROUND);
      const box = foregroundBox(src, {
        threshold: args.threshold,
        channelIndices: args.channel_indices,
        margin: args.margin,
        allowSmaller: args.allow_smaller,
        kDivisible: args.k_divisible,
      });
      if (!box) {
        // MONAI would return an empty (zero-size) crop here, which only fails later and obscurely
        dataError(`CropForeground: no foreground in "${args.source_key}" (no value > ${args.threshold})`, {
          hint: "check the intensity window before this transform (e.g. ScaleIntensityRange a_min) or the threshold",
        });
      }
      const size = [0, 1, 2].map((a) => box.end[a] - box.start[a]);
      const out = { ...sample };
      for (const k of presentKeys(sample, args.keys, args.allow_missing_keys, CROP_FOREGROUND)) {
        const v = volumeAt(sample, k, CROP_FOREGROUND);
        if (v.shape.some((n, a) => n !== src.shape[a])) {
          dataError(
            `CropForeground: key "${k}" has shape [${v.shape}] but source "${args.source_key}" has [${src.shape}]`,
          );
        }
        out[k] = cropWindow(v, box.start, size, CROP_FOREGROUND);
      }
      return out;
    }),
});

/** MONAI SpatialPad: per dim w = max(target - n, 0); symmetric: floor(w/2) before; end: all after. */
export function padAmounts(
  shape: ArrayLike<number>,
  spatialSize: number | number[],
  method: "symmetric" | "end",
): [number, number][] {
  const target = fallBack3(spatialSize, shape);
  return [0, 1, 2].map((a) => {
    const w = Math.max(target[a] - shape[a], 0);
    return method === "symmetric" ? [Math.floor(w / 2), w - Math.floor(w / 2)] : [0, w];
  });
}

export function spatialPad(
  v: Volume,
  spatialSize: number | number[],
  method: "symmetric" | "end" = "symmetric",
  fill: number | "edge" = 0,
): Volume {
  const pads = padAmounts(v.shape, spatialSize, method);
  return cropWindow(
    v,
    pads.map((p) => -p[0]),
    pads.map((p, a) => v.shape[a] + p[0] + p[1]),
    SPATIAL_PAD,
    fill,
  );
}

export const SpatialPadDef = defineTransform({
  name: SPATIAL_PAD,
  description: "Pad every dim smaller than spatial_size up to it (MONAI SpatialPadd); never crops.",
  spatial: { inverse: undoWindow },
  args: z.object({
    keys: keysArg,
    spatial_size: size3Arg.describe("minimum output size; an int applies to all dims; ≤ 0 keeps that dim"),
    method: z
      .enum(["symmetric", "end"])
      .default("symmetric")
      .describe("symmetric: floor(w/2) before, rest after; end: all after"),
    mode: z
      .enum(["constant", "edge"])
      .default("constant")
      .describe("constant: fill with value; edge: repeat the border voxel"),
    value: z.number().default(0).describe("fill value for mode constant"),
    allow_missing_keys: allowMissingArg,
  }),
  create: (args) =>
    builtinTransform(SPATIAL_PAD, false, (sample) => {
      const out = { ...sample };
      for (const k of presentKeys(sample, args.keys, args.allow_missing_keys, SPATIAL_PAD)) {
        out[k] = spatialPad(
          volumeAt(sample, k, SPATIAL_PAD),
          args.spatial_size,
          args.method,
          args.mode === "edge" ? "edge" : args.value,
        );
      }
      return out;
    }),
});
