/**
 * Voxel → world affines from NIfTI header fields, exactly as nibabel builds them (MONAI's NibabelReader
 * returns nibabel's `img.affine`), and the inverse: qform parameters from an affine for writing.
 * All affines are row-major 4×4 Float64Arrays.
 */

/** float32 machine epsilon: nibabel's quaternion threshold is −3·eps(float32). */
const F32_EPS = 1.1920928955078125e-7;

/** Row-major 4×4 from the three srow vectors (srow_x, srow_y, srow_z, 4 values each). */
export function affineFromSrow(srow: ArrayLike<number>): Float64Array {
  const a = new Float64Array(16);
  for (let i = 0; i < 12; i++) a[i] = srow[i];
  a[15] = 1;
  return a;
}

/**
 * Rotation matrix (row-major 3×3) of the unit quaternion (w,x,y,z): nibabel.quaternions.quat2mat.
 * A quaternion of ~zero norm gives the identity, as in nibabel.
 */
export function quatToMat(w: number, x: number, y: number, z: number): number[] {
  const nq = w * w + x * x + y * y + z * z;
  if (nq < 2.220446049250313e-16 * 4) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const s = 2 / nq;
  const X = x * s;
  const Y = y * s;
  const Z = z * s;
  const wX = w * X;
  const wY = w * Y;
  const wZ = w * Z;
  const xX = x * X;
  const xY = x * Y;
  const xZ = x * Z;
  const yY = y * Y;
  const yZ = y * Z;
  const zZ = z * Z;
  return [1 - (yY + zZ), xY - wZ, xZ + wY, xY + wZ, 1 - (xX + zZ), yZ - wX, xZ - wY, yZ + wX, 1 - (xX + yY)];
}

/**
 * w of the quaternion from (b,c,d) (nibabel fillpositive): w² = 1 − (b²+c²+d²); slightly negative w²
 * (float32 rounding) becomes 0, clearly negative w² is an invalid header. Returns NaN when invalid.
 */
export function quaternionW(b: number, c: number, d: number): number {
  const w2 = 1 - (b * b + c * c + d * d);
  if (w2 < 0) return w2 < -3 * F32_EPS ? Number.NaN : 0;
  return Math.sqrt(w2);
}

/**
 * nibabel `Nifti1Header.get_qform`: R(quaternion) · diag(pixdim1, pixdim2, qfac·pixdim3) + qoffset.
 * `qfac` must already be ±1 (nibabel's header check resets any other pixdim[0] to 1).
 */
export function affineFromQform(
  b: number,
  c: number,
  d: number,
  qfac: number,
  pixdim: readonly [number, number, number],
  offset: readonly [number, number, number],
): Float64Array {
  const w = quaternionW(b, c, d);
  const R = quatToMat(w, b, c, d);
  const zooms = [Math.abs(pixdim[0]), Math.abs(pixdim[1]), Math.abs(pixdim[2]) * qfac];
  const a = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    for (let col = 0; col < 3; col++) a[r * 4 + col] = R[r * 3 + col] * zooms[col];
    a[r * 4 + 3] = offset[r];
  }
  a[15] = 1;
  return a;
}

/**
 * nibabel's fallback when neither sform nor qform is set (`get_base_affine` → `shape_zoom_affine` with
 * x_flip): diag(−p1, p2, p3) with the volume centre at the origin. Dims beyond dim[0] count as 1.
 */
export function baseAffine(dims: readonly number[], pixdim: readonly number[]): Float64Array {
  const ndim = dims[0];
  const shape = [1, 1, 1];
  const zooms = [1, 1, 1];
  for (let i = 0; i < Math.min(3, ndim); i++) {
    shape[i] = dims[i + 1];
    zooms[i] = pixdim[i + 1];
  }
  zooms[0] *= -1;
  const a = new Float64Array(16);
  for (let i = 0; i < 3; i++) {
    a[i * 4 + i] = zooms[i];
    a[i * 4 + 3] = -((shape[i] - 1) / 2) * zooms[i];
  }
  a[15] = 1;
  return a;
}

