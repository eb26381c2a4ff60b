/**
 * Shared argument schemas and the Transform wrapper used by every registered transform.
 */
import { RandomState, type Sample, type Transform, z } from "@voxelpipe/core";
import { markKeepsInputs } from "./owned.js";
import { transformFailure } from "./sample.js";

export const keysArg = z
  .array(z.string().min(1))
  .min(1)
  .describe("sample keys to transform, e.g. [image, label]; all listed keys get the same parameters");

export const allowMissingArg = z
  .boolean()
  .default(false)
  .describe("skip listed keys that are absent from the sample instead of failing");

export const probArg = (dflt: number) =>
  z.number().min(0).max(1).default(dflt).describe("probability of applying the transform (one rand() per call)");

export const seedArg = z
  .number()
  .int()
  .min(0)
  .max(4294967295)
  .optional()
  .describe(
    "MONAI set_random_state(seed): the transform then owns its random streams (the dict wrapper's and the " +
      "inner array transform's, both seeded with this value, persisting across calls) and ignores the run's " +
      "stream. For bit-exact parity with MONAI; leave unset in normal runs.",
  );

/** An int applies to all three spatial dims; a list gives one value per dim. */
export const size3Arg = z.union([z.number().int(), z.array(z.number().int()).length(3)]);

export function rep3(x: number | number[]): [number, number, number] {
  return typeof x === "number" ? [x, x, x] : [x[0], x[1], x[2]];
}

/** MONAI fall_back_tuple: a non-positive component falls back to the default (the image size). */
export function fallBack3(x: number | number[], dflt: ArrayLike<number>): [number, number, number] {
  const r = rep3(x);
  return [0, 1, 2].map((d) => (r[d] > 0 ? r[d] : dflt[d])) as [number, number, number];
}

/**
 * Random streams of one call. MONAI dict transforms that wrap an array transform (RandCoarseDropoutd,
 * RandShiftIntensityd, ...) draw the prob check from the wrapper's RandomState and everything else from
 * the inner transform's. In a normal run both are the call's stream (draws continue in that order);
 * with `seed` they are two persistent RandomStates seeded alike, as MONAI's set_random_state(seed).
 */
export interface Streams {
  wrapper: RandomState;
  inner: RandomState;
}

export function streamSource(seed: number | undefined): (rng: RandomState) => Streams {
  if (seed === undefined) return (rng) => ({ wrapper: rng, inner: rng });
  const own: Streams = { wrapper: new RandomState(seed), inner: new RandomState(seed) };
  return () => own;
}

/**
 * A Transform whose failures become data errors naming it and describing the sample. `invert` is for
 * transforms that answer for others (Compose: its children); a definition's own inverse is attached
 * by defineTransform from `spatial`.
 */
export function makeTransform(
  name: string,
  random: boolean,
  fn: (sample: Sample, rng: RandomState) => Sample | Sample[],
  invert?: Transform["invert"],
): Transform & { readonly name: string } {
  return {
    name,
    random,
    ...(invert ? { invert } : {}),
    apply(sample: Sample, rng: RandomState) {
      try {
        return fn(sample, rng);
      } catch (e) {
        throw transformFailure(name, sample, e);
      }
    },
  };
}

/**
 * makeTransform for this library's own transforms: registered as keeping their inputs intact (they
 * never write into an array of their input sample except as `writableInPlace` allows; see owned.ts).
 */
export function builtinTransform(
  name: string,
  random: boolean,
  fn: (sample: Sample, rng: RandomState) => Sample | Sample[],
): Transform & { readonly name: string } {
  return markKeepsInputs(makeTransform(name, random, fn));
}
