/**
 * LoadImage / SaveImage: the dictionary transforms at both ends of a pipeline (MONAI LoadImaged /
 * SaveImaged). Transforms are synchronous, so they use the sync reader/writer.
 */
import { basename, isAbsolute, join, resolve } from "node:path";
import {
  Codes,
  defineTransform,
  isVolume,
  type Sample,
  type Transform,
  type Volume,
  VoxelpipeError,
  z,
} from "@voxelpipe/core";
import { markKeepsInputs } from "../transforms/owned.js";
import { presentKeys } from "../transforms/sample.js";
import { readNiftiSync } from "./nifti-read.js";
import { writeNiftiSync } from "./nifti-write.js";

/** the registered names: in the definition, op records and messages */
const LOAD_IMAGE = "LoadImage";
const SAVE_IMAGE = "SaveImage";

const keys = z
  .array(z.string().min(1))
  .min(1)
  .describe("sample keys holding image paths (LoadImage) or volumes (SaveImage), e.g. [image, label]");
const allowMissingKeys = z
  .boolean()
  .default(false)
  .describe("skip listed keys that are absent from the sample instead of failing");

/** Float32 copy of a volume's data (MONAI LoadImage's default dtype=float32). */
function asFloat32(v: Volume): Volume {
  if (v.data instanceof Float32Array) return v;
  return { ...v, data: new Float32Array(v.data) };
}

export const LoadImageDef = defineTransform({
  name: LOAD_IMAGE,
  description:
    "Load NIfTI files (.nii / .nii.gz) named by each key's path into image volumes (MONAI LoadImaged). " +
    "Relative paths resolve against the pipeline file's directory.",
  args: z.object({
    keys,
    allow_missing_keys: allowMissingKeys,
    dtype: z
      .enum(["float32", "keep"])
      .default("float32")
      .describe("float32 converts voxels like MONAI does for images; keep preserves the file's type (use for labels)"),
  }),
  create(args, ctx): Transform {
    return markKeepsInputs({
      random: false,
      apply(sample) {
        const out: Sample = { ...sample };
        for (const k of presentKeys(sample, args.keys, args.allow_missing_keys, LOAD_IMAGE)) {
          const value = sample[k];
          let vol: Volume;
          if (typeof value === "string") {
            const path = isAbsolute(value) ? value : resolve(ctx.baseDir, value);
            vol = readNiftiSync(path, { float32: args.dtype === "float32" });
          } else if (isVolume(value)) {
            // already loaded (in-memory datasets, synthetic phantoms): only the dtype policy applies
            vol = value;
          } else {
            throw new VoxelpipeError({
              code: Codes.data,
              message: `LoadImage: key "${k}" holds ${Array.isArray(value) ? "an array" : typeof value}, not a file path`,
              expected: "a path to a .nii or .nii.gz file",
              got: JSON.stringify(value)?.slice(0, 120) ?? String(value),
              hint: "multi-file inputs (one path per channel) are not supported; stack channels into one 4-D NIfTI",
            });
          }
          out[k] = args.dtype === "float32" ? asFloat32(vol) : vol;
        }
        return out;
      },
    });
  },
});

const NIFTI_EXT = /\.nii(\.gz)?$/i;

/** case name of a volume: its source file name without .nii/.nii.gz (MONAI uses filename_or_obj) */
export function caseName(vol: Volume): string | undefined {
  const src = vol.meta?.source;
  if (typeof src !== "string" || src === "") return undefined;
  const base = basename(src);
  return NIFTI_EXT.test(base) ? base.replace(NIFTI_EXT, "") : base.replace(/\.[^.]*$/, "");
}

/** Output path of SaveImage (MONAI folder layout): `<dir>/<case>/<case>_<postfix><ext>` or flat. */
export function saveImagePath(
  outputDir: string,
  name: string,
  opts: { postfix: string; ext: string; separateFolder: boolean },
): string {
  const file = `${name}${opts.postfix ? `_${opts.postfix}` : ""}${opts.ext}`;
  return opts.separateFolder ? join(outputDir, name, file) : join(outputDir, file);
}

export const SaveImageDef = defineTransform({
  name: SAVE_IMAGE,
  description:
    "Write each key's volume as NIfTI (MONAI SaveImaged): <output_dir>/<case>/<case>_<postfix>.nii.gz, " +
    "the case name coming from the file the volume was loaded from. The sample passes through unchanged.",
  args: z.object({
    keys,
    allow_missing_keys: allowMissingKeys,
    output_dir: z.string().min(1).describe("folder to write into (relative to the pipeline file's directory)"),
    output_postfix: z.string().default("trans").describe("appended to the case name after an underscore"),
    output_ext: z.enum([".nii.gz", ".nii"]).default(".nii.gz").describe("file extension; .nii.gz compresses"),
    dtype: z
      .enum(["float32", "uint8", "int16"])
      .default("float32")
      .describe("voxel type on disk: uint8/int16 for label maps (values are rounded and clamped), float32 otherwise"),
    separate_folder: z.boolean().default(true).describe("write each case into its own sub-folder, as MONAI does"),
  }),
  create(args, ctx): Transform {
    const outputDir = resolve(ctx.baseDir, args.output_dir);
    let unnamed = 0;
    return markKeepsInputs({
      random: false,
      apply(sample) {
        for (const k of presentKeys(sample, args.keys, args.allow_missing_keys, SAVE_IMAGE)) {
          const vol = sample[k];
          if (!isVolume(vol)) {
            throw new VoxelpipeError({
              code: Codes.data,
              message: `SaveImage: key "${k}" does not hold an image volume`,
              expected: "a Volume",
              got: typeof vol,
              hint: "SaveImage writes volumes produced by LoadImage or a model; put it after those steps",
            });
          }
          // volumes built in memory have no source file: number them so nothing is overwritten
          const name = caseName(vol) ?? `${k}_${unnamed++}`;
          const path = saveImagePath(outputDir, name, {
            postfix: args.output_postfix,
            ext: args.output_ext,
            separateFolder: args.separate_folder,
          });
          writeNiftiSync(path, vol, { dtype: args.dtype });
        }
        return sample;
      },
    });
  },
});

export const ioComponents = [LoadImageDef, SaveImageDef] as const;
