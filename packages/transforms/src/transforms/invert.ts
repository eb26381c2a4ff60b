/**
 * invertSpatial: map a volume on the final (transformed) grid back through the recorded spatial ops
 * (meta.applied, newest last) to the grid the data were loaded on — used by `voxelpipe infer` to
 * write predictions on the original image grid. Channels pass through unchanged, so a 14-channel
 * probability map or a 1-channel label map both work.
 */
import { type AppliedOp, Codes, type Volume, VoxelpipeError } from "@voxelpipe/core";
import { type AxisMap, axisMapVolume, invertAxisMap, windowVolume } from "./grid.js";
import { type InterpMode, resampleVolume } from "./resample.js";
import { isIntegerArray, type Shape3 } from "./sample.js";

export interface InvertOptions {
  /** interpolation used to undo Spacing: default nearest for integer data (labels), bilinear otherwise */
  mode?: InterpMode;
}

/**
 * Undo `applied` (in reverse) on `vol`. Orientation / Flip / Rotate90 re-index exactly; Spacing
 * resamples back onto the previous grid; crops and pads (CropForeground, SpatialPad, random crops)
 * pad or crop back, filling regions that were cut away with 0.
 */
export function invertSpatial(vol: Volume, applied: AppliedOp[], opts: InvertOptions = {}): Volume {
  let cur = vol;
  for (let i = applied.length - 1; i >= 0; i--) {
    const op = applied[i];
    const before = [...op.before] as Shape3;
    const p = op.params;
    let data: Volume["data"];
    let shape: Shape3;
    if (p.axes && p.flips) {
      const m: AxisMap = { axes: p.axes as AxisMap["axes"], flips: p.flips as AxisMap["flips"] };
      const r = axisMapVolume(cur, invertAxisMap(m));
      data = r.data;
      shape = r.shape;
    } else if (p.start && p.size) {
      const start = (p.start as number[]).map((s) => -s);
      data = windowVolume(cur, start, before, 0).data;
      shape = before;
    } else if (op.op === "Spacing") {
      const mode = opts.mode ?? (isIntegerArray(cur.data) ? "nearest" : "bilinear");
      data = resampleVolume(cur, op.affineBefore, before, mode, "border");
      shape = before;
    } else {
      throw new VoxelpipeError({
        code: Codes.data,
        message: `invertSpatial: do not know how to invert op "${op.op}"`,
        expected: "Orientation, Spacing, Flip, Rotate90, CropForeground, SpatialPad or a crop",
        got: JSON.stringify(op.params),
      });
    }
    const meta = { ...cur.meta, applied: applied.slice(0, i) };
    cur = { data, shape, channels: cur.channels, affine: Float64Array.from(op.affineBefore), meta };
  }
  return cur;
}
