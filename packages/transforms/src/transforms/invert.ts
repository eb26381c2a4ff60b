/**
 * invertSpatial: undo the spatial ops a volume carries (meta.applied, newest last), MONAI's
 * Compose.inverse / Invertd. Nothing here knows any transform: each record names the transform that
 * made it, and that transform's own inverse (declared with its definition: `spatial.inverse`, carried
 * by its instances as `invert`) undoes it. Used by `voxelpipe infer` to write predictions on the grid
 * the input was loaded on; channels pass through, so a 14-channel probability map or a label map work.
 */
import {
  type AppliedOp,
  Codes,
  type InverseOptions,
  type Transform,
  type TransformDefinition,
  type Volume,
  VoxelpipeError,
} from "@voxelpipe/core";

/**
 * What can undo records: transform instances (a chain) or transform definitions (e.g. a plugin's list).
 * A definition is taken by its name and `spatial` alone, so definitions of any args schema qualify.
 */
export type InverseOwner = Pick<Transform, "invert"> | Pick<TransformDefinition, "name" | "spatial">;

/** Affine entries may differ by this much (mm) after a round trip and still be "the same grid". */
const AFFINE_TOL = 1e-6;

function undoBy(owner: InverseOwner, vol: Volume, op: AppliedOp, opts: InverseOptions): Volume | undefined {
  if ("invert" in owner && typeof owner.invert === "function") return owner.invert(vol, op, opts);
  if (!("name" in owner)) return undefined; // an instance of a transform that changes no grid
  return owner.spatial?.inverse && owner.name === op.op ? owner.spatial.inverse(vol, op, opts) : undefined;
}

/**
 * Undo every record of `vol.meta.applied` (newest first) with the transform in `owners` that made it
 * (the last one that claims it: the chain is walked backwards, as MONAI does). The result lies on the
 * grid before the first record: its shape and affine are the recorded ones, exactly. A record no owner
 * claims is VP106; an inverse that returns another grid than the recorded one, VP108; a result whose
 * grid is not the one the data were loaded on (`meta.originalShape/originalAffine`), VP107.
 */
export function invertSpatial(vol: Volume, owners: readonly InverseOwner[], opts: InverseOptions = {}): Volume {
  const applied = vol.meta.applied ?? [];
  let cur = vol;
  for (let i = applied.length - 1; i >= 0; i--) {
    const op = applied[i];
    let undone: Volume | undefined;
    for (let o = owners.length - 1; o >= 0 && !undone; o--) undone = undoBy(owners[o], cur, op, opts);
    if (!undone) {
      throw new VoxelpipeError({
        code: Codes.notInvertible,
        message: `cannot undo "${op.op}" (spatial op ${i + 1} of ${applied.length} applied to this volume): no transform of the chain claims it`,
        expected: "the transforms that preprocessed the volume, one of them declaring spatial.inverse for this op",
        got: `transforms that undo ops: ${owners.length ? ownerNames(owners) : "none"}`,
        hint: `a transform recording "${op.op}" must be in the chain passed to invertSpatial, and its definition must declare spatial: { inverse } (defineTransform)`,
      });
    }
    if (undone.shape.some((n, d) => n !== op.before[d]) || undone.channels !== cur.channels) {
      throw new VoxelpipeError({
        code: Codes.badInverse,
        message: `the inverse of "${op.op}" returned a [${undone.shape}]×${undone.channels} volume; the op was applied to [${op.before}]×${cur.channels}`,
        hint: `this is a bug in the spatial.inverse of ${op.op}`,
      });
    }
    cur = {
      data: undone.data,
      shape: [...op.before],
      channels: cur.channels,
      affine: Float64Array.from(op.affineBefore),
      meta: { ...cur.meta, applied: applied.slice(0, i) },
    };
  }
  checkLoadedGrid(cur);
  return cur;
}

function ownerNames(owners: readonly InverseOwner[]): string {
  const names = owners.map((o) => (o as { name?: unknown }).name).filter((n) => typeof n === "string");
  return names.length ? [...new Set(names)].join(", ") : `${owners.length} transforms`;
}

/**
 * After every record is undone the volume must be back on the grid it was loaded on: otherwise some
 * transform changed the grid without recording it (a spatial transform whose definition declares no
 * `spatial`), and writing the result would silently misplace every voxel.
 */
function checkLoadedGrid(v: Volume): void {
  const shape = v.meta.originalShape;
  const affine = v.meta.originalAffine;
  const sameShape = !shape || shape.every((n, d) => n === v.shape[d]);
  const sameAffine = !affine || affine.every((x, i) => Math.abs(x - v.affine[i]) <= AFFINE_TOL * (1 + Math.abs(x)));
  if (sameShape && sameAffine) return;
  throw new VoxelpipeError({
    code: Codes.unrecordedSpatial,
    message: `after undoing every recorded op the volume is on [${v.shape}] but was loaded on [${shape ?? v.shape}]${sameAffine ? "" : " with another affine"}: a transform changed the grid without recording it`,
    expected: `shape [${shape ?? v.shape}], affine [${Array.from(affine ?? v.affine).map((x) => +x.toFixed(4))}]`,
    got: `shape [${v.shape}], affine [${Array.from(v.affine).map((x) => +x.toFixed(4))}]`,
    hint: "a transform that changes shapes or affines must record what it did in meta.applied and declare spatial: { inverse } in defineTransform",
  });
}
