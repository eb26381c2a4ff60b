import { isPlainObject, spacingOf, type Volume } from "@voxelpipe/core";
import { affineAxcodes, OrientationDef, SpacingDef } from "@voxelpipe/transforms";
import { readCheckpointMeta } from "../run/resume-point.js";

/** What the preprocessing says about the grid the model works on: Orientation axcodes, Spacing pixdim. */
export interface ExpectedGeometry {
  axcodes?: string;
  pixdim?: number[];
  /** where it comes from: the infer chain (default) or the checkpoint's training chain */
  from?: "pipeline" | "checkpoint";
}

/**
 * The geometry a checkpoint's model was trained on (`geometry` in its voxelpipe metadata, written
 * by the train stage from its training chain); undefined for checkpoints without it (foreign or
 * older ones).
 */
export function trainedGeometry(file: string): ExpectedGeometry | undefined {
  const g = readCheckpointMeta(file)?.geometry;
  if (!isPlainObject(g)) return undefined;
  const out: ExpectedGeometry = { from: "checkpoint" };
  if (typeof g.axcodes === "string") out.axcodes = g.axcodes.toUpperCase();
  if (Array.isArray(g.pixdim) && g.pixdim.length === 3 && g.pixdim.every((x) => typeof x === "number"))
    out.pixdim = g.pixdim as number[];
  return out;
}

/**
 * Warnings when the infer chain promises another grid than the model was trained on: another
 * Orientation or Spacing, or none where training had one.
 */
export function chainMismatch(trained: ExpectedGeometry, chain: ExpectedGeometry): string[] {
  const out: string[] = [];
  if (trained.axcodes !== chain.axcodes)
    out.push(
      `the model was trained on ${trained.axcodes ?? "unreoriented"} inputs (checkpoint geometry), the infer transforms ${chain.axcodes ? `reorient to ${chain.axcodes}` : "have no Orientation"}: predictions may be wrong`,
    );
  const same = (a?: number[], b?: number[]) =>
    a === b || (!!a && !!b && a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= 0.01 * Math.abs(x)));
  if (!same(trained.pixdim, chain.pixdim))
    out.push(
      `the model was trained at ${trained.pixdim ? `${trained.pixdim.join("×")} mm` : "the inputs' own spacing"} (checkpoint geometry), the infer transforms ${chain.pixdim ? `resample to ${chain.pixdim.join("×")} mm` : "have no Spacing"}: predictions may be wrong`,
    );
  return out;
}

const isType = (entry: Record<string, unknown>, name: string) =>
  typeof entry.type === "string" && new RegExp(`(^|/)${name}d?$`).test(entry.type);

/** the Orientation / Spacing arguments of a transform chain (entries may be references: `deref` them) */
export function expectedGeometry(transforms: unknown[], deref: (v: unknown) => unknown): ExpectedGeometry {
  const out: ExpectedGeometry = {};
  for (const raw of transforms) {
    const t = deref(raw);
    if (!isPlainObject(t)) continue;
    if (isType(t, OrientationDef.name) && typeof t.axcodes === "string") out.axcodes = t.axcodes.toUpperCase();
    if (isType(t, SpacingDef.name)) {
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
  const source = expected.from === "checkpoint" ? "the checkpoint's training chain" : "the pipeline's";
  if (expected.axcodes) {
    if (now !== expected.axcodes)
      warnings.push(
        `${name}: orientation after preprocessing is ${now}, ${source} Orientation gives ${expected.axcodes}: the model was trained on ${expected.axcodes} inputs; predictions may be wrong`,
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
        `${name}: spacing after preprocessing is ${sp.map((s) => +s.toFixed(3)).join("×")} mm, ${source} Spacing gives ${expected.pixdim.join("×")} mm: the model was trained at that spacing; predictions may be wrong`,
      );
  }
  return warnings;
}
