import { Codes, VoxelpipeError } from "@voxelpipe/core";

export interface SynthOptions {
  /** number of labelled cases (training + validation) */
  cases: number;
  /** grid size, one number for a cube or [S0, S1, S2] */
  size: number | [number, number, number];
  /** dataset seed: case i draws from RandomState(deriveSeed(seed, "synth", i)) */
  seed: number;
  /** voxel spacing in mm; default: the default field of view divided by the size, so the body fits */
  spacing?: [number, number, number];
}

/**
 * Default field of view (mm) along S0 (patient right), S1 (anterior), S2 (superior): wide enough for the largest
 * body the generator draws (≈ 360 × 260 mm outline plus the table), and 280 mm from the lung bases to below the
 * kidneys.
 */
export const SYNTH_DEFAULT_FOV_MM: readonly [number, number, number] = [380, 300, 280];

/** smallest grid edge: below this the adrenals and veins vanish between voxels */
export const SYNTH_MIN_SIZE = 16;

export interface SynthGrid {
  shape: [number, number, number];
  spacing: [number, number, number];
  /** row-major 4×4 voxel → world (RAS+, mm): diag(spacing), grid centre at world (0, 0, 0) */
  affine: Float64Array;
}

function invalid(path: string, message: string, expected: string, got: unknown, hint?: string): never {
  throw new VoxelpipeError({
    code: Codes.invalidValue,
    message,
    path,
    expected,
    got: JSON.stringify(got),
    hint,
  });
}

/** Validates the options shared by `generateCase` and `writeSynthDataset` and derives the voxel grid. */
export function resolveSynthGrid(opts: Pick<SynthOptions, "size" | "seed" | "spacing">): SynthGrid {
  if (!Number.isSafeInteger(opts.seed)) {
    invalid("synth.seed", "synth: the seed must be an integer", "a safe integer, e.g. 0", opts.seed);
  }
  const size = typeof opts.size === "number" ? [opts.size, opts.size, opts.size] : opts.size;
  if (!Array.isArray(size) || size.length !== 3 || !size.every((s) => Number.isInteger(s) && s >= SYNTH_MIN_SIZE)) {
    invalid(
      "synth.size",
      "synth: size must be an integer or three integers, each at least " + SYNTH_MIN_SIZE,
      `integer ≥ ${SYNTH_MIN_SIZE} or [S0, S1, S2]`,
      opts.size,
      "e.g. size: 96 (a 96³ grid) or size: [128, 128, 64]",
    );
  }
  const shape = [size[0], size[1], size[2]] as [number, number, number];
  let spacing: [number, number, number];
  if (opts.spacing === undefined) {
    spacing = [
      SYNTH_DEFAULT_FOV_MM[0] / shape[0],
      SYNTH_DEFAULT_FOV_MM[1] / shape[1],
      SYNTH_DEFAULT_FOV_MM[2] / shape[2],
    ];
  } else {
    const sp = opts.spacing;
    if (!Array.isArray(sp) || sp.length !== 3 || !sp.every((s) => Number.isFinite(s) && s > 0)) {
      invalid(
        "synth.spacing",
        "synth: spacing must be three positive numbers (mm)",
        "[s0, s1, s2] > 0",
        sp,
        "omit spacing to fit the default field of view " + SYNTH_DEFAULT_FOV_MM.join(" × ") + " mm",
      );
    }
    spacing = [sp[0], sp[1], sp[2]];
  }
  const affine = new Float64Array(16);
  for (let a = 0; a < 3; a++) {
    affine[a * 5] = spacing[a];
    affine[a * 4 + 3] = (-(shape[a] - 1) / 2) * spacing[a];
  }
  affine[15] = 1;
  return { shape, spacing, affine };
}

export function validateCaseCount(name: string, value: unknown, min: number): number {
  if (!Number.isInteger(value) || (value as number) < min) {
    invalid(`synth.${name}`, `synth: ${name} must be an integer ≥ ${min}`, `integer ≥ ${min}`, value);
  }
  return value as number;
}
