/**
 * Intensity transforms: ScaleIntensityRange (HU window → [0,1]), RandShiftIntensity, RandScaleIntensity.
 * Arithmetic follows MONAI on float32 tensors: each step is rounded to float32 (Math.fround) so the
 * results match torch bit for bit in the common cases.
 */
import { defineTransform, type RandomState, type Volume, z } from "@voxelpipe/core";
import { allowMissingArg, builtinTransform, keysArg, probArg, seedArg, streamSource } from "./base.js";
import { derive, presentKeys, volumeAt } from "./sample.js";

/** the registered names: in the definition, op records and messages */
const SCALE_INTENSITY_RANGE = "ScaleIntensityRange";
const RAND_SHIFT_INTENSITY = "RandShiftIntensity";
const RAND_SCALE_INTENSITY = "RandScaleIntensity";

const f32 = Math.fround;

/** MONAI ScaleIntensityRange on one volume (output float32). */
export function scaleIntensityRange(
  v: Volume,
  p: { a_min: number; a_max: number; b_min?: number | null; b_max?: number | null; clip?: boolean },
): Volume {
  const src = v.data;
  const out = new Float32Array(src.length);
  const aMin = f32(p.a_min);
  const hasB = p.b_min != null && p.b_max != null;
  const bMin = f32(p.b_min ?? 0);
  const bScale = f32((p.b_max ?? 0) - (p.b_min ?? 0));
  if (p.a_max === p.a_min) {
    // MONAI: a degenerate window only shifts: x - a_min (+ b_min)
    for (let i = 0; i < src.length; i++) out[i] = p.b_min != null ? f32(f32(src[i] - aMin) + bMin) : src[i] - aMin;
    return derive(v, { data: out });
  }
  const aScale = f32(p.a_max - p.a_min);
  const lo = Math.min(bMin, f32(p.b_max ?? 0));
  const hi = Math.max(bMin, f32(p.b_max ?? 0));
  const clip = p.clip === true && hasB;
  for (let i = 0; i < src.length; i++) {
    let y = f32(f32(src[i] - aMin) / aScale);
    if (hasB) y = f32(f32(y * bScale) + bMin);
    if (clip) y = Math.min(Math.max(y, lo), hi);
    out[i] = y;
  }
  return derive(v, { data: out });
}

export const ScaleIntensityRangeDef = defineTransform({
  name: SCALE_INTENSITY_RANGE,
  description:
    "Linear intensity window (MONAI ScaleIntensityRanged): y = (x - a_min)/(a_max - a_min)·(b_max - b_min) + b_min, optional clip.",
  args: z.object({
    keys: keysArg,
    a_min: z.number().describe("input intensity mapped to b_min, e.g. -175 (HU)"),
    a_max: z.number().describe("input intensity mapped to b_max, e.g. 250 (HU)"),
    b_min: z.number().nullable().default(null).describe("output value at a_min (null: no output rescaling)"),
    b_max: z.number().nullable().default(null).describe("output value at a_max (null: no output rescaling)"),
    clip: z.boolean().default(false).describe("clamp the output to [b_min, b_max]"),
    allow_missing_keys: allowMissingArg,
  }),
  create: (args) =>
    builtinTransform(SCALE_INTENSITY_RANGE, false, (sample) => {
      const out = { ...sample };
      for (const k of presentKeys(sample, args.keys, args.allow_missing_keys, SCALE_INTENSITY_RANGE)) {
        out[k] = scaleIntensityRange(volumeAt(sample, k, SCALE_INTENSITY_RANGE), args);
      }
      return out;
    }),
});

/** y = x + offset (per channel when offsets has one entry per channel). Output float32. */
export function shiftIntensity(v: Volume, offsets: number | number[]): Volume {
  const C = v.channels;
  const off = typeof offsets === "number" ? Array(C).fill(offsets) : offsets;
  const out = new Float32Array(v.data.length);
  for (let i = 0; i < out.length; i++) out[i] = v.data[i] + f32(off[i % C]);
  return derive(v, { data: out });
}

