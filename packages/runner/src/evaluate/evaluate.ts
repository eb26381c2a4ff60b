import { Codes, spacingOf, type Volume, VoxelpipeError } from "@voxelpipe/core";
import { computeDice, computeHausdorffDistance, computeSurfaceDice, type LabelBatch } from "@voxelpipe/metrics";
import { readNifti } from "@voxelpipe/transforms";
import type { EvaluationMetric, EvaluationResult, OrganValues } from "./evaluation-types.js";
import { pairFiles } from "./pairing.js";

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
  /** remapping of the predictions only / the labels only (instead of `map` for that side) */
  mapPred?: Record<string, number>;
  mapLabel?: Record<string, number>;
  metrics?: EvaluationMetric[];
  /** surface Dice tolerance in mm (one for all classes) */
  nsdTolerance?: number;
  onCase?: (i: number, n: number, pred: string) => void;
}

/** without a label set (`names`), a label map with more distinct values than this is not a segmentation */
export const MAX_CLASSES_WITHOUT_NAMES = 512;
/** how far from an integer a stored label value may be (float32 label maps) */
const INTEGER_TOLERANCE = 1e-4;

function notSegmentation(v: Volume, side: "pred" | "label", message: string, got: string): VoxelpipeError {
  return new VoxelpipeError({
    code: Codes.notSegmentation,
    message: `${v.meta.source} (--${side}) is not a segmentation: ${message}`,
    loc: { file: String(v.meta.source), line: 1, col: 1 },
    expected: "a label map: one channel of non-negative integer class values",
    got,
    hint: `is it an image (e.g. the CT) instead of a label map? check --${side}; to score other class values, remap them with --map-${side} (or --map for both sides)`,
  });
}

/**
 * One channel of non-negative integers, remapped, with at most `maxClasses` distinct values after
 * the map (background included); anything else is refused (VP250) before any metric runs.
 */
function asLabelMap(
  v: Volume,
  map: Record<string, number> | undefined,
  side: "pred" | "label",
  maxClasses: number,
  names: Record<string, string> | undefined,
): Int32Array {
  if (v.channels !== 1) {
    throw new VoxelpipeError({
      code: Codes.data,
      message: `${v.meta.source}: a label map must have one channel, it has ${v.channels}`,
    });
  }
  const out = new Int32Array(v.data.length);
  const lut = map ? new Map(Object.entries(map).map(([k, x]) => [Number(k), x])) : undefined;
  const seen = new Set<number>();
  let lastIn = Number.NaN;
  let lastOut = 0;
  const [, s1, s2] = v.shape;
  const at = (i: number) => `voxel (${Math.floor(i / (s1 * s2))}, ${Math.floor(i / s2) % s1}, ${i % s2})`;
  for (let i = 0; i < out.length; i++) {
    const raw = v.data[i];
    if (raw === lastIn) {
      out[i] = lastOut; // runs of the same value (background) are the common case
      continue;
    }
    const x = Math.round(raw);
    if (!(Math.abs(raw - x) <= INTEGER_TOLERANCE))
      throw notSegmentation(v, side, `value ${raw} at ${at(i)} is not an integer`, String(raw));
    if (x < 0) throw notSegmentation(v, side, `value ${x} at ${at(i)} is negative`, String(x));
    const y = lut ? (lut.get(x) ?? 0) : x;
    if (!seen.has(y)) {
      seen.add(y);
      if (seen.size > maxClasses) {
        const first = [...seen].sort((a, b) => a - b).slice(0, 8);
        throw notSegmentation(
          v,
          side,
          `it has more than ${maxClasses} distinct values${names ? ` (the label set has ${maxClasses - 1} classes + background)` : ""}`,
          `${seen.size}+ distinct values: ${first.join(", ")}, ...`,
        );
      }
    }
    lastIn = raw;
    lastOut = y;
    out[i] = y;
  }
  return out;
}

/** predictions must lie on the label's grid: same shape and the same affine (to 1e-3 mm) */
type Grid = Pick<Volume, "shape" | "affine"> & { meta: { source?: unknown } };

