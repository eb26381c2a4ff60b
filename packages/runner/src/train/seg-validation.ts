import type { Inferer, Metric, MetricValue, Model } from "@voxelpipe/core";
import { tf } from "@voxelpipe/core";

/**
 * Segmentation validation: each validation volume through the inferer (e.g. sliding window) as a
 * whole, argmax over classes, then every metric updated with (prediction, ground truth).
 */
export async function segmentationValidation(o: {
  model: Model;
  inferer?: Inferer;
  metrics: Metric[];
  batches: AsyncIterable<Record<string, tf.Tensor>>;
  imageKey: string;
  labelKey: string;
}): Promise<Map<string, MetricValue>> {
  for (const m of o.metrics) m.reset();
  const predictor = (x: tf.Tensor) => o.model.apply(x, { training: false });
  for await (const batch of o.batches) {
    const image = batch[o.imageKey];
    const label = batch[o.labelKey];
    if (!image || !label) {
      tf.dispose(Object.values(batch));
      throw new Error(
        `validation batches need "${o.imageKey}" and "${o.labelKey}" (got ${Object.keys(batch).join(", ")})`,
      );
    }
    const logits = o.inferer ? await o.inferer.infer(image, predictor) : tf.tidy(() => predictor(image));
    const pred = tf.tidy(() => tf.expandDims(tf.argMax(logits, -1), -1));
    for (const m of o.metrics) m.update(pred, label);
    tf.dispose([logits, pred, ...Object.values(batch)]);
  }
  return new Map(o.metrics.map((m) => [m.name, m.aggregate()]));
}

/** the per-organ table printed at each validation */
export function perClassTable(results: Map<string, MetricValue>): string {
  const names = [...results.keys()];
  const classes = [...new Set([...results.values()].flatMap((r) => Object.keys(r.detail ?? {})))];
  const rows = classes.map((c) => [c, ...names.map((n) => fmt(results.get(n)?.detail?.[c]))]);
  rows.push(["mean", ...names.map((n) => fmt(results.get(n)?.value))]);
  const headers = ["class", ...names];
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ");
  return [line(headers), ...rows.map(line)].join("\n");
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined || Number.isNaN(v) ? "-" : v.toFixed(4);
}
