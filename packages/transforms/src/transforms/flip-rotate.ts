/**
 * RandFlip and RandRotate90 (MONAI RandFlipd / RandRotate90d): exact axis re-indexing with the affine
 * updated and the op recorded (under the transform's name), undone by the inverse axis map.
 */
import { defineTransform, type RandomState, type Volume, z } from "@voxelpipe/core";
import { allowMissingArg, builtinTransform, keysArg, probArg, seedArg, streamSource } from "./base.js";
import { type AxisMap, axisMapVolume, undoAxisMap } from "./grid.js";
import { dataError, derive, presentKeys, volumeAt } from "./sample.js";

/** the registered names: in the definition, op records and messages */
const RAND_FLIP = "RandFlip";
const RAND_ROTATE90 = "RandRotate90";

/** Flip the given spatial axes (all three when axes is null); recorded as `op` (RandFlip's, by default). */
export function flip(v: Volume, axes: number[] | null, op = RAND_FLIP): Volume {
  const ax = axes ?? [0, 1, 2];
  for (const a of ax) if (a < 0 || a > 2) dataError(`Flip: spatial axis ${a} out of range`, { expected: "0, 1 or 2" });
  const m: AxisMap = { axes: [0, 1, 2], flips: [0, 1, 2].map((d) => ax.includes(d)) as [boolean, boolean, boolean] };
  return derive(v, axisMapVolume(v, m), { op, params: { axes: m.axes, flips: m.flips } });
}

/** np.rot90(x, k, axes=(a0, a1)) on spatial axes: k=1 flips a1 then swaps a0/a1. */
export function rot90AxisMap(k: number, spatialAxes: [number, number]): AxisMap {
  const [a0, a1] = spatialAxes;
  if (a0 === a1 || a0 < 0 || a1 < 0 || a0 > 2 || a1 > 2) {
    dataError(`Rotate90: spatial_axes must be two different axes in 0..2, got [${spatialAxes}]`);
  }
  const axes: [number, number, number] = [0, 1, 2];
  const flips: [boolean, boolean, boolean] = [false, false, false];
  const kk = ((k % 4) + 4) % 4;
  if (kk === 1) {
    axes[a0] = a1;
    flips[a0] = true;
    axes[a1] = a0;
  } else if (kk === 2) {
    flips[a0] = true;
    flips[a1] = true;
  } else if (kk === 3) {
    axes[a0] = a1;
    axes[a1] = a0;
    flips[a1] = true;
  }
  return { axes, flips };
}

/** np.rot90 of the spatial axes, recorded as `op` (RandRotate90's, by default). */
export function rotate90(v: Volume, k: number, spatialAxes: [number, number] = [0, 1], op = RAND_ROTATE90): Volume {
  const m = rot90AxisMap(k, spatialAxes);
  return derive(v, axisMapVolume(v, m), {
    op,
    params: { k, spatial_axes: spatialAxes, axes: m.axes, flips: m.flips },
  });
}

export const RandFlipDef = defineTransform({
  name: RAND_FLIP,
  description: "Flip the given spatial axes with probability prob (MONAI RandFlipd); same draw for all keys.",
  spatial: { inverse: undoAxisMap },
  args: z.object({
    keys: keysArg,
    spatial_axis: z
      .union([z.number().int().min(0).max(2), z.array(z.number().int().min(0).max(2))])
      .nullable()
      .default(null)
      .describe("spatial axis or axes to flip (0..2); null flips all three"),
    prob: probArg(0.1),
    seed: seedArg,
    allow_missing_keys: allowMissingArg,
  }),
  create: (args) => {
    const streams = streamSource(args.seed);
    const axes =
      args.spatial_axis === null
        ? null
        : typeof args.spatial_axis === "number"
          ? [args.spatial_axis]
          : args.spatial_axis;
    return builtinTransform(RAND_FLIP, true, (sample, rng) => {
      if (!(streams(rng).wrapper.rand() < args.prob)) return sample;
      const out = { ...sample };
      for (const k of presentKeys(sample, args.keys, args.allow_missing_keys, RAND_FLIP))
        out[k] = flip(volumeAt(sample, k, RAND_FLIP), axes);
      return out;
    });
  },
});

/** MONAI RandRotate90(d).randomize: k = randint(max_k) + 1 is drawn BEFORE the prob check. Null = skip. */
export function drawRot90(rng: RandomState, prob: number, maxK: number): number | null {
  const k = rng.randint(maxK) + 1;
  return rng.rand() < prob ? k : null;
}

export const RandRotate90Def = defineTransform({
  name: RAND_ROTATE90,
  description:
    "Rotate by k·90° (k uniform in 1..max_k) in the plane of spatial_axes with probability prob (MONAI RandRotate90d).",
  spatial: { inverse: undoAxisMap },
  args: z.object({
    keys: keysArg,
    prob: probArg(0.1),
    max_k: z.number().int().min(1).default(3).describe("k is drawn from 1..max_k"),
    spatial_axes: z
      .tuple([z.number().int().min(0).max(2), z.number().int().min(0).max(2)])
      .default([0, 1])
      .describe("the two spatial axes spanning the rotation plane"),
    seed: seedArg,
    allow_missing_keys: allowMissingArg,
  }),
  create: (args) => {
    const streams = streamSource(args.seed);
    rot90AxisMap(1, args.spatial_axes); // validate the axes when the pipeline is built
    return builtinTransform(RAND_ROTATE90, true, (sample, rng) => {
      const k = drawRot90(streams(rng).wrapper, args.prob, args.max_k);
      if (k === null) return sample;
      const out = { ...sample };
      for (const key of presentKeys(sample, args.keys, args.allow_missing_keys, RAND_ROTATE90)) {
        out[key] = rotate90(volumeAt(sample, key, RAND_ROTATE90), k, args.spatial_axes);
      }
      return out;
    });
  },
});
