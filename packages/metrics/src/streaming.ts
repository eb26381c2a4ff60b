import * as tf from "@tensorflow/tfjs-core";
import type { Metric, MetricValue } from "@voxelpipe/core";
import type { ClassMatrix } from "./dice.js";
import { type LabelBatch, metricError } from "./layout.js";
import { type MetricReduction, type ReducedMetric, reduceMetric } from "./reduction.js";

/**
 * Reads a channel-last tensor into a {@link LabelBatch}. With `argmax`, a multi-channel prediction (logits or
 * probabilities) becomes a label map first (MONAI `AsDiscrete(argmax=True)`).
 */
export function tensorToBatch(t: tf.Tensor, argmax = false): LabelBatch {
  if (argmax && t.rank >= 2 && t.shape[t.rank - 1] > 1) {
    const am = tf.argMax(t, -1);
    const data = am.dataSync();
    am.dispose();
    return { data, shape: [...t.shape.slice(0, -1), 1] };
  }
  return { data: t.dataSync(), shape: t.shape };
}

export type BatchCompute = (pred: LabelBatch, gt: LabelBatch, info: { spacing?: number[] }) => ClassMatrix;

/**
 * The streaming side shared by every per-case, per-class metric (MONAI `CumulativeIterationMetric`): each
 * `update` appends a `[B, classes]` block, `aggregate` reduces everything buffered since the last `reset`.
 */
export class BufferedClassMetric implements Metric {
  private blocks: ClassMatrix[] = [];

  constructor(
    readonly name: string,
    private readonly compute: BatchCompute,
    readonly reduction: MetricReduction,
    private readonly opts: { argmax?: boolean; classNames?: readonly string[] } = {},
  ) {}

  /** pred and target are channel-last `[B, S0, S1, S2, C]`: label maps (C = 1) or one-hot */
  update(pred: tf.Tensor, target: tf.Tensor, info: { spacing?: number[] } = {}): void {
    this.updateArrays(tensorToBatch(pred, this.opts.argmax), tensorToBatch(target), info);
  }

  /** the same as update, from typed arrays */
  updateArrays(pred: LabelBatch, target: LabelBatch, info: { spacing?: number[] } = {}): ClassMatrix {
    const m = this.compute(pred, target, info);
    const first = this.blocks[0];
    if (first && first.classes.join() !== m.classes.join()) {
      metricError(
        this.name,
        "the classes of this batch differ from earlier batches",
        `classes ${first.classes.join(", ")}`,
        `classes ${m.classes.join(", ")}`,
        "keep num_classes / the one-hot channel count the same between update() calls, or reset() first",
      );
    }
    this.blocks.push(m);
    return m;
  }

  /** every buffered value, `[cases, classes]` (MONAI `get_buffer()`) */
  buffer(): ClassMatrix {
    const cols = this.blocks[0]?.cols ?? 0;
    const rows = this.blocks.reduce((a, b) => a + b.rows, 0);
    const data = new Float64Array(rows * cols);
    let o = 0;
    for (const b of this.blocks) {
      data.set(b.data, o);
      o += b.data.length;
    }
    return { data, rows, cols, classes: this.blocks[0]?.classes ?? [] };
  }

  /** MONAI `aggregate()` with this metric's reduction, plus the not-NaN counts (`get_not_nans`) */
  result(reduction: MetricReduction = this.reduction): ReducedMetric & { classes: number[] } {
    const m = this.buffer();
    return { ...reduceMetric(m, reduction), classes: m.classes };
  }

  /**
   * `value`: the reduction's scalar for "mean"/"sum"; for per-class ("*_batch") or per-case ("*_channel") reductions
   * the mean over entries that had a valid value; for "none" the MONAI "mean". `detail`: per-class NaN-aware mean
   * over all cases, null for a class that never had a valid value (absent from every ground truth).
   */
  aggregate(): MetricValue {
    const m = this.buffer();
    if (m.rows === 0) return { value: Number.NaN, detail: {} };
    const red = reduceMetric(m, this.reduction === "none" ? "mean" : this.reduction);
    let value: number;
    if (red.shape.length === 0) value = red.values[0];
    else {
      let s = 0;
      let n = 0;
      red.values.forEach((v, i) => {
        if (red.notNans[i] > 0) {
          s += v;
          n++;
        }
      });
      value = n > 0 ? s / n : Number.NaN;
    }
    const perClass = reduceMetric(m, "mean_batch");
    const detail: Record<string, number | null> = {};
    m.classes.forEach((c, j) => {
      detail[this.opts.classNames?.[c] ?? String(c)] = perClass.notNans[j] > 0 ? perClass.values[j] : null;
    });
    return { value, detail };
  }

  reset(): void {
    this.blocks = [];
  }
}
