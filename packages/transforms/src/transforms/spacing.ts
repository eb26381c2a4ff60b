/**
 * Spacing: resample to a new voxel size (MONAI Spacingd): zoom_affine + compute_shape_offset for the
 * new grid, then trilinear (images) or nearest (labels) resampling with border padding.
 */
import { defineTransform, spacingOf, type UndoOp, type Volume, z } from "@voxelpipe/core";
import { choleskyUpper3, invert3, linear3, matmul3 } from "./affine.js";
import { allowMissingArg, builtinTransform, keysArg } from "./base.js";
import { type InterpMode, type PaddingMode, resampleVolume, roundHalfEven } from "./resample.js";
import { argError, dataError, derive, isIntegerArray, presentKeys, type Shape3, volumeAt } from "./sample.js";

/** the registered name: in the definition, op records and messages */
const SPACING = "Spacing";

/** MONAI: pixdim shorter than 3 is padded with its last value; a component ≤ 0 keeps the current spacing. */
export function resolvePixdim(pixdim: number | number[], current: ArrayLike<number>): [number, number, number] {
  const p = typeof pixdim === "number" ? [pixdim] : pixdim.slice(0, 3);
  if (p.length === 0) dataError("Spacing: pixdim is empty", { expected: "1 to 3 numbers (mm)" });
  while (p.length < 3) p.push(p[p.length - 1]);
  return p.map((x, d) => (x > 0 ? x : current[d])) as [number, number, number];
}

/** MONAI zoom_affine: keep rotation (and flips), set the zooms; translation is filled in later. */
export function zoomAffine(affine: ArrayLike<number>, pixdim: number[], diagonal: boolean): Float64Array {
  const out = new Float64Array(16);
  out[15] = 1;
  if (diagonal) {
    out[0] = pixdim[0];
    out[5] = pixdim[1];
    out[10] = pixdim[2];
    return out;
  }
  const rzs = linear3(affine);
  // rzs = rotation · zs with zs upper triangular (Cholesky of rzsᵀrzs): rotation keeps the axis directions
  const zs = choleskyUpper3(matmul3([rzs[0], rzs[3], rzs[6], rzs[1], rzs[4], rzs[7], rzs[2], rzs[5], rzs[8]], rzs));
  const rot = matmul3(rzs, invert3(zs));
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) out[r * 4 + c] = rot[r * 3 + c] * Math.sign(zs[c * 4]) * Math.abs(pixdim[c]);
  }
  return out;
}

/**
 * MONAI compute_shape_offset (scale_extent=False: voxel centres; True: voxel edges): the output shape is
 * round(extent of the input corners in output voxels + 1) (half to even) and the origin is the world
 * position of the corner that is minimal in every output axis (else corner 0).
 */
export function shapeAndOffset(
  shape: ArrayLike<number>,
  inAffine: ArrayLike<number>,
  outAffine: Float64Array,
  scaleExtent: boolean,
): { shape: Shape3; offset: [number, number, number] } {
  const lin = linear3(outAffine);
  const inv = invert3(lin);
  const corners: number[][] = [];
  for (let a = 0; a < 2; a++)
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 2; c++) {
        const idx = [a, b, c].map((e, d) => (scaleExtent ? (e ? shape[d] - 0.5 : -0.5) : e ? shape[d] - 1 : 0));
        corners.push(idx);
      }
  const world = corners.map((p) =>
    [0, 1, 2].map(
      (r) => inAffine[r * 4] * p[0] + inAffine[r * 4 + 1] * p[1] + inAffine[r * 4 + 2] * p[2] + inAffine[r * 4 + 3],
    ),
  );
  // output-voxel coordinates without the (unknown) translation: enough for extents and the minimal corner
  const outc = world.map((w) =>
    [0, 1, 2].map((r) => inv[r * 3] * w[0] + inv[r * 3 + 1] * w[1] + inv[r * 3 + 2] * w[2]),
  );
  const outShape = [0, 1, 2].map((d) => {
    const vals = outc.map((p) => p[d]);
    const ptp = Math.max(...vals) - Math.min(...vals);
    return roundHalfEven(scaleExtent ? ptp : ptp + 1);
  }) as Shape3;
  let offset = world[0];
  for (let i = 0; i < outc.length; i++) {
    const minimal = [0, 1, 2].every((d) => Math.min(...outc.map((p) => p[d] - outc[i][d])) >= -1e-8);
    if (minimal) {
      offset = world[i];
      break;
    }
  }
  return { shape: outShape, offset: offset as [number, number, number] };
}