/** y = x · (1 + factor) (per channel when factors has one entry per channel). Output float32. */
export function scaleIntensity(v: Volume, factors: number | number[]): Volume {
  const C = v.channels;
  const fac = typeof factors === "number" ? Array(C).fill(factors) : factors;
  const out = new Float32Array(v.data.length);
  for (let i = 0; i < out.length; i++) out[i] = v.data[i] * f32(1 + fac[i % C]);
  return derive(v, { data: out });
}

const rangeArg = z.union([z.number().min(0), z.array(z.number()).length(2)]);
const toRange = (x: number | number[]): [number, number] =>
  typeof x === "number" ? [-x, x] : [Math.min(x[0], x[1]), Math.max(x[0], x[1])];

/**
 * Draws of RandShiftIntensityd / RandScaleIntensityd: wrapper rand() < prob; then the inner transform
 * (prob 1.0) draws one rand() and `uniform(lo, hi)` (once per channel when channel_wise). Null = skip.
 */
export function drawIntensityParams(
  wrapper: RandomState,
  inner: RandomState,
  prob: number,
  range: [number, number],
  channels: number | null,
): number | number[] | null {
  if (!(wrapper.rand() < prob)) return null;
  inner.rand();
  if (channels === null) return inner.uniform(range[0], range[1]);
  return Array.from({ length: channels }, () => inner.uniform(range[0], range[1]));
}

interface RandIntensityArgs {
  keys: string[];
  prob: number;
  channel_wise: boolean;
  seed?: number;
  allow_missing_keys: boolean;
}

function randIntensityTransform(
  name: string,
  args: RandIntensityArgs,
  range: [number, number],
  apply: (v: Volume, p: number | number[]) => Volume,
) {
  const streams = streamSource(args.seed);
  return builtinTransform(name, true, (sample, rng) => {
    const keys = presentKeys(sample, args.keys, args.allow_missing_keys, name);
    const { wrapper, inner } = streams(rng);
    if (keys.length === 0) {
      wrapper.rand(); // MONAI draws the prob check, then finds no key and stops
      return sample;
    }
    const first = volumeAt(sample, keys[0], name);
    const p = drawIntensityParams(wrapper, inner, args.prob, range, args.channel_wise ? first.channels : null);
    if (p === null) return sample;
    const out = { ...sample };
    for (const k of keys) out[k] = apply(volumeAt(sample, k, name), p);
    return out;
  });
}

const commonRandArgs = {
  keys: keysArg,
  prob: probArg(0.1),
  channel_wise: z.boolean().default(false).describe("draw one value per channel"),
  seed: seedArg,
  allow_missing_keys: allowMissingArg,
};

export const RandShiftIntensityDef = defineTransform({
  name: RAND_SHIFT_INTENSITY,
  description: "Add a random offset drawn from (-offsets, offsets) with probability prob (MONAI RandShiftIntensityd).",
  args: z.object({
    ...commonRandArgs,
    offsets: rangeArg.describe("a number o gives the offset range (-o, o); or an explicit [low, high]"),
  }),
  create: (args) => randIntensityTransform(RAND_SHIFT_INTENSITY, args, toRange(args.offsets), shiftIntensity),
});

export const RandScaleIntensityDef = defineTransform({
  name: RAND_SCALE_INTENSITY,
  description:
    "Multiply by (1 + f), f drawn from (-factors, factors), with probability prob (MONAI RandScaleIntensityd).",
  args: z.object({
    ...commonRandArgs,
    factors: rangeArg.describe("a number f gives the factor range (-f, f); or an explicit [low, high]"),
  }),
  create: (args) => randIntensityTransform(RAND_SCALE_INTENSITY, args, toRange(args.factors), scaleIntensity),
});
