import { type Metric, type MetricValue, tf } from "@voxelpipe/core";
import { deepEqual, expectThat, noLeak, relDiff } from "./common.js";

export interface MetricBatch {
  pred: tf.Tensor;
  target: tf.Tensor;
}

function same(a: MetricValue, b: MetricValue): boolean {
  if (relDiff(a.value, b.value) > 1e-9) return false;
  const ka = Object.keys(a.detail ?? {}).sort();
  if (!deepEqual(ka, Object.keys(b.detail ?? {}).sort())) return false;
  return ka.every((k) => {
    const [x, y] = [a.detail?.[k], b.detail?.[k]];
    return x === y || (x !== null && y !== null && x !== undefined && y !== undefined && relDiff(x, y) <= 1e-9);
  });
}

/**
 * Metrics' streaming and one-shot results agree: updating batch by batch gives what one update
 * with all batches concatenated gives; `reset` forgets everything; nothing leaks; the value is a
 * number (NaN allowed: "undefined" for absent classes).
 */
export async function checkMetric(make: () => Promise<Metric>, batches: MetricBatch[]): Promise<void> {
  expectThat(batches.length >= 2, () => "give at least two batches to compare streaming and one-shot results");
  const streaming = await make();
  expectThat(typeof streaming.name === "string" && streaming.name.length > 0, () => "the metric has no name");
  const a = await noLeak("update() and aggregate()", () => {
    for (const b of batches) streaming.update(b.pred, b.target);
    return streaming.aggregate();
  });
  expectThat(typeof a.value === "number", () => `aggregate().value is ${typeof a.value}, not a number`);
  const oneShot = await make();
  const all = tf.tidy(() => ({
    pred: tf.concat(
      batches.map((b) => b.pred),
      0,
    ),
    target: tf.concat(
      batches.map((b) => b.target),
      0,
    ),
  }));
  oneShot.update(all.pred, all.target);
  tf.dispose([all.pred, all.target]);
  const b = oneShot.aggregate();
  expectThat(
    same(a, b),
    () =>
      `streaming over ${batches.length} batches gives ${JSON.stringify(a)} but one update with them concatenated gives ${JSON.stringify(b)}`,
  );
  streaming.reset();
  streaming.update(batches[0].pred, batches[0].target);
  const afterReset = streaming.aggregate();
  const fresh = await make();
  fresh.update(batches[0].pred, batches[0].target);
  const f = fresh.aggregate();
  expectThat(
    same(afterReset, f),
    () =>
      `after reset() and one update the metric gives ${JSON.stringify(afterReset)}, a fresh one ${JSON.stringify(f)}: reset() must forget earlier batches`,
  );
}
