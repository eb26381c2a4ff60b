/**
 * Exact voxel re-indexing operations (no interpolation) that every crop, pad, flip, rot90 and
 * orientation change reduces to, each with the matching affine update so world geometry is kept.
 */
import { type AppliedOp, Codes, type UndoOp, type Volume, type VoxelArray, VoxelpipeError } from "@voxelpipe/core";
import { matmul4, translation4 } from "./affine.js";
import { allocLike, type Shape3, voxelCount } from "./sample.js";

/**
 * Output axis d takes input axis `axes[d]`, reversed when `flips[d]`:
 * out[o0,o1,o2] = in[idx] with idx[axes[d]] = flips[d] ? n[axes[d]]-1-o[d] : o[d].
 * Orientation (flip then permute), RandFlip and RandRotate90 are all of this form.
 */
export interface AxisMap {
  axes: [number, number, number];
  flips: [boolean, boolean, boolean];
}

export function axisMapShape(shape: Shape3, m: AxisMap): Shape3 {
  return [shape[m.axes[0]], shape[m.axes[1]], shape[m.axes[2]]];
}

/** Matrix taking output voxel indices to input voxel indices (so new affine = affine · M). */
export function axisMapMatrix(shape: Shape3, m: AxisMap): Float64Array {
  const M = new Float64Array(16);
  M[15] = 1;
  for (let d = 0; d < 3; d++) {
    const a = m.axes[d];
    M[a * 4 + d] = m.flips[d] ? -1 : 1;
    if (m.flips[d]) M[a * 4 + 3] = shape[a] - 1;
  }
  return M;
}

/** The AxisMap that undoes `m` (applied to the output of `m`). */
export function invertAxisMap(m: AxisMap): AxisMap {
  const axes = [0, 0, 0] as [number, number, number];
  const flips = [false, false, false] as [boolean, boolean, boolean];
  for (let d = 0; d < 3; d++) {
    axes[m.axes[d]] = d;
    flips[m.axes[d]] = m.flips[d];
  }
  return { axes, flips };
}

export function isIdentityAxisMap(m: AxisMap): boolean {
  return m.axes[0] === 0 && m.axes[1] === 1 && m.axes[2] === 2 && !m.flips[0] && !m.flips[1] && !m.flips[2];
}

export function applyAxisMapData(data: VoxelArray, shape: Shape3, channels: number, m: AxisMap): VoxelArray {
  const out = allocLike(data, data.length);
  const inStride = [shape[1] * shape[2] * channels, shape[2] * channels, channels];
  const oshape = axisMapShape(shape, m);
  let base = 0;
  const st = [0, 0, 0];
  for (let d = 0; d < 3; d++) {
    const a = m.axes[d];
    if (m.flips[d]) {
      base += (shape[a] - 1) * inStride[a];
      st[d] = -inStride[a];
    } else {
      st[d] = inStride[a];
    }
  }
  let o = 0;
  if (channels === 1) {
    for (let i = 0; i < oshape[0]; i++) {
      const bi = base + i * st[0];
      for (let j = 0; j < oshape[1]; j++) {
        let p = bi + j * st[1];
        const s2 = st[2];
        for (let k = 0; k < oshape[2]; k++, p += s2) out[o++] = data[p];
      }
    }
  } else {
    for (let i = 0; i < oshape[0]; i++) {
      for (let j = 0; j < oshape[1]; j++) {
        for (let k = 0; k < oshape[2]; k++) {
          const p = base + i * st[0] + j * st[1] + k * st[2];
          for (let c = 0; c < channels; c++) out[o++] = data[p + c];
        }
      }
    }
  }
  return out;
}

/** Re-index a volume by an axis map: data, shape and affine (affine · M). */
export function axisMapVolume(v: Volume, m: AxisMap): { data: VoxelArray; shape: Shape3; affine: Float64Array } {
  return {
    data: applyAxisMapData(v.data, v.shape, v.channels, m),
    shape: axisMapShape(v.shape, m),
    affine: matmul4(v.affine, axisMapMatrix(v.shape, m)),
  };
}

/**
 * A window of the input grid: out[o] = in[o + start] (per dim), `fill` outside the input
 * (`"edge"` repeats the border voxel). start may be negative and size may exceed the input, so this
 * is crop, pad and crop-with-pad (CropForeground k_divisible) in one. The affine is translated so
 * world positions are unchanged.
 */
