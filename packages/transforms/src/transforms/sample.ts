/**
 * Sample/Volume plumbing shared by every dict transform: key lookup (with allow_missing_keys),
 * copying volumes, recording applied spatial ops, and the error text that names the transform and
 * describes each key (shape, dtype, value range) so a user can see what the data looked like.
 */
import {
  type AppliedOp,
  Codes,
  isVolume,
  isVoxelpipeError,
  type Sample,
  type Volume,
  type VoxelArray,
  VoxelpipeError,
} from "@voxelpipe/core";

export type Shape3 = [number, number, number];

export function voxelCount(shape: ArrayLike<number>): number {
  return shape[0] * shape[1] * shape[2];
}

/**
 * Which of `keys` to process, for every dict transform (LoadImage and SaveImage too): a key that is
 * absent, undefined or null is missing — JSON datalists say "no label" with null — and is skipped when
 * allowed, else a clear error.
 */
export function presentKeys(sample: Sample, keys: string[], allowMissing: boolean, transform: string): string[] {
  const out: string[] = [];
  for (const k of keys) {
    if (sample[k] !== undefined && sample[k] !== null && Object.hasOwn(sample, k)) {
      out.push(k);
    } else if (!allowMissing) {
      throw new VoxelpipeError({
        code: Codes.data,
        message: `${transform}: key "${k}" ${sample[k] === null ? "is null" : "is not in the sample"}`,
        expected: `a sample with key "${k}"`,
        got: `keys ${JSON.stringify(Object.keys(sample))}`,
        hint: "check the `keys` list of this transform (and the datalist), or set allow_missing_keys: true",
      });
    }
  }
  return out;
}

/** The Volume stored under `key`, or a clear error when it is something else. */
export function volumeAt(sample: Sample, key: string, transform: string): Volume {
  const v = sample[key];
  if (!isVolume(v)) {
    throw new VoxelpipeError({
      code: Codes.data,
      message: `${transform}: key "${key}" does not hold an image volume`,
      expected: "a Volume (load it with LoadImage first)",
      got: v === null ? "null" : typeof v === "object" ? (v.constructor?.name ?? "object") : typeof v,
    });
  }
  return v;
}

/** New typed array of the same kind as `like` (or an explicit constructor) with n elements. */
export function allocLike(like: VoxelArray, n: number): VoxelArray {
  const Ctor = like.constructor as new (n: number) => VoxelArray;
  return new Ctor(n);
}

export function isIntegerArray(a: VoxelArray): boolean {
  return !(a instanceof Float32Array || a instanceof Float64Array);
}

/** A Volume with new data/shape/affine and, when `op` is given, that op appended to meta.applied. */
export function derive(
  v: Volume,
  update: { data: VoxelArray; shape?: Shape3; affine?: Float64Array; channels?: number },
  op?: { op: string; params: Record<string, unknown> },
): Volume {
  const meta = { ...v.meta };
  if (op) {
    const applied: AppliedOp = {
      op: op.op,
      params: op.params,
      before: [...v.shape] as Shape3,
      affineBefore: Float64Array.from(v.affine),
    };
    meta.applied = [...(v.meta.applied ?? []), applied];
  }
  return {
    data: update.data,
    shape: update.shape ?? ([...v.shape] as Shape3),
    channels: update.channels ?? v.channels,
    affine: update.affine ?? Float64Array.from(v.affine),
    meta,
  };
}

export function cloneVolume(v: Volume): Volume {
  return derive(v, { data: v.data.slice() as VoxelArray });
}

/**
 * min and max of an image exactly as the plain compare loop gives them (`if (x < lo) lo = x`, likewise
 * hi, from ±Infinity): NaNs ignored and, when an end is zero, the first zero of the image (its sign kept).
 * Fast path: Math.min/Math.max in four independent lanes (no branches, no loop-carried dependency through
 * one accumulator). The min/max of a set does not depend on the order, except for the sign of a zero end,
 * which is then taken from the first zero of the image, as the plain loop does (every other value is ≥ 0,
 * resp. ≤ 0, so the first zero is the element it keeps). A NaN poisons Math.min/max: then the plain loop.
 */
