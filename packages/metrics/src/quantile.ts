/**
 * `torch.quantile(x, q)` with linear interpolation on float32 data, as MONAI's percentile Hausdorff distance uses it:
 * rank = q·(n−1) computed in float32 (so 0.95 is 0.949999988), lower/upper neighbours of the sorted values, then
 * `lerp` in torch's form (w < 0.5: a + w·(b−a), else b − (b−a)·(1−w)). Note the consequence MONAI inherits: for an
 * all-+inf input, inf − inf = NaN, so the 95th percentile of "every distance infinite" is NaN, not inf.
 */
export function torchQuantile(values: Float32Array, q: number): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = Float32Array.from(values).sort();
  if (Number.isNaN(sorted[n - 1])) return Number.NaN; // typed-array sort puts NaN last; torch returns NaN
  const rank = Math.fround(Math.fround(q) * (n - 1));
  const below = Math.trunc(rank);
  const above = Math.ceil(rank);
  const w = Math.fround(rank - below);
  const a = sorted[below];
  const b = sorted[above];
  const r = w < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);
  return Math.fround(r);
}
