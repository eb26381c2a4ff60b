/**
 * RandCoarseDropout (inner / outer cutout) and RandCoarseShuffle (local pixel shuffling), the SSL
 * corruptions, with MONAI's exact draw order so seeded runs reproduce MONAI bit for bit:
 *   wrapper: rand() < prob;  inner: rand() (its prob 1.0 check), [randint(holes, max_holes+1)],
 *   per hole: 3 × randint(size[d], max[d]+1) when max_spatial_size (the drawn size becomes the next
 *   hole's lower bound: sizes never decrease), then one randint(0, n-s+1) per dim where n > s;
 *   then the fill / shuffle draws, in hole order, channel-major C order (MONAI is channel-first).
 */
import { defineTransform, type RandomState, type Volume, z } from "@voxelpipe/core";
import {
  allowMissingArg,
  fallBack3,
  keysArg,
  makeTransform,
  probArg,
  seedArg,
  size3Arg,
  streamSource,
} from "./base.js";
import { randomPatchStart } from "./rand-crop.js";
import { argError, derive, presentKeys, type Shape3, volumeAt } from "./sample.js";

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

/** Visit the flat indices of a hole in C order for channel c (channel-last storage). */
function forEachInHole(v: Volume, h: Hole, c: number, fn: (flat: number) => void): void {
  const [, n1, n2] = v.shape;
  const C = v.channels;
  for (let i = h.start[0]; i < h.start[0] + h.extent[0]; i++) {
    for (let j = h.start[1]; j < h.start[1] + h.extent[1]; j++) {
      let p = ((i * n1 + j) * n2 + h.start[2]) * C + c;
      for (let k = 0; k < h.extent[2]; k++, p += C) fn(p);
    }
  }
}

function minMax(a: ArrayLike<number>): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < a.length; i++) {
    if (a[i] < lo) lo = a[i];
    if (a[i] > hi) hi = a[i];
  }
  return [lo, hi];
}

/** fill_value: null → uniform in [min, max) of the whole image; number → constant; [a, b] → uniform. */
export type FillValue = number | [number, number] | null;

/**
 * MONAI RandCoarseDropout._transform_holes. dropoutHoles=true fills each box (inner cutout);
 * false fills everything and copies the boxes' original values back (outer cutout). Uniform fills
 * are drawn from `rng` per voxel in MONAI's order. Output keeps the input dtype (float32 images).
 */
export function coarseDropout(
  v: Volume,
  holes: Hole[],
  dropoutHoles: boolean,
  fill: FillValue,
  rng: RandomState,
): Volume {
  const range: [number, number] | null = fill === null ? minMax(v.data) : Array.isArray(fill) ? fill : null;
  const C = v.channels;
  if (dropoutHoles) {
    const data = v.data.slice();
    for (const h of holes) {
      for (let c = 0; c < C; c++) {
        forEachInHole(v, h, c, (p) => {
          data[p] = range ? rng.uniform(range[0], range[1]) : (fill as number);
        });
      }
    }
    return derive(v, { data });
  }
  const data = v.data.slice();
  if (range) {
    const n = v.shape[0] * v.shape[1] * v.shape[2];
    for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) data[i * C + c] = rng.uniform(range[0], range[1]);
  } else {
    data.fill(fill as number);
  }
  for (const h of holes)
    for (let c = 0; c < C; c++)
      forEachInHole(v, h, c, (p) => {
        data[p] = v.data[p];
      });
  return derive(v, { data });
}

/** MONAI RandCoarseShuffle._transform_holes: per hole, per channel, numpy shuffle of the C-order box. */
export function coarseShuffle(v: Volume, holes: Hole[], rng: RandomState): Volume {
  const data = v.data.slice();
  const work = { data, shape: v.shape, channels: v.channels } as Volume;
  for (const h of holes) {
    for (let c = 0; c < v.channels; c++) {
      const idx: number[] = [];
      forEachInHole(work, h, c, (p) => idx.push(p));
      const vals = idx.map((p) => data[p]);
      rng.shuffle(vals);
      for (let t = 0; t < idx.length; t++) data[idx[t]] = vals[t];
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
  apply: (vol: Volume, holes: Hole[], inner: RandomState) => Volume,
) {
  const streams = streamSource(args.seed);
  return makeTransform(name, true, (sample, rng) => {
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
    for (const k of keys) out[k] = apply(volumeAt(sample, k, name), holes, inner);
    return out;
  });
}

export const RandCoarseDropoutDef = defineTransform({
  name: "RandCoarseDropout",
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
    return holeTransform("RandCoarseDropout", args, (vol, holes, inner) =>
      coarseDropout(vol, holes, args.dropout_holes, args.fill_value, inner),
    );
  },
});

export const RandCoarseShuffleDef = defineTransform({
  name: "RandCoarseShuffle",
  description: "Local pixel shuffling inside random boxes, per channel (MONAI RandCoarseShuffled).",
  args: z.object(holeArgs),
  create: (args) => holeTransform("RandCoarseShuffle", args, (vol, holes, inner) => coarseShuffle(vol, holes, inner)),
});