export function minMax(a: ArrayLike<number>): [number, number] {
  const n = a.length;
  const [l, h] = laneMinMax(a);
  let lo = l;
  let hi = h;
  for (let i = n & ~3; i < n; i++) {
    lo = Math.min(lo, a[i]);
    hi = Math.max(hi, a[i]);
  }
  if (Number.isNaN(lo) || Number.isNaN(hi)) {
    lo = Number.POSITIVE_INFINITY;
    hi = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < n; k++) {
      const x = a[k];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    return [lo, hi];
  }
  if (lo === 0 || hi === 0) {
    let z = 0;
    while (a[z] !== 0) z++;
    if (lo === 0) lo = a[z];
    if (hi === 0) hi = a[z];
  }
  return [lo, hi];
}

/** Math.min / Math.max of a[0 .. 4·⌊n/4⌋) in four lanes (kept apart from minMax: V8 compiles it better alone). */
function laneMinMax(a: ArrayLike<number>): [number, number] {
  const n = a.length;
  let lo0 = Number.POSITIVE_INFINITY;
  let lo1 = lo0;
  let lo2 = lo0;
  let lo3 = lo0;
  let hi0 = Number.NEGATIVE_INFINITY;
  let hi1 = hi0;
  let hi2 = hi0;
  let hi3 = hi0;
  for (let i = 0; i + 3 < n; i += 4) {
    const x0 = a[i];
    const x1 = a[i + 1];
    const x2 = a[i + 2];
    const x3 = a[i + 3];
    lo0 = Math.min(lo0, x0);
    hi0 = Math.max(hi0, x0);
    lo1 = Math.min(lo1, x1);
    hi1 = Math.max(hi1, x1);
    lo2 = Math.min(lo2, x2);
    hi2 = Math.max(hi2, x2);
    lo3 = Math.min(lo3, x3);
    hi3 = Math.max(hi3, x3);
  }
  return [Math.min(lo0, lo1, lo2, lo3), Math.max(hi0, hi1, hi2, hi3)];
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(6));

/** One line per key: `image: Float32Array [122,101,30]×1 range [-1024, 3071]`. */
export function describeSample(sample: Sample | Sample[]): string {
  if (Array.isArray(sample)) return sample.map((s, i) => `sample ${i}:\n${describeSample(s)}`).join("\n");
  const lines: string[] = [];
  for (const [k, v] of Object.entries(sample)) {
    if (isVolume(v)) {
      const [lo, hi] = v.data.length ? minMax(v.data) : [Number.NaN, Number.NaN];
      lines.push(
        `  ${k}: ${v.data.constructor.name} [${v.shape.join(",")}]×${v.channels} range [${fmt(lo)}, ${fmt(hi)}]${v.meta.source ? ` (${v.meta.source})` : ""}`,
      );
    } else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
      lines.push(`  ${k}: ${JSON.stringify(v)}`);
    } else {
      lines.push(`  ${k}: ${v === null ? "null" : Array.isArray(v) ? `array(${v.length})` : typeof v}`);
    }
  }
  return lines.join("\n");
}

/** Wrap any failure inside a transform as a data error naming the transform and describing the sample. */
export function transformFailure(transform: string, sample: Sample | Sample[], e: unknown): VoxelpipeError {
  const inner = isVoxelpipeError(e) ? e.diagnostics[0] : undefined;
  const msg = inner ? inner.message : e instanceof Error ? e.message : String(e);
  const prefix = `transform ${transform} failed`;
  return new VoxelpipeError({
    code: Codes.data,
    message: msg.startsWith(prefix) ? msg : `${prefix}: ${msg}`,
    expected: inner?.expected,
    got: `${inner?.got ? `${inner.got}\n` : ""}sample:\n${describeSample(sample)}`,
    hint: inner?.hint,
  });
}

/** Throw a data error for the transform (caught and enriched by `transformFailure`). */
export function dataError(message: string, extra: { expected?: string; got?: string; hint?: string } = {}): never {
  throw new VoxelpipeError({ code: Codes.data, message, ...extra });
}

/** Throw an invalid-argument error at build time (a config problem, not a data problem). */
export function argError(message: string, extra: { expected?: string; got?: string; hint?: string } = {}): never {
  throw new VoxelpipeError({ code: Codes.invalidValue, message, ...extra });
}
