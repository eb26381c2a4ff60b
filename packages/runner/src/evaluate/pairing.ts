import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { Codes, VoxelpipeError } from "@voxelpipe/core";

const NIFTI = /\.nii(\.gz)?$/;

export function niftiStem(file: string): string {
  return basename(file).replace(NIFTI, "");
}

function niftiFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => NIFTI.test(f))
    .map((f) => join(dir, f))
    .sort();
}

function mustExist(path: string, what: string): void {
  if (!existsSync(path)) {
    throw new VoxelpipeError({
      code: Codes.fileNotFound,
      message: `${what} ${path} does not exist`,
      hint: "check the path",
    });
  }
}

/**
 * Pair predictions with labels by case name: a label `case_0001.nii.gz` pairs with the prediction
 * whose file stem is `case_0001` or starts with `case_0001_` (e.g. `case_0001_seg`, as `voxelpipe infer`
 * writes), anywhere under the prediction folder. Every label must find exactly one prediction.
 */
export function pairFiles(pred: string, label: string): { pred: string; label: string }[] {
  mustExist(pred, "prediction");
  mustExist(label, "label");
  const predIsDir = statSync(pred).isDirectory();
  const labelIsDir = statSync(label).isDirectory();
  if (!predIsDir && !labelIsDir) return [{ pred, label }];
  if (predIsDir !== labelIsDir) {
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: "--pred and --label must both be files or both be folders",
      got: `pred ${predIsDir ? "folder" : "file"}, label ${labelIsDir ? "folder" : "file"}`,
    });
  }
  const labels = niftiFiles(label);
  if (labels.length === 0)
    throw new VoxelpipeError({ code: Codes.data, message: `no NIfTI files (.nii, .nii.gz) under ${label}` });
  return pairWithPredictions(pred, labels);
}

/** Find each label's prediction under `predDir` by case name (see pairFiles). */
export function pairWithPredictions(predDir: string, labels: string[]): { pred: string; label: string }[] {
  mustExist(predDir, "prediction folder");
  const preds = niftiFiles(predDir);
  const pairs: { pred: string; label: string }[] = [];
  const missing: string[] = [];
  for (const l of labels) {
    const stem = niftiStem(l);
    const hits = preds.filter((p) => niftiStem(p) === stem || niftiStem(p).startsWith(`${stem}_`));
    const exact = hits.filter((p) => niftiStem(p) === stem);
    const chosen = exact.length === 1 ? exact : hits;
    if (chosen.length === 1) pairs.push({ pred: chosen[0], label: l });
    else
      missing.push(
        `${basename(l)}: ${chosen.length ? `several predictions (${chosen.map((c) => relative(predDir, c)).join(", ")})` : "no prediction"}`,
      );
  }
  if (missing.length) {
    throw new VoxelpipeError({
      code: Codes.data,
      message: `cannot pair ${missing.length} of ${labels.length} labels with a prediction:\n    ${missing.join("\n    ")}`,
      hint: `predictions are matched by case name: ${niftiStem(labels[0])}.nii.gz or ${niftiStem(labels[0])}_<anything>.nii.gz under ${predDir}`,
    });
  }
  return pairs;
}
