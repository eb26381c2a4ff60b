// Over 300 lines by design: both SSL corruptions (RandCoarseDropout, RandCoarseShuffle) follow one MONAI draw
// order, written once above; split, that contract would be kept in two files.
/**
 * RandCoarseDropout (inner / outer cutout) and RandCoarseShuffle (local pixel shuffling), the SSL
 * corruptions, with MONAI's exact draw order so seeded runs reproduce MONAI bit for bit:
 *   wrapper: rand() < prob;  inner: rand() (its prob 1.0 check), [randint(holes, max_holes+1)],
 *   per hole: 3 × randint(size[d], max[d]+1) when max_spatial_size (the drawn size becomes the next
 *   hole's lower bound: sizes never decrease), then one randint(0, n-s+1) per dim where n > s;
 *   then the fill / shuffle draws, in hole order, channel-major C order (MONAI is channel-first).
 */
import { defineTransform, type RandomState, type Volume, type VoxelArray, z } from "@voxelpipe/core";
import {
  allowMissingArg,
  builtinTransform,
  fallBack3,
  keysArg,
  probArg,
  seedArg,
  size3Arg,
  streamSource,
} from "./base.js";
import { own, writableInPlace } from "./owned.js";
import { randomPatchStart } from "./rand-crop.js";
import { allocLike, argError, derive, minMax, presentKeys, type Shape3, volumeAt } from "./sample.js";

/** the registered names: in the definition, op records and messages */
const RAND_COARSE_DROPOUT = "RandCoarseDropout";
const RAND_COARSE_SHUFFLE = "RandCoarseShuffle";

export interface Hole {
  /** requested size (before clipping to the image), as MONAI draws it */
  size: [number, number, number];
  start: [number, number, number];
  /** clipped size: the box is [start, start + extent) */
  extent: [number, number, number];
}

export interface HoleSpec {
  holes: number;
  spatialSize: number | number[];
  maxHoles?: number | null;
  maxSpatialSize?: number | number[] | null;
}

/** MONAI RandCoarseTransform.randomize (after the prob check). */
export function sampleHoles(rng: RandomState, dims: ArrayLike<number>, spec: HoleSpec): Hole[] {
  let size = fallBack3(spec.spatialSize, dims);
  const n = spec.maxHoles == null ? spec.holes : rng.randint(spec.holes, spec.maxHoles + 1);
  const out: Hole[] = [];
  for (let h = 0; h < n; h++) {
    if (spec.maxSpatialSize != null) {
      const max = fallBack3(spec.maxSpatialSize, dims);
      const lo = size;
      size = [0, 1, 2].map((d) => rng.randint(lo[d], max[d] + 1)) as Shape3;
    }
    const extent = size.map((s, d) => Math.min(s, dims[d])) as Shape3;
    out.push({ size: [...size] as Shape3, start: randomPatchStart(rng, dims, extent), extent });
  }
  return out;
}

/** fill_value: null → uniform in [min, max) of the whole image; number → constant; [a, b] → uniform. */
export type FillValue = number | [number, number] | null;

/**
 * MONAI RandCoarseDropout._transform_holes. dropoutHoles=true fills each box (inner cutout);
 * false fills everything and copies the boxes' original values back (outer cutout). Uniform fills
 * are drawn from `rng` per voxel in MONAI's order (per hole, channel-major, C order within the box:
 * one batched `fillUniform` per box row). Output keeps the input dtype (float32 images).
 * `inPlace`: write into v.data (only for an array the caller may write, see owned.ts `writableInPlace`);
 * otherwise the result is a new array (owned by the current chain run). The values are the same.
 */
export function coarseDropout(
  v: Volume,
  holes: Hole[],
  dropoutHoles: boolean,
  fill: FillValue,
  rng: RandomState,
  inPlace = false,
): Volume {
  const range: [number, number] | null = fill === null ? minMax(v.data) : Array.isArray(fill) ? fill : null;
  const C = v.channels;
  const [, n1, n2] = v.shape;
  const src = v.data;
  if (dropoutHoles) {
    const data = inPlace ? src : own(src.slice());
    for (const h of holes) {
      const [s0, s1, s2] = h.start;
      const [e0, e1, e2] = h.extent;
      for (let c = 0; c < C; c++) {
        for (let i = s0; i < s0 + e0; i++) {
          for (let j = s1; j < s1 + e1; j++) {
            const p = ((i * n1 + j) * n2 + s2) * C + c;
            if (range) rng.fillUniform(data, range[0], range[1], p, e2, C);
            else for (let k = 0, q = p; k < e2; k++, q += C) data[q] = fill as number;
          }
        }
      }
    }
    return derive(v, { data });
  }
  if (inPlace) {
    // the boxes keep their values: only the rest is written
    outerCutoutRows(src, null, v, holes, range, fill as number, rng);
    return derive(v, { data: src });
  }
  // outer cutout: every voxel is overwritten, so a fresh array (no copy of the input)
  const data = own(allocLike(src, src.length));
  if (!range) {
    data.fill(fill as number);
    const row = n2 * C;
    for (const h of holes) {
      const [s0, s1, s2] = h.start;
      const [e0, e1, e2] = h.extent;
      for (let i = s0; i < s0 + e0; i++) {
        for (let j = s1; j < s1 + e1; j++) {
          const p = (i * n1 + j) * row + s2 * C;
          for (let q = p; q < p + e2 * C; q++) data[q] = src[q];
        }
      }
    }
    return derive(v, { data });
  }
  // MONAI draws uniform noise for the whole image (channel-major, C order), then copies the boxes'
  // original values back: the in-place walk, with the boxes' values taken from src
  outerCutoutRows(data, src, v, holes, range, 0, rng);
  return derive(v, { data });
}

