/** MONAI `MetricReduction` names. */
export const metricReductions = [
  "none",
  "mean",
  "sum",
  "mean_batch",
  "sum_batch",
  "mean_channel",
  "sum_channel",
] as const;
export type MetricReduction = (typeof metricReductions)[number];

/** A row-major [rows, cols] matrix of per-case, per-class values (NaN = undefined). */
export interface MetricMatrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

export interface ReducedMetric {
  /** scalar reductions have shape [], per-class [cols], per-case [rows], none [rows, cols] */
  values: Float64Array;
  shape: number[];
  /** how many non-NaN values went into each output (MONAI `not_nans`) */
  notNans: Float64Array;
}

/**
 * MONAI `do_metric_reduction`: NaNs are ignored (set to 0 and not counted). "mean" averages each row over its
 * valid columns, then the rows that had at least one valid value; an output with no valid input is 0 (not NaN),
 * as in MONAI. ±inf values are kept (a mean with an inf is inf).
 */
export function reduceMetric(m: MetricMatrix, reduction: MetricReduction): ReducedMetric {
  const { data, rows, cols } = m;
  const valid = (i: number) => !Number.isNaN(data[i]);
  const val = (i: number) => (Number.isNaN(data[i]) ? 0 : data[i]);
  if (reduction === "none") {
    const nn = new Float64Array(rows * cols);
    for (let i = 0; i < nn.length; i++) nn[i] = valid(i) ? 1 : 0;
    return { values: Float64Array.from(data), shape: [rows, cols], notNans: nn };
  }
  const rowSum = new Float64Array(rows);
  const rowCnt = new Float64Array(rows);
  const colSum = new Float64Array(cols);
  const colCnt = new Float64Array(cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const ok = valid(i) ? 1 : 0;
      rowSum[r] += val(i);
      rowCnt[r] += ok;
      colSum[c] += val(i);
      colCnt[c] += ok;
    }
  const ratio = (s: Float64Array, n: Float64Array) => s.map((x, i) => (n[i] > 0 ? x / n[i] : 0));
  switch (reduction) {
    case "mean": {
      const rowMean = ratio(rowSum, rowCnt);
      let s = 0;
      let n = 0;
      for (let r = 0; r < rows; r++) {
        if (rowCnt[r] > 0) {
          s += rowMean[r];
          n++;
        }
      }
      return { values: Float64Array.of(n > 0 ? s / n : 0), shape: [], notNans: Float64Array.of(n) };
    }
    case "sum": {
      const s = rowSum.reduce((a, x) => a + x, 0);
      return { values: Float64Array.of(s), shape: [], notNans: Float64Array.of(rowCnt.reduce((a, x) => a + x, 0)) };
    }
    case "mean_batch":
      return { values: ratio(colSum, colCnt), shape: [cols], notNans: colCnt };
    case "sum_batch":
      return { values: colSum, shape: [cols], notNans: colCnt };
    case "mean_channel":
      return { values: ratio(rowSum, rowCnt), shape: [rows], notNans: rowCnt };
    case "sum_channel":
      return { values: rowSum, shape: [rows], notNans: rowCnt };
  }
}