/** Output grid (affine and shape) of Spacing for a volume on (affine, shape). */
export function spacingGrid(
  affine: ArrayLike<number>,
  shape: ArrayLike<number>,
  pixdim: number | number[],
  opts: { diagonal?: boolean; scaleExtent?: boolean } = {},
): { affine: Float64Array; shape: Shape3 } {
  const p = resolvePixdim(pixdim, spacingOf(affine));
  const out = zoomAffine(affine, p, opts.diagonal ?? false);
  const { shape: s, offset } = shapeAndOffset(shape, affine, out, opts.scaleExtent ?? false);
  out[3] = offset[0];
  out[7] = offset[1];
  out[11] = offset[2];
  return { affine: out, shape: s };
}

/** Pure Spacing of one volume. */
export function resampleToSpacing(
  v: Volume,
  pixdim: number | number[],
  mode: InterpMode = "bilinear",
  opts: { padding?: PaddingMode; diagonal?: boolean; scaleExtent?: boolean } = {},
): Volume {
  const g = spacingGrid(v.affine, v.shape, pixdim, opts);
  if (g.shape.some((n) => n < 1)) {
    dataError(`Spacing: output shape [${g.shape}] is empty`, { got: `input shape [${v.shape}]` });
  }
  const data = resampleVolume(v, g.affine, g.shape, mode, opts.padding ?? "border");
  return derive(
    v,
    { data, shape: g.shape, affine: g.affine },
    { op: SPACING, params: { pixdim: resolvePixdim(pixdim, spacingOf(v.affine)), mode } },
  );
}

/**
 * Inverse of Spacing: resample back onto the recorded grid (`op.affineBefore`, `op.before`) with
 * border padding; nearest for integer data (label maps) unless the caller asks otherwise, bilinear
 * for the rest. A label map comes back exactly after any upsampling (new spacing ≤ old in every dim:
 * each input centre is within half an output voxel of one output centre); images within the linear
 * interpolation error, and the strip the forward grid cut off at a far face is clamped
 * (measured in test/invertible.test.ts).
 */
export const undoSpacing: UndoOp = (vol, op, opts) => {
  const mode = opts.mode ?? (isIntegerArray(vol.data) ? "nearest" : "bilinear");
  const data = resampleVolume(vol, op.affineBefore, op.before, mode, "border");
  return { ...vol, data, shape: [...op.before], affine: Float64Array.from(op.affineBefore) };
};

const modeEnum = z.enum(["bilinear", "nearest"]);

export const SpacingDef = defineTransform({
  name: SPACING,
  description:
    "Resample to a new voxel spacing (MONAI Spacingd): trilinear for images, nearest for labels, border padding, " +
    "float64 compute; output shape round((n-1)·old/new + 1); the affine keeps its rotation and origin.",
  spatial: { inverse: undoSpacing },
  args: z.object({
    keys: keysArg,
    pixdim: z
      .union([z.number(), z.array(z.number()).min(1).max(3)])
      .describe(
        "output voxel size in mm per spatial dim; a shorter list repeats its last value; ≤ 0 keeps the current spacing",
      ),
    mode: z
      .union([modeEnum, z.array(modeEnum).min(1)])
      .default("bilinear")
      .describe('interpolation, one for all keys or one per key: "bilinear" (trilinear, images) or "nearest" (labels)'),
    padding_mode: z
      .enum(["border", "zeros"])
      .default("border")
      .describe("value outside the input grid: border (clamp to the edge voxel) or zeros"),
    diagonal: z
      .boolean()
      .default(false)
      .describe("drop the rotation: output affine is diag(pixdim) (the data are resampled accordingly)"),
    scale_extent: z
      .boolean()
      .default(false)
      .describe("compute the output size from voxel edges instead of voxel centres (MONAI scale_extent)"),
    allow_missing_keys: allowMissingArg,
  }),
  create: (args) => {
    const modes = typeof args.mode === "string" ? args.keys.map(() => args.mode as InterpMode) : args.mode;
    if (modes.length !== args.keys.length) {
      argError(`Spacing: mode has ${modes.length} entries but keys has ${args.keys.length}`, {
        expected: "one mode, or one per key",
        got: JSON.stringify(args.mode),
      });
    }
    return builtinTransform(SPACING, false, (sample) => {
      const out = { ...sample };
      for (const k of presentKeys(sample, args.keys, args.allow_missing_keys, SPACING)) {
        out[k] = resampleToSpacing(volumeAt(sample, k, SPACING), args.pixdim, modes[args.keys.indexOf(k)], {
          padding: args.padding_mode,
          diagonal: args.diagonal,
          scaleExtent: args.scale_extent,
        });
      }
      return out;
    });
  },
});
