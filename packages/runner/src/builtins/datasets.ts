/**
 * Datasets over files: a MONAI/Decathlon datalist JSON, or image (and label) folders matched by
 * glob patterns. Both hand out raw records `{ image: absPath, label: absPath, ... }`; loading is
 * the transforms' job (LoadImage).
 */
import { resolve } from "node:path";
import { Codes, type Dataset, defineDataset, type Sample, VoxelpipeError, z } from "@voxelpipe/core";
import { checkDatalistFiles, type DatalistRecord, globDatalist, readDecathlonDatalist } from "@voxelpipe/transforms";

/** keys whose files must exist before a run starts */
const FILE_KEYS = ["image", "label"];

/** A Dataset over in-memory record lists; an unknown split is an error listing the known ones. */
export function recordsDataset(lists: Record<string, DatalistRecord[]>, source: string): Dataset {
  const known = (split: string): DatalistRecord[] => {
    const l = lists[split];
    if (!l) {
      throw new VoxelpipeError({
        code: Codes.data,
        message: `${source} has no split "${split}"`,
        expected: `one of: ${Object.keys(lists).join(", ") || "(none)"}`,
        got: split,
        hint: "set the stage's split names (e.g. `splits: { train: training, val: validation }`)",
      });
    }
    return l;
  };
  return {
    splits: () => Object.keys(lists),
    size: (split) => known(split).length,
    get: (split, i): Sample => {
      const l = known(split);
      if (!(i >= 0 && i < l.length)) {
        throw new VoxelpipeError({
          code: Codes.data,
          message: `${source}: ${split}[${i}] is out of range (${l.length} items)`,
        });
      }
      // a copy: transforms must never modify the dataset's own records
      return structuredClone(l[i]) as Sample;
    },
  };
}

export const DatalistDef = defineDataset({
  name: "Datalist",
  description:
    "Records from a MONAI/Decathlon datalist JSON ({training: [{image, label}], validation: [...], ...}); " +
    "image/label paths resolve against base_dir (default: the datalist's folder)",
  args: z.object({
    datalist: z.string().min(1).describe("datalist JSON file (relative to the pipeline file)"),
    base_dir: z
      .string()
      .min(1)
      .optional()
      .describe(
        "folder the datalist's relative paths resolve against, relative to the pipeline file (default: the datalist's folder)",
      ),
    check_files: z
      .boolean()
      .default(true)
      .describe("check that every image/label file exists before the run starts (all missing files reported at once)"),
    limit: z
      .record(z.string(), z.number().int().min(0))
      .optional()
      .describe("keep only the first N items of a split, e.g. { training: 4 } (label-budget ablations)"),
  }),
  async create(a, ctx): Promise<Dataset> {
    const file = resolve(ctx.baseDir, a.datalist);
    const { lists, labels } = await readDecathlonDatalist(file, {
      baseDir: a.base_dir === undefined ? undefined : resolve(ctx.baseDir, a.base_dir),
    });
    for (const [split, n] of Object.entries(a.limit ?? {})) if (lists[split]) lists[split] = lists[split].slice(0, n);
    if (a.check_files) await checkDatalistFiles(lists, FILE_KEYS, file);
    return { ...recordsDataset(lists, file), labels };
  },
});

export const ImageFolderDef = defineDataset({
  name: "ImageFolder",
  description:
    "Records from glob patterns: every image file (sorted), paired with the label of the same name; " +
    "the last val_count cases form the validation split",
  args: z.object({
    images: z.string().min(1).describe('glob of image files, e.g. "imagesTr/*.nii.gz"'),
    labels: z.string().min(1).optional().describe('glob of label files, paired by file name, e.g. "labelsTr/*.nii.gz"'),
    base_dir: z
      .string()
      .min(1)
      .optional()
      .describe("folder the patterns are relative to (default: the pipeline file's folder)"),
    val_count: z.number().int().min(0).default(0).describe("the last N cases (sorted by path) become `validation`"),
  }),
  async create(a, ctx): Promise<Dataset> {
    const baseDir = resolve(ctx.baseDir, a.base_dir ?? ".");
    const records = await globDatalist({ images: a.images, labels: a.labels, baseDir });
    if (a.val_count >= records.length && a.val_count > 0) {
      throw new VoxelpipeError({
        code: Codes.invalidValue,
        message: `${ctx.path}: val_count ${a.val_count} leaves no training cases (${records.length} found)`,
        path: `${ctx.path}.val_count`,
        expected: `0 ≤ val_count < ${records.length}`,
        got: String(a.val_count),
      });
    }
    const nTrain = records.length - a.val_count;
    const lists: Record<string, DatalistRecord[]> = { training: records.slice(0, nTrain) };
    if (a.val_count > 0) lists.validation = records.slice(nTrain);
    return recordsDataset(lists, `${ctx.path} (${a.images} under ${baseDir})`);
  },
});
