/**
 * Exact Euclidean distance transform in linear time (Felzenszwalb & Huttenlocher 2012, separable squared EDT)
 * with anisotropic voxel spacing, for 3-D grids (2-D/1-D grids are passed as 3-D with leading size-1 axes).
 *
 * Per axis the term is computed as ((q − p)·s)² and the terms are summed, the arithmetic of scipy's
 * `distance_transform_edt(…, sampling)` (feature transform, then Σ ((i − f_i)·s_i)²); only the order of the
 * three additions differs, so results agree with scipy to float64 rounding (≤ 1 ulp before the float32 cast).
 */

export type Shape3 = readonly [number, number, number];
export type Spacing3 = readonly [number, number, number];

/**
 * Squared distance (in spacing units) from every voxel to the nearest voxel with `features[v] != 0`;
 * +Infinity everywhere when there is no feature. C order, last axis fastest.
 */
export function squaredDistanceToFeatures(
  features: ArrayLike<number>,
  shape: Shape3,
  spacing: Spacing3 = [1, 1, 1],
): Float64Array {
  const [n0, n1, n2] = shape;
  const total = n0 * n1 * n2;
  if (features.length !== total) {
    throw new Error(`squaredDistanceToFeatures: ${features.length} values for shape [${shape.join(", ")}]`);
  }
  const out = new Float64Array(total);
  // pass 1, last axis (contiguous): binary input, so two sweeps give the nearest feature on each line
  const s2 = spacing[2];
  for (let line = 0; line < n0 * n1; line++) {
    const base = line * n2;
    let last = -1;
    for (let q = 0; q < n2; q++) {
      if (features[base + q]) last = q;
      if (last < 0) out[base + q] = Number.POSITIVE_INFINITY;
      else {
        const d = (q - last) * s2;
        out[base + q] = d * d;
      }
    }
    last = -1;
    for (let q = n2 - 1; q >= 0; q--) {
      if (features[base + q]) last = q;
      if (last >= 0) {
        const d = (last - q) * s2;
        if (d * d < out[base + q]) out[base + q] = d * d;
      }
    }
  }
  // passes 2 and 3: lower envelope of parabolas along axis 1, then axis 0. Both run on slabs copied so that each
  // line is contiguous: walking axis 0 in place (stride n1·n2) is cache-hostile and ~3× slower on big grids.
  transformAxis(out, n0, n1 * n2, n1, n2, n2, spacing[1]);
  transformAxis(out, n1, n2, n0, n1 * n2, n2, spacing[0]);
  return out;
}

/**
 * 1-D transforms of every line along one axis. The grid is seen as `outer` slabs (offset o·outerStride), each
 * holding `inner` contiguous lines of length n (element k of line w at k·lineStride + w).
 */
function transformAxis(
  data: Float64Array,
  outer: number,
  outerStride: number,
  n: number,
  lineStride: number,
  inner: number,
  s: number,
): void {
  if (n === 1) return;
  const slab = new Float64Array(n * inner);
  const f = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  for (let o = 0; o < outer; o++) {
    const base = o * outerStride;
    for (let k = 0; k < n; k++) {
      const row = base + k * lineStride;
      for (let w = 0; w < inner; w++) slab[w * n + k] = data[row + w];
    }
    for (let w = 0; w < inner; w++) transformLine(slab, w * n, n, s, f, v, z);
    for (let k = 0; k < n; k++) {
      const row = base + k * lineStride;
      for (let w = 0; w < inner; w++) data[row + w] = slab[w * n + k];
    }
  }
}

/** 1-D squared distance transform of `g[base .. base+n)` in place (parabolas at k·s with height g[k]). */
function transformLine(
  g: Float64Array,
  base: number,
  n: number,
  s: number,
  f: Float64Array,
  v: Int32Array,
  z: Float64Array,
): void {
  let first = -1;
  for (let k = 0; k < n; k++) {
    if (g[base + k] !== Number.POSITIVE_INFINITY) {
      first = k;
      break;
    }
  }
  if (first < 0) return; // no finite value on this line: stays +Infinity
  const ss = s * s;
  let k = 0;
  v[0] = first;
  z[0] = Number.NEGATIVE_INFINITY;
  z[1] = Number.POSITIVE_INFINITY;
  for (let q = first + 1; q < n; q++) {
    const gq = g[base + q];
    if (gq === Number.POSITIVE_INFINITY) continue;
    // intersection (in index units) of the parabolas rooted at q and at v[k]
    let p = v[k];
    let x = (gq - g[base + p] + ss * (q * q - p * p)) / (2 * ss * (q - p));
    while (x <= z[k]) {
      k--;
      p = v[k];
      x = (gq - g[base + p] + ss * (q * q - p * p)) / (2 * ss * (q - p));
    }
    k++;
    v[k] = q;
    z[k] = x;
    z[k + 1] = Number.POSITIVE_INFINITY;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const d = (q - v[k]) * s;
    f[q] = d * d + g[base + v[k]];
  }
  for (let q = 0; q < n; q++) g[base + q] = f[q];
}

/** Euclidean distance to the nearest feature voxel (sqrt of {@link squaredDistanceToFeatures}). */
export function distanceToFeatures(
  features: ArrayLike<number>,
  shape: Shape3,
  spacing: Spacing3 = [1, 1, 1],
): Float64Array {
  const d = squaredDistanceToFeatures(features, shape, spacing);
  for (let i = 0; i < d.length; i++) d[i] = Math.sqrt(d[i]);
  return d;
}
