import { isPlainObject, spacingOf, type Volume } from "@voxelpipe/core";
import { affineAxcodes } from "@voxelpipe/transforms";

/** What the preprocessing says about the grid the model works on: Orientation axcodes, Spacing pixdim. */
export interface ExpectedGeometry {
  axcodes?: string;
  pixdim?: number[];
}

const isType = (entry: Record<string, unknown>, name: string) =>
  typeof entry.type === "string" && new RegExp(`(^|/)${name}d?$`).test(entry.type);

/** the Orientation / Spacing arguments of a transform chain (entries may be references: `deref` them) */
export function expectedGeometry(transforms: unknown[], deref: (v: unknown) => unknown): ExpectedGeometry {
  const out: ExpectedGeometry = {};
  for (const raw of transforms) {
    const t = deref(raw);
    if (!isPlainObject(t)) continue;
    if (isType(t, "Orientation") && typeof t.axcodes === "string") out.axcodes = t.axcodes.toUpperCase();
    if (isType(t, "Spacing")) {
      const p = t.pixdim;
      if (typeof p === "number") out.pixdim = [p, p, p];
      else if (Array.isArray(p) && p.every((x) => typeof x === "number")) out.pixdim = p as number[];
    }
  }
  return out;
}

/**
 * Warnings for one input after preprocessing: its orientation or spacing differ from what the
 * preprocessing promises the model (the model was trained on that grid), or, when the pipeline
 * has no Orientation transform, the input is not RAS (the model then sees it as stored, so an LPS
 * copy of a CT gets other labels).
 */
export function geometryWarnings(name: string, image: Volume, expected: ExpectedGeometry): string[] {
  const warnings: string[] = [];
  const now = affineAxcodes(image.affine);
  const original = image.meta.originalAffine ? affineAxcodes(image.meta.originalAffine as ArrayLike<number>) : now;
  if (expected.axcodes) {
    if (now !== expected.axcodes)
      warnings.push(
        `${name}: orientation after preprocessing is ${now}, the pipeline's Orientation gives ${expected.axcodes}: the model was trained on ${expected.axcodes} inputs; predictions may be wrong`,
      );
  } else if (original !== "RAS") {
    warnings.push(
      `${name}: the input is ${original}-oriented and the pipeline has no Orientation transform, so the model sees the voxels as stored; predictions depend on the file's orientation (add { type: Orientation, keys: [image], axcodes: RAS } to the transforms the model was trained with)`,
    );
  }
  if (expected.pixdim) {
    const sp = spacingOf(image.affine);
    const off = expected.pixdim.some((p, i) => p > 0 && Math.abs(sp[i] - p) > 0.01 * p);
    if (off)
      warnings.push(
        `${name}: spacing after preprocessing is ${sp.map((s) => +s.toFixed(3)).join("×")} mm, the pipeline's Spacing gives ${expected.pixdim.join("×")} mm: the model was trained at that spacing; predictions may be wrong`,
      );
  }
  return warnings;
}
