import { Codes, spacingOf, type Volume, VoxelpipeError } from "@voxelpipe/core";
import { computeDice, computeHausdorffDistance, computeSurfaceDice, type LabelBatch } from "@voxelpipe/metrics";
import { readNifti } from "@voxelpipe/transforms";
import { pairFiles } from "./pairing.js";

export const evaluationMetrics = ["dice", "hd95", "hd", "nsd"] as const;
export type EvaluationMetric = (typeof evaluationMetrics)[number];

export interface EvaluateOptions {
  /** prediction file or folder, and label file or folder (paired by case name) */
  pred?: string;
  label?: string;
  /** or: explicit pairs */
  pairs?: { pred: string; label: string }[];
  /** class value → organ name; classes evaluated are its keys except 0 (default: the values present) */
  names?: Record<string, string>;
  /** value remapping applied to both prediction and label before scoring; values not listed become 0 */
  map?: Record<string, number>;
  metrics?: EvaluationMetric[];
  /** surface Dice tolerance in mm (one for all classes) */
  nsdTolerance?: number;
  onCase?: (i: number, n: number, pred: string) => void;
}

export type OrganValues = Record<string, number | null>;

export interface EvaluationResult {
  cases: { pred: string; label: string; metrics: Partial<Record<EvaluationMetric, OrganValues>> }[];
  mean: Partial<Record<EvaluationMetric, OrganValues & { mean: number | null }>>;
  /** organ names in class order */
  organs: string[];
}

function asLabelMap(v: Volume, map: Record<string, number> | undefined): Int32Array {
  const out = new Int32Array(v.data.length / v.channels);
  if (v.channels !== 1) {
    throw new VoxelpipeError({
      code: Codes.data,
      message: `${v.meta.source}: a label map must have one channel, it has ${v.channels}`,
    });
  }
  for (let i = 0; i < out.length; i++) {
    const x = Math.round(v.data[i]);
    out[i] = map ? (map[String(x)] ?? 0) : x;
  }
  return out;
}

/** predictions must lie on the label's grid: same shape and the same affine (to 1e-3 mm) */
function checkGrid(p: Volume, l: Volume): void {
  const sameShape = p.shape.every((d, i) => d === l.shape[i]);
  const sameAffine = p.affine.every((a, i) => Math.abs(a - l.affine[i]) <= 1e-3);
  if (sameShape && sameAffine) return;
  const fmt = (v: Volume) =>
    `${v.shape.join("×")}, spacing ${spacingOf(v.affine)
      .map((s) => +s.toFixed(4))
      .join("×")} mm, origin ${[v.affine[3], v.affine[7], v.affine[11]].map((o) => +o.toFixed(3)).join(", ")}`;
  throw new VoxelpipeError({
    code: Codes.data,
    message: `prediction and label are on different grids: ${p.meta.source} vs ${l.meta.source}`,
    expected: `the label's grid (${fmt(l)})`,
    got: `${sameShape ? "" : "shape "}${sameAffine ? "" : "affine "}differs: ${fmt(p)}`,
    hint: "write predictions on the input grid (`voxelpipe infer` does) or resample them to the label's grid",
  });
}

/** Score prediction label maps against ground truth, per case and per organ. */
export async function evaluateFiles(o: EvaluateOptions): Promise<EvaluationResult> {
  const metrics = o.metrics ?? ["dice", "hd95"];
  const pairs = o.pairs ?? pairFiles(String(o.pred), String(o.label));
  const cases: EvaluationResult["cases"] = [];
  let classes: number[] | undefined = o.names
    ? Object.keys(o.names)
        .map(Number)
        .filter((c) => c > 0)
        .sort((a, b) => a - b)
    : undefined;
  const loaded: { p: Int32Array; l: Int32Array; vol: Volume; pair: (typeof pairs)[number] }[] = [];
  for (const [i, pair] of pairs.entries()) {
    o.onCase?.(i + 1, pairs.length, pair.pred);
    const [pv, lv] = await Promise.all([readNifti(pair.pred), readNifti(pair.label)]);
    checkGrid(pv, lv);
    loaded.push({ p: asLabelMap(pv, o.map), l: asLabelMap(lv, o.map), vol: lv, pair });
  }
  if (!classes) {
    const present = new Set<number>();
    for (const { p, l } of loaded)
      for (const arr of [p, l]) for (let i = 0; i < arr.length; i++) if (arr[i] > 0) present.add(arr[i]);
    classes = [...present].sort((a, b) => a - b);
  }
  const numClasses = Math.max(0, ...classes) + 1;
  const organs = classes.map((c) => o.names?.[String(c)] ?? String(c));
  for (const { p, l, vol, pair } of loaded) {
    const shape = [1, ...vol.shape, 1];
    const pb: LabelBatch = { data: p, shape };
    const lb: LabelBatch = { data: l, shape };
    const spacing = spacingOf(vol.affine);
    const row: EvaluationResult["cases"][number]["metrics"] = {};
    for (const m of metrics) {
      const mat =
        m === "dice"
          ? computeDice(pb, lb, { num_classes: numClasses, include_background: false })
          : m === "nsd"
            ? computeSurfaceDice(pb, lb, {
                num_classes: numClasses,
                include_background: false,
                spacing,
                class_thresholds: Array(numClasses - 1).fill(o.nsdTolerance ?? 2),
              })
            : computeHausdorffDistance(pb, lb, {
                num_classes: numClasses,
                include_background: false,
                spacing,
                percentile: m === "hd95" ? 95 : undefined,
              });
      const values: OrganValues = {};
      classes.forEach((c, j) => {
        const col = mat.classes.indexOf(c);
        const v = col >= 0 ? mat.data[col] : Number.NaN;
        values[organs[j]] = Number.isFinite(v) ? v : null;
      });
      row[m] = values;
    }
    cases.push({ pred: pair.pred, label: pair.label, metrics: row });
  }
  const mean: EvaluationResult["mean"] = {};
  for (const m of metrics) {
    const out: OrganValues & { mean: number | null } = { mean: null };
    const perOrgan: number[] = [];
    for (const organ of organs) {
      const vals = cases.map((c) => c.metrics[m]?.[organ]).filter((v): v is number => typeof v === "number");
      out[organ] = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
      if (out[organ] !== null) perOrgan.push(out[organ] as number);
    }
    out.mean = perOrgan.length ? perOrgan.reduce((a, b) => a + b, 0) / perOrgan.length : null;
    mean[m] = out;
  }
  return { cases, mean, organs };
}