function checkGrid(p: Grid, l: Grid): void {
  const sameShape = p.shape.every((d, i) => d === l.shape[i]);
  const sameAffine = p.affine.every((a, i) => Math.abs(a - l.affine[i]) <= 1e-3);
  if (sameShape && sameAffine) return;
  const fmt = (v: Grid) =>
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
  // a label set allows its classes + background (+ values outside it, scored as nothing, up to its size)
  const maxClasses = o.names ? Math.max(1, classes?.length ?? 0) + 1 : MAX_CLASSES_WITHOUT_NAMES;
  const loaded = await loadLabelMaps(pairs, o, maxClasses);
  if (!classes) classes = presentClasses(loaded);
  const numClasses = Math.max(0, ...classes) + 1;
  const organs = classes.map((c) => o.names?.[String(c)] ?? String(c));
  for (const { p, l, vol, pair } of loaded) {
    const row = scoreCase(p, l, vol, metrics, { classes, organs, numClasses, nsdTolerance: o.nsdTolerance });
    cases.push({ pred: pair.pred, label: pair.label, metrics: row });
  }
  const { mean, counted } = meansOf(cases, organs, metrics);
  return { cases, mean, organs, classValues: classes, counted };
}

interface LoadedPair {
  p: Int32Array;
  l: Int32Array;
  vol: Pick<Volume, "shape" | "affine">;
  pair: { pred: string; label: string };
}

/** each pair read and turned into label maps (remapped, checked on one grid) */
async function loadLabelMaps(
  pairs: { pred: string; label: string }[],
  o: EvaluateOptions,
  maxClasses: number,
): Promise<LoadedPair[]> {
  // only the label maps and the grid are kept, not the volumes (memory: one Int32Array per side)
  const loaded: LoadedPair[] = [];
  for (const [i, pair] of pairs.entries()) {
    o.onCase?.(i + 1, pairs.length, pair.pred);
    // one volume in memory at a time: each becomes a label map before the next is read
    const pv = await readNifti(pair.pred);
    const predGrid = { shape: pv.shape, affine: pv.affine, meta: { source: pv.meta.source } };
    const p = asLabelMap(pv, o.mapPred ?? o.map, "pred", maxClasses, o.names);
    const lv = await readNifti(pair.label);
    checkGrid(predGrid, lv);
    const l = asLabelMap(lv, o.mapLabel ?? o.map, "label", maxClasses, o.names);
    loaded.push({ p, l, vol: { shape: lv.shape, affine: lv.affine }, pair });
  }
  return loaded;
}

/** without class names: the values present in any prediction or label (none at all is an error) */
function presentClasses(loaded: LoadedPair[]): number[] {
  const present = new Set<number>();
  for (const { p, l } of loaded)
    for (const arr of [p, l]) for (let i = 0; i < arr.length; i++) if (arr[i] > 0) present.add(arr[i]);
  const classes = [...present].sort((a, b) => a - b);
  if (!classes.length) {
    throw new VoxelpipeError({
      code: Codes.data,
      message: `nothing to score: the ${loaded.length === 1 ? "prediction and label are" : `${loaded.length} predictions and labels are all`} background (0) only`,
      hint: "name the classes to score with --labels (they are then reported as absent), or check the files",
    });
  }
  return classes;
}

/** one case's metrics, per organ (null where a metric is undefined, e.g. an organ absent from both) */
function scoreCase(
  p: Int32Array,
  l: Int32Array,
  vol: Pick<Volume, "shape" | "affine">,
  metrics: EvaluationMetric[],
  {
    classes,
    organs,
    numClasses,
    nsdTolerance,
  }: { classes: number[]; organs: string[]; numClasses: number; nsdTolerance?: number },
): EvaluationResult["cases"][number]["metrics"] {
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
              class_thresholds: Array(numClasses - 1).fill(nsdTolerance ?? 2),
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
  return row;
}

/** the mean over cases per organ, and over organs; `counted`: the organs with a value in some case */
function meansOf(
  cases: EvaluationResult["cases"],
  organs: string[],
  metrics: EvaluationMetric[],
): Pick<EvaluationResult, "mean" | "counted"> {
  const mean: EvaluationResult["mean"] = {};
  const counted: EvaluationResult["counted"] = {};
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
    counted[m] = perOrgan.length;
  }
  return { mean, counted };
}