export function windowVolume(
  v: Volume,
  start: ArrayLike<number>,
  size: ArrayLike<number>,
  fill: number | "edge" = 0,
): { data: VoxelArray; shape: Shape3; affine: Float64Array } {
  const shape: Shape3 = [size[0], size[1], size[2]];
  const C = v.channels;
  const [n0, n1, n2] = v.shape;
  const out = allocLike(v.data, voxelCount(shape) * C);
  if (fill !== "edge" && fill !== 0) out.fill(fill);
  const src = v.data;
  const edge = fill === "edge";
  // the k-range that lies inside the input is contiguous: copy it as one block
  const kLo = Math.max(0, -start[2]);
  const kHi = Math.min(shape[2], n2 - start[2]);
  for (let i = 0; i < shape[0]; i++) {
    let si = i + start[0];
    if (si < 0 || si >= n0) {
      if (!edge) continue;
      si = Math.min(Math.max(si, 0), n0 - 1);
    }
    for (let j = 0; j < shape[1]; j++) {
      let sj = j + start[1];
      if (sj < 0 || sj >= n1) {
        if (!edge) continue;
        sj = Math.min(Math.max(sj, 0), n1 - 1);
      }
      const rowOut = (i * shape[1] + j) * shape[2] * C;
      const rowIn = (si * n1 + sj) * n2 * C;
      if (kHi > kLo) {
        out.set(src.subarray(rowIn + (kLo + start[2]) * C, rowIn + (kHi + start[2]) * C), rowOut + kLo * C);
      }
      if (edge) {
        for (let k = 0; k < shape[2]; k++) {
          if (k >= kLo && k < kHi) continue;
          const sk = Math.min(Math.max(k + start[2], 0), n2 - 1);
          for (let c = 0; c < C; c++) out[rowOut + k * C + c] = src[rowIn + sk * C + c];
        }
      }
    }
  }
  return { data: out, shape, affine: matmul4(v.affine, translation4(start)) };
}

/** `op.params[key]` as three values passing `ok`, or VP108 (a record this inverse cannot read). */
export function recorded3<T>(op: AppliedOp, key: string, ok: (x: unknown) => x is T): [T, T, T] {
  const v = op.params[key];
  if (Array.isArray(v) && v.length === 3 && v.every(ok)) return v as [T, T, T];
  throw new VoxelpipeError({
    code: Codes.badInverse,
    message: `cannot undo "${op.op}": its record has no valid params.${key}`,
    expected: "three values, as the transform recorded them",
    got: JSON.stringify(v) ?? "nothing",
  });
}

const isInt = (x: unknown): x is number => Number.isInteger(x);
const isBool = (x: unknown): x is boolean => typeof x === "boolean";

/** The recorded AxisMap `{ axes, flips }` of an Orientation, flip or rot90. */
export function recordedAxisMap(op: AppliedOp): AxisMap {
  const axes = recorded3(op, "axes", isInt);
  return { axes, flips: recorded3(op, "flips", isBool) };
}

/** Inverse of an axis re-indexing (Orientation, RandFlip, RandRotate90): the inverse map, exact. */
export const undoAxisMap: UndoOp = (vol, op) => {
  const r = axisMapVolume(vol, invertAxisMap(recordedAxisMap(op)));
  return { ...vol, data: r.data, shape: r.shape, affine: r.affine };
};

/**
 * Inverse of a window `{ start, size }` (crops and pads): the window of the output grid that is the
 * input grid, i.e. start −start and size `op.before`; what a crop cut away comes back as 0 (MONAI's
 * inverse of a crop pads with zeros), what a pad added is cut off.
 */
export const undoWindow: UndoOp = (vol, op) => {
  const start = recorded3(op, "start", isInt);
  const size = recorded3(op, "size", isInt);
  if (size.some((n, d) => n !== vol.shape[d])) {
    throw new VoxelpipeError({
      code: Codes.badInverse,
      message: `cannot undo "${op.op}": the volume is [${vol.shape}] but the op produced [${size}]`,
      hint: "undo the ops newer than this one first (invertSpatial walks meta.applied from the newest)",
    });
  }
  const r = windowVolume(
    vol,
    start.map((s) => -s),
    op.before,
    0,
  );
  return { ...vol, data: r.data, shape: r.shape, affine: r.affine };
};