/**
 * The outer cutout into `data` (v's grid), row by row in MONAI's order (channel-major, C order). Per image row,
 * the union of the boxes crossing it is a few merged [from, to) runs: their voxels keep data's values (or, with
 * `src`, take src's), and their draws are skipped (the stream advances exactly as if drawn); the rest of the row
 * is filled with the draws in order (or, without a range, the constant).
 */
function outerCutoutRows(
  data: VoxelArray,
  src: VoxelArray | null,
  v: Volume,
  holes: Hole[],
  range: [number, number] | null,
  fill: number,
  rng: RandomState,
): void {
  const C = v.channels;
  const [n0, n1, n2] = v.shape;
  const runs = new Int32Array(2 * holes.length + 2);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < n0; i++) {
      for (let j = 0; j < n1; j++) {
        const nr = rowRuns(holes, i, j, runs);
        const p0 = (i * n1 + j) * n2 * C + c;
        let k = 0;
        for (let r = 0; r <= nr; r += 2) {
          const from = r < nr ? runs[r] : n2;
          if (from > k) {
            if (range) rng.fillUniform(data, range[0], range[1], p0 + k * C, from - k, C);
            else for (let q = p0 + k * C; q < p0 + from * C; q += C) data[q] = fill;
          }
          if (r === nr) break;
          const to = runs[r + 1];
          if (range) rng.skipDoubles(to - from);
          if (src) for (let q = p0 + from * C; q < p0 + to * C; q += C) data[q] = src[q];
          k = to;
        }
      }
    }
  }
}

/**
 * The union of the holes' [start, start + extent) along the last axis over image row (i, j), as sorted,
 * merged [from, to) pairs written to `runs`; returns the number of entries (2 per run).
 */
function rowRuns(holes: Hole[], i: number, j: number, runs: Int32Array): number {
  let n = 0;
  for (const h of holes) {
    if (i < h.start[0] || i >= h.start[0] + h.extent[0] || j < h.start[1] || j >= h.start[1] + h.extent[1]) continue;
    const from = h.start[2];
    const to = from + h.extent[2];
    if (to <= from) continue;
    // insertion by start, then merge with overlapping / touching neighbours
    let r = n;
    while (r > 0 && runs[r - 2] > from) {
      runs[r] = runs[r - 2];
      runs[r + 1] = runs[r - 1];
      r -= 2;
    }
    runs[r] = from;
    runs[r + 1] = to;
    n += 2;
  }
  let m = 0;
  for (let r = 0; r < n; r += 2) {
    if (m > 0 && runs[r] <= runs[m - 1]) {
      if (runs[r + 1] > runs[m - 1]) runs[m - 1] = runs[r + 1];
    } else {
      runs[m] = runs[r];
      runs[m + 1] = runs[r + 1];
      m += 2;
    }
  }
  return m;
}

/** scratch box for coarseShuffle, reused across calls (the image's dtype: values round-trip exactly) */
let shuffleScratch: VoxelArray = new Float32Array(0);

function scratchBox(like: VoxelArray, n: number): VoxelArray {
  if (shuffleScratch.constructor !== like.constructor || shuffleScratch.length < n) {
    shuffleScratch = allocLike(like, Math.max(n, 4096));
  }
  return shuffleScratch.subarray(0, n);
}

/**
 * MONAI RandCoarseShuffle._transform_holes: per hole, per channel, numpy shuffle of the C-order box
 * (gathered into a scratch array of the image's dtype, shuffled, scattered back). `inPlace` as in
 * coarseDropout.
 */
