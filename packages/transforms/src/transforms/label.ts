/**
 * MapLabelValue: remap label values (e.g. TotalSegmentator → the 14 BTCV classes). MONAI leaves
 * unlisted values unchanged; `unmapped: <number>` maps every unlisted value to that number instead.
 */
import { defineTransform, type Volume, type VoxelArray, z } from "@voxelpipe/core";
import { allowMissingArg, builtinTransform, keysArg } from "./base.js";
import { argError, dataError, derive, presentKeys, volumeAt } from "./sample.js";

/** the registered name: in the definition, op records and messages */
const MAP_LABEL_VALUE = "MapLabelValue";

export const labelDtypes = ["uint8", "int16", "uint16", "int32", "float32", "float64"] as const;
export type LabelDtype = (typeof labelDtypes)[number];

const ctors: Record<LabelDtype, new (n: number) => VoxelArray> = {
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** Each value equal to orig[i] becomes target[i] (matching on the ORIGINAL values, so maps never chain). */
export function mapLabelValue(
  v: Volume,
  orig: number[],
  target: number[],
  opts: { dtype?: LabelDtype; unmapped?: "keep" | number } = {},
): Volume {
  if (orig.length !== target.length) {
    dataError(`MapLabelValue: orig_labels has ${orig.length} values but target_labels has ${target.length}`);
  }
  const table = new Map<number, number>();
  for (let i = 0; i < orig.length; i++) table.set(orig[i], target[i]);
  const out = new ctors[opts.dtype ?? "float32"](v.data.length);
  const unmapped = opts.unmapped ?? "keep";
  const src = v.data;
  // integer labels in a small range: a lookup array is much faster than a Map per voxel
  let lut: Float64Array | null = null;
  let lutMin = 0;
  if (!(src instanceof Float32Array || src instanceof Float64Array) && src.length > 0) {
    let lo = src[0];
    let hi = src[0];
    for (let i = 1; i < src.length; i++) {
      if (src[i] < lo) lo = src[i];
      else if (src[i] > hi) hi = src[i];
    }
    if (hi - lo <= 1 << 20) {
      lutMin = lo;
      lut = new Float64Array(hi - lo + 1);
      for (let x = lo; x <= hi; x++) lut[x - lo] = table.get(x) ?? (unmapped === "keep" ? x : unmapped);
    }
  }
  if (lut) {
    for (let i = 0; i < src.length; i++) out[i] = lut[src[i] - lutMin];
  } else {
    for (let i = 0; i < src.length; i++) out[i] = table.get(src[i]) ?? (unmapped === "keep" ? src[i] : unmapped);
  }
  return derive(v, { data: out });
}

export const MapLabelValueDef = defineTransform({
  name: MAP_LABEL_VALUE,
  description:
    "Map label values orig_labels[i] → target_labels[i] (MONAI MapLabelValued), plus an optional value for all others.",
  args: z.object({
    keys: keysArg,
    orig_labels: z.array(z.number()).describe("values to replace"),
    target_labels: z.array(z.number()).describe("replacement for each orig_labels entry (same length)"),
    dtype: z
      .enum(labelDtypes)
      .default("float32")
      .describe("output storage type (MONAI default float32; uint8 suits ≤ 255 classes)"),
    unmapped: z
      .union([z.literal("keep"), z.number()])
      .default("keep")
      .describe('values not in orig_labels: "keep" them (MONAI) or map them all to this number (e.g. 0 for BTCV)'),
    allow_missing_keys: allowMissingArg,
  }),
  create: (args) => {
    if (args.orig_labels.length !== args.target_labels.length) {
      argError(
        `MapLabelValue: orig_labels has ${args.orig_labels.length} values but target_labels has ${args.target_labels.length}`,
        {
          hint: "give one target per original label",
        },
      );
    }
    return builtinTransform(MAP_LABEL_VALUE, false, (sample) => {
      const out = { ...sample };
      for (const k of presentKeys(sample, args.keys, args.allow_missing_keys, MAP_LABEL_VALUE)) {
        out[k] = mapLabelValue(volumeAt(sample, k, MAP_LABEL_VALUE), args.orig_labels, args.target_labels, {
          dtype: args.dtype,
          unmapped: args.unmapped,
        });
      }
      return out;
    });
  },
});
