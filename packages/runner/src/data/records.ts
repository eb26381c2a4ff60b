import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { Codes, type Dataset, type Sample, VoxelpipeError } from "@voxelpipe/core";
import { loadDecathlonDatalist } from "@voxelpipe/transforms";

const NIFTI = /\.nii(\.gz)?$/;

/** Records to predict: a NIfTI file, a folder of them, or a Decathlon datalist (its `split`). */
export async function inputRecords(input: string, split: string, imageKey: string): Promise<Sample[]> {
  if (!existsSync(input)) {
    throw new VoxelpipeError({
      code: Codes.fileNotFound,
      message: `input ${input} does not exist`,
      hint: "give a .nii/.nii.gz file, a folder of them, or a datalist .json",
    });
  }
  if (statSync(input).isDirectory()) {
    const files = readdirSync(input)
      .filter((f) => NIFTI.test(f))
      .sort()
      .map((f) => ({ [imageKey]: join(input, f) }));
    if (!files.length) throw new VoxelpipeError({ code: Codes.data, message: `no .nii/.nii.gz files in ${input}` });
    return files;
  }
  if (NIFTI.test(input)) return [{ [imageKey]: resolve(input) }];
  if (input.endsWith(".json")) {
    const lists = await loadDecathlonDatalist(input);
    const list = lists[split];
    if (!list) {
      throw new VoxelpipeError({
        code: Codes.data,
        message: `datalist ${input} has no "${split}" list`,
        expected: `one of: ${Object.keys(lists).join(", ")}`,
        hint: "choose one with --split",
      });
    }
    return list.map((r) => ({ ...r }) as Sample);
  }
  throw new VoxelpipeError({
    code: Codes.invalidValue,
    message: `cannot read inputs from ${input}`,
    expected: "a .nii/.nii.gz file, a folder or a .json datalist",
  });
}

export async function datasetRecords(ds: Dataset, split: string): Promise<Sample[]> {
  const n = ds.size(split);
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) out.push({ ...(await ds.get(split, i)) });
  return out;
}

/**
 * Inference feeds records without labels through the validation chain: every dictionary
 * transform in it is told to skip keys the record does not have.
 */
export function allowMissingKeys(entry: unknown): unknown {
  if (Array.isArray(entry)) return entry.map(allowMissingKeys);
  if (entry && typeof entry === "object") {
    const e = { ...(entry as Record<string, unknown>) };
    if ("keys" in e && typeof e.type === "string") e.allow_missing_keys = true;
    if (Array.isArray(e.transforms)) e.transforms = e.transforms.map(allowMissingKeys);
    return e;
  }
  return entry;
}
