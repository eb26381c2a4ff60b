/**
 * Orientation: reorder and flip voxel axes so they point along the requested anatomical codes
 * (MONAI Orientation = nibabel io_orientation → ornt_transform → flip, then permute).
 */
import type { Volume } from "@voxelpipe/core";
import { defineTransform, z } from "@voxelpipe/core";
import { linear3, polarOrthogonal3 } from "./affine.js";
import { allowMissingArg, builtinTransform, keysArg } from "./base.js";
import { type AxisMap, axisMapVolume, isIdentityAxisMap, undoAxisMap } from "./grid.js";
import { dataError, derive, presentKeys, volumeAt } from "./sample.js";

/** the registered name: in the definition, op records and messages */
const ORIENTATION = "Orientation";

/** [world axis, ±1] per voxel axis, as nibabel's ornt arrays. */
export type Ornt = [number, 1 | -1][];

const DEFAULT_LABELS: [string, string][] = [
  ["L", "R"],
  ["P", "A"],
  ["I", "S"],
];

/** nibabel io_orientation: world axis and direction each voxel axis is closest to. */
export function ioOrientation(affine: ArrayLike<number>): Ornt {
  const rzs = linear3(affine);
  const zooms = [0, 1, 2].map((c) => Math.hypot(rzs[c], rzs[3 + c], rzs[6 + c]) || 1);
  const rs = rzs.map((v, i) => v / zooms[i % 3]);
  let r: number[];
  try {
    // nearest orthonormal matrix (nibabel uses the SVD: P·Qs); handles oblique/sheared affines
    r = polarOrthogonal3(rs);
  } catch {
    r = rs; // degenerate (rank-deficient) affine: fall back to the normalised columns
  }
  const ornt: Ornt = [];
  for (let inAx = 0; inAx < 3; inAx++) {
    let outAx = 0;
    for (let w = 1; w < 3; w++) if (Math.abs(r[w * 3 + inAx]) > Math.abs(r[outAx * 3 + inAx])) outAx = w;
    if (r[outAx * 3 + inAx] === 0) dataError("Orientation: the affine has a zero column, its orientation is undefined");
    ornt.push([outAx, r[outAx * 3 + inAx] < 0 ? -1 : 1]);
    // this world axis is taken: later voxel axes must pick another one (nibabel zeroes the row)
    for (let c = 0; c < 3; c++) r[outAx * 3 + c] = 0;
  }
  return ornt;
}

/** nibabel axcodes2ornt with the default (L,R),(P,A),(I,S) labels. */
export function axcodesToOrnt(axcodes: string): Ornt {
  if (axcodes.length !== 3) {
    dataError(`Orientation: axcodes must have 3 letters, got "${axcodes}"`, { hint: 'e.g. "RAS" or "LPS"' });
  }
  const used = new Set<number>();
  return [...axcodes.toUpperCase()].map((code) => {
    const w = DEFAULT_LABELS.findIndex((pair) => pair.includes(code));
    if (w < 0 || used.has(w)) {
      dataError(`Orientation: invalid axcodes "${axcodes}"`, {
        expected: "one letter of each pair L/R, P/A, I/S",
        got: axcodes,
      });
    }
    used.add(w);
    return [w, DEFAULT_LABELS[w][0] === code ? -1 : 1] as [number, 1 | -1];
  });
}

/** Codes (e.g. "RAS") of an affine's current orientation. */
export function affineAxcodes(affine: ArrayLike<number>): string {
  return ioOrientation(affine)
    .map(([w, f]) => DEFAULT_LABELS[w][f === 1 ? 1 : 0])
    .join("");
}

/**
 * The AxisMap turning an image of orientation `src` into `dst` (nibabel ornt_transform then MONAI's
 * flip of input axes followed by the transpose argsort(ornt[:,0])).
 */
export function orientationAxisMap(src: Ornt, dst: Ornt): AxisMap {
  const target = [0, 0, 0];
  const flipIn = [false, false, false];
  for (let a = 0; a < 3; a++) {
    const d = dst.findIndex(([w]) => w === src[a][0]);
    target[a] = d;
    flipIn[a] = src[a][1] !== dst[d][1];
  }
  const axes = [0, 0, 0] as [number, number, number];
  const flips = [false, false, false] as [boolean, boolean, boolean];
  for (let a = 0; a < 3; a++) {
    axes[target[a]] = a;
    flips[target[a]] = flipIn[a];
  }
  return { axes, flips };
}

/** Pure Orientation of one volume. */
export function orient(v: Volume, axcodes: string): Volume {
  const m = orientationAxisMap(ioOrientation(v.affine), axcodesToOrnt(axcodes));
  const r = isIdentityAxisMap(m)
    ? { data: v.data.slice(), shape: v.shape, affine: Float64Array.from(v.affine) }
    : axisMapVolume(v, m);
  return derive(v, r, { op: ORIENTATION, params: { axcodes, axes: m.axes, flips: m.flips } });
}

export const OrientationDef = defineTransform({
  name: ORIENTATION,
  description: "Reorient voxel axes to the given anatomical codes (MONAI Orientationd); the affine is updated.",
  spatial: { inverse: undoAxisMap },
  args: z.object({
    keys: keysArg,
    axcodes: z
      .string()
      .default("RAS")
      .describe('target orientation codes, one of L/R, P/A, I/S per voxel axis, e.g. "RAS"'),
    allow_missing_keys: allowMissingArg,
  }),
  create: (args) =>
    builtinTransform(ORIENTATION, false, (sample) => {
      axcodesToOrnt(args.axcodes); // validate early even when no key is present
      const out = { ...sample };
      for (const k of presentKeys(sample, args.keys, args.allow_missing_keys, ORIENTATION)) {
        out[k] = orient(volumeAt(sample, k, ORIENTATION), args.axcodes);
      }
      return out;
    }),
});
