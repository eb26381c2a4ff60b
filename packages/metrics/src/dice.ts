import { channelsOf, classTester, type LabelBatch, pairGeometry, resolveClasses } from "./layout.js";
import type { MetricMatrix } from "./reduction.js";

export interface DiceOptions {
  /** classes of label-map inputs (one-hot inputs: their channel count) */
  num_classes?: number;
  include_background?: boolean;
  /** NaN when the class is absent from the ground truth (MONAI default); else 1 if also absent from pred, else 0 */
  ignore_empty?: boolean;
}

export interface ClassMatrix extends MetricMatrix {
  /** class index of each column */
  classes: number[];
}

/** MONAI `compute_channel`: 2|P∩G| / (|G| + |P|), with the empty-ground-truth rule. */
function diceValue(inter: number, p: number, g: number, ignoreEmpty: boolean): number {
  if (g > 0) return (2 * inter) / (g + p);
  if (ignoreEmpty) return Number.NaN;
  return g + p <= 0 ? 1 : 0;
}

/**
 * Per case and class Dice of binarised segmentations (MONAI `DiceMetric` / `DiceHelper` with reduction "none"):
 * a `[B, classes]` matrix. Each side is a label map `[B, S..., 1]` or one-hot `[B, S..., C]`. A label map without
 * num_classes (and no one-hot side) is scored as the binary mask of class 1, as MONAI does.
 */
export function computeDice(pred: LabelBatch, gt: LabelBatch, opts: DiceOptions = {}): ClassMatrix {
  const metric = "DiceMetric";
  const geo = pairGeometry(metric, pred, gt);
  const classes = resolveClasses(metric, pred, gt, opts.num_classes, opts.include_background ?? true, true);
  const ignoreEmpty = opts.ignore_empty ?? true;
  const cols = classes.length;
  const out = new Float64Array(geo.batch * cols);
  const n = geo.voxels;
  if (channelsOf(pred) === 1 && channelsOf(gt) === 1) {
    // both label maps: one pass counts every class
    const k = Math.max(...classes) + 1;
    for (let b = 0; b < geo.batch; b++) {
      const cp = new Float64Array(k);
      const cg = new Float64Array(k);
      const ci = new Float64Array(k);
      for (let v = b * n; v < (b + 1) * n; v++) {
        const p = pred.data[v];
        const g = gt.data[v];
        if (p >= 0 && p < k && Number.isInteger(p)) cp[p]++;
        if (g >= 0 && g < k && Number.isInteger(g)) {
          cg[g]++;
          if (p === g) ci[g]++;
        }
      }
      classes.forEach((c, j) => {
        out[b * cols + j] = diceValue(ci[c], cp[c], cg[c], ignoreEmpty);
      });
    }
    return { data: out, rows: geo.batch, cols, classes };
  }
  const inP = classTester(pred, n);
  const inG = classTester(gt, n);
  for (let b = 0; b < geo.batch; b++)
    classes.forEach((c, j) => {
      let p = 0;
      let g = 0;
      let i = 0;
      for (let v = 0; v < n; v++) {
        const a = inP(b, v, c);
        const t = inG(b, v, c);
        if (a) p++;
        if (t) g++;
        if (a && t) i++;
      }
      out[b * cols + j] = diceValue(i, p, g, ignoreEmpty);
    });
  return { data: out, rows: geo.batch, cols, classes };
}
