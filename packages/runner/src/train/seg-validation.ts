import type { Inferer, Metric, MetricValue } from "@voxelpipe/core";
import { tf } from "@voxelpipe/core";
import { computeDice } from "@voxelpipe/metrics";
import type { CaseOverlay } from "../report/train-report.js";
import { textTable } from "../text/table.js";

export interface SegValidation {
  results: Map<string, MetricValue>;
  /** the validation cases with the highest and lowest mean organ Dice, for report overlays */
  best?: CaseOverlay;
  worst?: CaseOverlay;
}

/**
 * Segmentation validation: each validation volume through the inferer (e.g. sliding window) as a
 * whole, argmax over classes, then every metric updated with (prediction, ground truth).
 */
export async function segmentationValidation(o: {
  /** the model's prediction on a batch of windows (asynchronous when model replicas compute it) */
  predictor: (x: tf.Tensor) => tf.Tensor | Promise<tf.Tensor>;
  /** predictor calls in flight at once (the replicas' count) */
  concurrency?: number;
  inferer?: Inferer;
  metrics: Metric[];
  batches: AsyncIterable<Record<string, tf.Tensor>>;
  imageKey: string;
  labelKey: string;
  /** voxel size (mm) of each case, filled as the batches are drawn (for the report's aspect ratios) */
  spacings?: readonly [number, number, number][];
}): Promise<SegValidation> {
  for (const m of o.metrics) m.reset();
  const predictor = o.predictor;
  let best: CaseOverlay | undefined;
  let worst: CaseOverlay | undefined;
  let index = 0;
  for await (const batch of o.batches) {
    const image = batch[o.imageKey];
    const label = batch[o.labelKey];
    if (!image || !label) {
      tf.dispose(Object.values(batch));
      throw new Error(
        `validation batches need "${o.imageKey}" and "${o.labelKey}" (got ${Object.keys(batch).join(", ")})`,
      );
    }
    const logits = o.inferer
      ? await o.inferer.infer(image, predictor, { concurrency: o.concurrency })
      : await predictor(image);
    const pred = tf.tidy(() => tf.expandDims(tf.argMax(logits, -1), -1));
    // downloaded here: the metrics read them synchronously, which webgpu in Node cannot do (the
    // asynchronous read caches the values; a no-op cost elsewhere)
    await Promise.all([pred.data(), label.data()]);
    for (const m of o.metrics) m.update(pred, label);
    const c = await caseOverlay(image, label, pred, logits.shape[logits.rank - 1], `validation case ${index}`);
    if (c && o.spacings?.[index]) c.volumes.spacing = o.spacings[index];
    index++;
    if (c && (!best || c.score > best.score)) best = c;
    if (c && (!worst || c.score < worst.score)) worst = c;
    tf.dispose([logits, pred, ...Object.values(batch)]);
  }
  return { results: new Map(o.metrics.map((m) => [m.name, m.aggregate()])), best, worst };
}

/** mean organ Dice of one case (background excluded, absent organs ignored) and its volumes */
async function caseOverlay(
  image: tf.Tensor,
  label: tf.Tensor,
  pred: tf.Tensor,
  classes: number,
  name: string,
): Promise<CaseOverlay | undefined> {
  if (image.shape[0] !== 1) return undefined;
  const shape = image.shape.slice(1, 4) as [number, number, number];
  const p = pred.dataSync();
  const l = label.dataSync();
  const dice = computeDice(
    { data: p, shape: pred.shape },
    { data: l, shape: label.shape },
    { num_classes: classes, include_background: false },
  );
  const valid = [...dice.data].filter((v) => !Number.isNaN(v));
  const score = valid.length ? valid.reduce((a, b) => a + b, 0) / valid.length : 0;
  const first = tf.tidy(() => tf.slice(image, [0, 0, 0, 0, 0], [1, ...shape, 1]));
  const volumes = {
    shape,
    image: Float32Array.from(await first.data()),
    label: Uint8Array.from(l),
    pred: Uint8Array.from(p),
  };
  first.dispose();
  // per-organ Dice of this case for the report's legend (NaN where the organ is absent from both)
  const perClass = Object.fromEntries(dice.classes.map((c, j) => [c, dice.data[j]]));
  return { name, score, volumes, perClass };
}

/** the per-organ table printed at each validation */
export function perClassTable(results: Map<string, MetricValue>): string {
  const names = [...results.keys()];
  const classes = [...new Set([...results.values()].flatMap((r) => Object.keys(r.detail ?? {})))];
  const rows = classes.map((c) => [c, ...names.map((n) => fmt(results.get(n)?.detail?.[c]))]);
  rows.push(["mean", ...names.map((n) => fmt(results.get(n)?.value))]);
  return textTable(["class", ...names], rows, { align: "numbers" });
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined || Number.isNaN(v) ? "-" : v.toFixed(4);
}
