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
  // passes 2 and 3: lower envelope of parabolas along axis 1 then axis 0
  const maxLen = Math.max(n0, n1);
  const g = new Float64Array(maxLen);
  const f = new Float64Array(maxLen);
  const v = new Int32Array(maxLen);
  const z = new Float64Array(maxLen + 1);
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i2 = 0; i2 < n2; i2++) {
      const base = i0 * n1 * n2 + i2;
      transformLine(out, base, n2, n1, spacing[1], g, f, v, z);
    }
  }
  for (let i1 = 0; i1 < n1; i1++) {
    for (let i2 = 0; i2 < n2; i2++) {
      transformLine(out, i1 * n2 + i2, n1 * n2, n0, spacing[0], g, f, v, z);
    }
  }
  return out;
}

/** 1-D squared distance transform of `data[base + k·stride]`, k < n, in place (parabolas at k·s, height g[k]). */
function transformLine(
  data: Float64Array,
  base: number,
  stride: number,
  n: number,
  s: number,
  g: Float64Array,
  f: Float64Array,
  v: Int32Array,
  z: Float64Array,
): void {
  if (n === 1) return;
  let first = -1;
  for (let k = 0; k < n; k++) {
    g[k] = data[base + k * stride];
    if (first < 0 && g[k] !== Number.POSITIVE_INFINITY) first = k;
  }
  if (first < 0) return; // no finite value on this line: stays +Infinity
  const ss = s * s;
  let k = 0;
  v[0] = first;
  z[0] = Number.NEGATIVE_INFINITY;
  z[1] = Number.POSITIVE_INFINITY;
  for (let q = first + 1; q < n; q++) {
    const gq = g[q];
    if (gq === Number.POSITIVE_INFINITY) continue;
    // intersection (in index units) of the parabolas rooted at q and at v[k]
    let p = v[k];
    let x = (gq - g[p] + ss * (q * q - p * p)) / (2 * ss * (q - p));
    while (x <= z[k]) {
      k--;
      p = v[k];
      x = (gq - g[p] + ss * (q * q - p * p)) / (2 * ss * (q - p));
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
    f[q] = d * d + g[v[k]];
  }
  for (let q = 0; q < n; q++) data[base + q * stride] = f[q];
}

/** Euclidean distance to the nearest feature voxel (sqrt of {@link squaredDistanceToFeatures}). */
export function distanceToFeatures(features: ArrayLike<number>, shape: Shape3, spacing: Spacing3 = [1, 1, 1]): Float64Array {
  const d = squaredDistanceToFeatures(features, shape, spacing);
  for (let i = 0; i < d.length; i++) d[i] = Math.sqrt(d[i]);
  return d;
}