export function coarseShuffle(v: Volume, holes: Hole[], rng: RandomState, inPlace = false): Volume {
  const data = inPlace ? v.data : own(v.data.slice());
  const C = v.channels;
  const [, n1, n2] = v.shape;
  for (const h of holes) {
    const [s0, s1, s2] = h.start;
    const [e0, e1, e2] = h.extent;
    const box = scratchBox(data, e0 * e1 * e2);

    for (let c = 0; c < C; c++) {
      let t = 0;
      for (let i = s0; i < s0 + e0; i++) {
        for (let j = s1; j < s1 + e1; j++) {
          for (let k = 0, q = ((i * n1 + j) * n2 + s2) * C + c; k < e2; k++, q += C) box[t++] = data[q];
        }
      }
      rng.shuffle(box);
      t = 0;
      for (let i = s0; i < s0 + e0; i++) {
        for (let j = s1; j < s1 + e1; j++) {
          for (let k = 0, q = ((i * n1 + j) * n2 + s2) * C + c; k < e2; k++, q += C) data[q] = box[t++];
        }
      }
    }
  }
  return derive(v, { data });
}

const holeArgs = {
  keys: keysArg,
  holes: z.number().int().min(1).describe("number of boxes (the minimum when max_holes is set)"),
  spatial_size: size3Arg.describe("box size (the minimum when max_spatial_size is set); ≤ 0 → image size"),
  max_holes: z
    .number()
    .int()
    .min(1)
    .nullable()
    .default(null)
    .describe("draw the number of boxes in [holes, max_holes]"),
  max_spatial_size: size3Arg
    .nullable()
    .default(null)
    .describe(
      "draw box sizes up to this; as in MONAI each box's size is the lower bound of the next (sizes never decrease)",
    ),
  prob: probArg(0.1),
  seed: seedArg,
  allow_missing_keys: allowMissingArg,
};

function holesFor(
  name: string,
  sample: Record<string, unknown>,
  keys: string[],
  spec: HoleSpec,
  wrapper: RandomState,
  inner: RandomState,
  prob: number,
): Hole[] | null {
  if (!(wrapper.rand() < prob)) return null;
  if (keys.length === 0) return null;
  const first = volumeAt(sample, keys[0], name);
  inner.rand(); // the inner array transform's own prob check (prob 1.0, always true)
  return sampleHoles(inner, first.shape, spec);
}

/**
 * The dict wrapper both hole transforms share: MONAI's draw order (the wrapper's prob, then the inner
 * transform's prob and holes), one set of holes for all keys, `apply` per key.
 */
function holeTransform(
  name: string,
  args: {
    keys: string[];
    allow_missing_keys: boolean;
    seed?: number;
    holes: number;
    spatial_size: number | number[];
    max_holes?: number | null;
    max_spatial_size?: number | number[] | null;
    prob: number;
  },
  apply: (vol: Volume, holes: Hole[], inner: RandomState, inPlace: boolean) => Volume,
) {
  const streams = streamSource(args.seed);
  return builtinTransform(name, true, (sample, rng) => {
    const keys = presentKeys(sample, args.keys, args.allow_missing_keys, name);
    const { wrapper, inner } = streams(rng);
    const spec = {
      holes: args.holes,
      spatialSize: args.spatial_size,
      maxHoles: args.max_holes,
      maxSpatialSize: args.max_spatial_size,
    };
    const holes = holesFor(name, sample, keys, spec, wrapper, inner, args.prob);
    if (!holes) return sample;
    const out = { ...sample };
    // in place where this run owns the array and no other key holds it (owned.ts); else into a new array
    for (const k of keys) out[k] = apply(volumeAt(out, k, name), holes, inner, writableInPlace(out, k));
    return out;
  });
}

export const RandCoarseDropoutDef = defineTransform({
  name: RAND_COARSE_DROPOUT,
  description:
    "Cutout (MONAI RandCoarseDropoutd): dropout_holes true fills random boxes (inner cutout); false keeps only the boxes (outer cutout).",
  args: z.object({
    ...holeArgs,
    dropout_holes: z.boolean().default(true).describe("true: fill the boxes; false: fill everything except the boxes"),
    fill_value: z
      .union([z.number(), z.tuple([z.number(), z.number()])])
      .nullable()
      .default(null)
      .describe("null: uniform in [min, max) of the whole image; a number: constant; [low, high]: uniform"),
  }),
  create: (args) => {
    if (args.max_holes != null && args.max_holes < args.holes)
      argError(`RandCoarseDropout: max_holes (${args.max_holes}) < holes (${args.holes})`);
    return holeTransform(RAND_COARSE_DROPOUT, args, (vol, holes, inner, inPlace) =>
      coarseDropout(vol, holes, args.dropout_holes, args.fill_value, inner, inPlace),
    );
  },
});

export const RandCoarseShuffleDef = defineTransform({
  name: RAND_COARSE_SHUFFLE,
  description: "Local pixel shuffling inside random boxes, per channel (MONAI RandCoarseShuffled).",
  args: z.object(holeArgs),
  create: (args) =>
    holeTransform(RAND_COARSE_SHUFFLE, args, (vol, holes, inner, inPlace) => coarseShuffle(vol, holes, inner, inPlace)),
});
