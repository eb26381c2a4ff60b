/**
 * Small dense 4×4 / 3×3 matrix helpers for voxel→world affines (row-major Float64Array, as in
 * core's Volume). Kept here rather than in core because only spatial transforms need them.
 */

export type Mat4 = Float64Array;

export function identity4(): Mat4 {
  const m = new Float64Array(16);
  m[0] = m[5] = m[10] = m[15] = 1;
  return m;
}

export function matmul4(a: ArrayLike<number>, b: ArrayLike<number>): Mat4 {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k] * b[k * 4 + c];
      out[r * 4 + c] = s;
    }
  }
  return out;
}

/** Inverse by Gauss–Jordan elimination with partial pivoting; throws on a singular matrix. */
export function invert4(m: ArrayLike<number>): Mat4 {
  const a = Array.from({ length: 4 }, (_, r) => [
    m[r * 4],
    m[r * 4 + 1],
    m[r * 4 + 2],
    m[r * 4 + 3],
    r === 0 ? 1 : 0,
    r === 1 ? 1 : 0,
    r === 2 ? 1 : 0,
    r === 3 ? 1 : 0,
  ]);
  for (let col = 0; col < 4; col++) {
    let piv = col;
    for (let r = col + 1; r < 4; r++) if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) piv = r;
    if (Math.abs(a[piv][col]) < 1e-300) throw new Error("affine is singular (not invertible)");
    [a[col], a[piv]] = [a[piv], a[col]];
    const p = a[col][col];
    for (let k = 0; k < 8; k++) a[col][k] /= p;
    for (let r = 0; r < 4; r++) {
      if (r === col) continue;
      const f = a[r][col];
      if (f === 0) continue;
      for (let k = 0; k < 8; k++) a[r][k] -= f * a[col][k];
    }
  }
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) out[r * 4 + c] = a[r][c + 4];
  return out;
}

/** Translation matrix: voxel index v ↦ v + t. */
export function translation4(t: ArrayLike<number>): Mat4 {
  const m = identity4();
  m[3] = t[0];
  m[7] = t[1];
  m[11] = t[2];
  return m;
}

/** Apply a 4×4 to the point (x, y, z, 1); returns the first three coordinates. */
export function applyPoint(m: ArrayLike<number>, p: ArrayLike<number>): [number, number, number] {
  return [0, 1, 2].map((r) => m[r * 4] * p[0] + m[r * 4 + 1] * p[1] + m[r * 4 + 2] * p[2] + m[r * 4 + 3]) as [
    number,
    number,
    number,
  ];
}

/** The upper-left 3×3 block, row-major. */
export function linear3(m: ArrayLike<number>): number[] {
  return [m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10]];
}

export function matmul3(a: number[], b: number[]): number[] {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[r * 3 + c] += a[r * 3 + k] * b[k * 3 + c];
  return out;
}

export function transpose3(a: number[]): number[] {
  return [a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8]];
}

export function det3(a: number[]): number {
  return a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6]);
}

export function invert3(a: number[]): number[] {
  const d = det3(a);
  if (d === 0) throw new Error("matrix is singular");
  return [
    (a[4] * a[8] - a[5] * a[7]) / d,
    (a[2] * a[7] - a[1] * a[8]) / d,
    (a[1] * a[5] - a[2] * a[4]) / d,
    (a[5] * a[6] - a[3] * a[8]) / d,
    (a[0] * a[8] - a[2] * a[6]) / d,
    (a[2] * a[3] - a[0] * a[5]) / d,
    (a[3] * a[7] - a[4] * a[6]) / d,
    (a[1] * a[6] - a[0] * a[7]) / d,
    (a[0] * a[4] - a[1] * a[3]) / d,
  ];
}

/** Upper Cholesky factor U (UᵀU = A) of a symmetric positive-definite 3×3, as numpy `cholesky(A).T`. */
export function choleskyUpper3(a: number[]): number[] {
  const l = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * 3 + j];
      for (let k = 0; k < j; k++) s -= l[i * 3 + k] * l[j * 3 + k];
      if (i === j) {
        if (s <= 0) throw new Error("matrix is not positive definite (degenerate affine)");
        l[i * 3 + i] = Math.sqrt(s);
      } else {
        l[i * 3 + j] = s / l[j * 3 + j];
      }
    }
  }
  return transpose3(l);
}

/**
 * Orthogonal polar factor of a nonsingular 3×3 (the R of nibabel's `P·Qs` from the SVD), by Newton's
 * iteration R ← (R + R⁻ᵀ)/2, which converges quadratically; used by io_orientation for oblique affines.
 */
export function polarOrthogonal3(a: number[]): number[] {
  let r = a.slice();
  for (let it = 0; it < 100; it++) {
    const inv = transpose3(invert3(r));
    const next = r.map((v, i) => 0.5 * (v + inv[i]));
    const diff = next.reduce((s, v, i) => Math.max(s, Math.abs(v - r[i])), 0);
    r = next;
    if (diff < 1e-15) break;
  }
  return r;
}
