/**
 * Independent float64 loop implementations of the MONAI/torch formulas, used as the reference for values and
 * for central finite differences. Layout: channel-last, `x[(b·N + v)·C + c]`, N = voxels per item.
 */

export interface RefDiceOpts {
  include_background?: boolean;
  to_onehot_y?: boolean;
  sigmoid?: boolean;
  softmax?: boolean;
  squared_pred?: boolean;
  jaccard?: boolean;
  smooth_nr?: number;
  smooth_dr?: number;
  batch?: boolean;
  weight?: readonly number[];
  reduction?: "mean" | "sum" | "none";
}

function softmaxRows(x: ArrayLike<number>, rows: number, c: number): Float64Array {
  const out = new Float64Array(rows * c);
  for (let r = 0; r < rows; r++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < c; k++) m = Math.max(m, x[r * c + k]);
    let s = 0;
    for (let k = 0; k < c; k++) s += Math.exp(x[r * c + k] - m);
    for (let k = 0; k < c; k++) out[r * c + k] = Math.exp(x[r * c + k] - m) / s;
  }
  return out;
}

/** one-hot from labels stored one per voxel */
export function refOneHot(labels: ArrayLike<number>, c: number): Float64Array {
  const out = new Float64Array(labels.length * c);
  for (let i = 0; i < labels.length; i++) out[i * c + Math.trunc(labels[i])] = 1;
  return out;
}

/** returns [B, C'] (or [C'] with batch) values before reduction, or the reduced scalar */
export function refDice(
  input: ArrayLike<number>,
  target: ArrayLike<number>,
  b: number,
  c: number,
  o: RefDiceOpts = {},
): number | Float64Array {
  const n = input.length / (b * c);
  let p: Float64Array = Float64Array.from(input);
  if (o.sigmoid) p = p.map((v) => 1 / (1 + Math.exp(-v)));
  if (o.softmax && c > 1) p = softmaxRows(p, b * n, c);
  const g = o.to_onehot_y && c > 1 ? refOneHot(target, c) : Float64Array.from(target);
  const first = (o.include_background ?? true) || c === 1 ? 0 : 1;
  const nc = c - first;
  const rows = o.batch ? 1 : b;
  const inter = new Float64Array(rows * nc);
  const go = new Float64Array(rows * nc);
  const po = new Float64Array(rows * nc);
  for (let bi = 0; bi < b; bi++)
    for (let v = 0; v < n; v++)
      for (let k = first; k < c; k++) {
        const i = (bi * n + v) * c + k;
        const r = (o.batch ? 0 : bi) * nc + (k - first);
        inter[r] += p[i] * g[i];
        go[r] += o.squared_pred ? g[i] * g[i] : g[i];
        po[r] += o.squared_pred ? p[i] * p[i] : p[i];
      }
  const f = new Float64Array(rows * nc);
  for (let r = 0; r < f.length; r++) {
    let den = go[r] + po[r];
    if (o.jaccard) den = 2 * (den - inter[r]);
    f[r] = 1 - (2 * inter[r] + (o.smooth_nr ?? 1e-5)) / (den + (o.smooth_dr ?? 1e-5));
    if (o.weight && nc !== 1) f[r] *= o.weight[r % nc];
  }
  if (o.reduction === "none") return f;
  const s = f.reduce((a, x) => a + x, 0);
  return o.reduction === "sum" ? s : s / f.length;
}

export interface RefCeOpts {
  weight?: readonly number[];
  label_smoothing?: number;
  reduction?: "mean" | "sum";
}

/** torch CrossEntropyLoss; target = labels (one per voxel) or probabilities (C per voxel) */
export function refCrossEntropy(
  logits: ArrayLike<number>,
  target: ArrayLike<number>,
  c: number,
  o: RefCeOpts = {},
): number {
  const rows = logits.length / c;
  const eps = o.label_smoothing ?? 0;
  const w = o.weight ?? new Array<number>(c).fill(1);
  const probs = target.length === logits.length;
  let total = 0;
  let wsum = 0;
  for (let r = 0; r < rows; r++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < c; k++) m = Math.max(m, logits[r * c + k]);
    let s = 0;
    for (let k = 0; k < c; k++) s += Math.exp(logits[r * c + k] - m);
    const lse = m + Math.log(s);
    const logp = (k: number) => logits[r * c + k] - lse;
    if (probs) {
      for (let k = 0; k < c; k++) total -= w[k] * (target[r * c + k] * (1 - eps) + eps / c) * logp(k);
      wsum += 1;
    } else {
      const y = Math.trunc(target[r]);
      let smooth = 0;
      for (let k = 0; k < c; k++) smooth -= w[k] * logp(k);
      total += (1 - eps) * w[y] * -logp(y) + (eps / c) * smooth;
      wsum += o.weight ? w[y] : 1;
    }
  }
  return o.reduction === "sum" ? total : total / wsum;
}

/** MONAI ContrastiveLoss in float64 (direct exp form; fine for moderate temperatures) */
export function refContrastive(a: ArrayLike<number>, b: ArrayLike<number>, batch: number, t: number): number {
  const f = a.length / batch;
  const rows: Float64Array[] = [];
  for (let i = 0; i < batch; i++) rows.push(Float64Array.from({ length: f }, (_, k) => a[i * f + k]));
  for (let i = 0; i < batch; i++) rows.push(Float64Array.from({ length: f }, (_, k) => b[i * f + k]));
  const n = 2 * batch;
  const sim = (i: number, j: number) => {
    let d = 0;
    let wi = 0;
    let wj = 0;
    for (let k = 0; k < f; k++) {
      d += rows[i][k] * rows[j][k];
      wi += rows[i][k] ** 2;
      wj += rows[j][k] ** 2;
    }
    return d / Math.sqrt(Math.max(wi * wj, 1e-16));
  };
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let den = 0;
    for (let j = 0; j < n; j++) if (j !== i) den += Math.exp(sim(i, j) / t);
    const pos = sim(i, (i + batch) % n);
    loss += -Math.log(Math.exp(pos / t) / den);
  }
  return loss / n;
}

/** relative closeness check used throughout: |a − b| ≤ rtol·max(|a|, |b|) + atol */
export function close(a: number, b: number, rtol: number, atol = 0): boolean {
  return Math.abs(a - b) <= rtol * Math.max(Math.abs(a), Math.abs(b)) + atol;
}