export interface QformParams {
  /** false when the affine's 3×3 part is not a rotation times zooms (shear): write qform_code 0 */
  isRotation: boolean;
  b: number;
  c: number;
  d: number;
  /** pixdim[0]: −1 when the affine is left-handed */
  qfac: 1 | -1;
  /** column norms of the 3×3 part */
  zooms: [number, number, number];
  offset: [number, number, number];
}

/**
 * qform parameters of an affine (nibabel `set_qform`): zooms = column norms, R = columns / zooms, qfac
 * flips the 3rd column when det(R) < 0, quaternion of R with w ≥ 0. Unlike nibabel (which silently
 * orthogonalises), a non-orthogonal R is reported via `isRotation: false`, so the writer sets
 * qform_code 0 and readers fall back to the exact sform.
 */
export function qformFromAffine(affine: ArrayLike<number>): QformParams {
  const zooms: [number, number, number] = [0, 0, 0];
  const R = new Array<number>(9);
  for (let col = 0; col < 3; col++) {
    const n = Math.hypot(affine[col], affine[4 + col], affine[8 + col]);
    zooms[col] = n;
    for (let r = 0; r < 3; r++) R[r * 3 + col] = n > 0 ? affine[r * 4 + col] / n : 0;
  }
  const offset: [number, number, number] = [affine[3], affine[7], affine[11]];
  const det =
    R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) + R[2] * (R[3] * R[7] - R[4] * R[6]);
  const qfac: 1 | -1 = det < 0 ? -1 : 1;
  if (qfac < 0) for (let r = 0; r < 3; r++) R[r * 3 + 2] *= -1;
  // orthonormal within float32 precision of the stored header fields
  let maxErr = 0;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let dot = 0;
      for (let r = 0; r < 3; r++) dot += R[r * 3 + i] * R[r * 3 + j];
      maxErr = Math.max(maxErr, Math.abs(dot - (i === j ? 1 : 0)));
    }
  }
  const isRotation = zooms.every((z) => z > 0) && maxErr < 1e-5;
  if (!isRotation) return { isRotation, b: 0, c: 0, d: 0, qfac, zooms, offset };
  const [, x, y, z] = matToQuat(R);
  return { isRotation, b: x, c: y, d: z, qfac, zooms, offset };
}

/** Unit quaternion (w ≥ 0) of a proper rotation matrix (row-major 3×3), Shepperd's stable branches. */
export function matToQuat(R: readonly number[]): [number, number, number, number] {
  const [r00, r01, r02, r10, r11, r12, r20, r21, r22] = R;
  const trace = r00 + r11 + r22;
  let w: number;
  let x: number;
  let y: number;
  let z: number;
  if (trace > 0) {
    const s = 0.5 / Math.sqrt(trace + 1);
    w = 0.25 / s;
    x = (r21 - r12) * s;
    y = (r02 - r20) * s;
    z = (r10 - r01) * s;
  } else if (r00 > r11 && r00 > r22) {
    const s = 2 * Math.sqrt(1 + r00 - r11 - r22);
    w = (r21 - r12) / s;
    x = 0.25 * s;
    y = (r01 + r10) / s;
    z = (r02 + r20) / s;
  } else if (r11 > r22) {
    const s = 2 * Math.sqrt(1 + r11 - r00 - r22);
    w = (r02 - r20) / s;
    x = (r01 + r10) / s;
    y = 0.25 * s;
    z = (r12 + r21) / s;
  } else {
    const s = 2 * Math.sqrt(1 + r22 - r00 - r11);
    w = (r10 - r01) / s;
    x = (r02 + r20) / s;
    y = (r12 + r21) / s;
    z = 0.25 * s;
  }
  // NIfTI stores only b,c,d and derives a = sqrt(1 − b² − c² − d²) ≥ 0: pick the w ≥ 0 representative
  if (w < 0) {
    w = -w;
    x = -x;
    y = -y;
    z = -z;
  }
  return [w, x, y, z];
}
