/**
 * NIfTI stores voxels Fortran-order (i fastest, then j, k, then the 4th+ dims); voxelpipe's Volume is
 * channel-last C-order over [S0,S1,S2,C]: dst = ((i*S1 + j)*S2 + k)*C + c. Swapping the fastest and the
 * slowest spatial axis with a naive loop strides one side by S0*S1 (or S1*S2) elements per step and
 * thrashes the cache on a 512×512×200 CT, so both directions walk (i,k) tiles: inside a tile one side runs
 * along i (contiguous in the file) and the other along k (contiguous in the volume). Tiles are not square:
 * the strided side gets only 8 lines, because power-of-two grids (512×512) make those strides multiples of
 * 4 KiB, so all its lines fall in one L1 set (8 ways); 32×32 tiles were 2–3× slower there (measured:
 * 512×512×200 int16, 8×32 ≈ 85 ms vs 32×32 ≈ 310 ms vs naive ≈ 760 ms).
 * The loops run as per-type kernels (see kernels.ts); an element assignment converts between types
 * (callers pass already-rounded values when the destination is an integer type).
 */
import { specialised } from "./kernels.js";

type NumArray = { [index: number]: number; readonly length: number; readonly constructor: { readonly name: string } };
type Kernel = (src: NumArray, dst: NumArray, s0: number, s1: number, s2: number, C: number) => void;

/** (i,k) tile: 8 lines on the strided side, 32 elements along the contiguous side (see above) */
const FORTRAN_TO_C = `return function (src, dst, s0, s1, s2, C) {
  const n3 = s0 * s1 * s2, srcK = s0 * s1, dstI = s1 * s2 * C;
  for (let c = 0; c < C; c++) {
    const srcC = c * n3;
    for (let j = 0; j < s1; j++) {
      const srcJ = srcC + j * s0, dstJ = j * s2 * C + c;
      for (let k0 = 0; k0 < s2; k0 += 32) {
        const k1 = Math.min(k0 + 32, s2);
        for (let i0 = 0; i0 < s0; i0 += 8) {
          const i1 = Math.min(i0 + 8, s0);
          for (let k = k0; k < k1; k++) {
            const sBase = srcJ + k * srcK, dBase = dstJ + k * C;
            for (let i = i0; i < i1; i++) dst[dBase + i * dstI] = src[sBase + i];
          }
        }
      }
    }
  }
};`;

const C_TO_FORTRAN = `return function (src, dst, s0, s1, s2, C) {
  const n3 = s0 * s1 * s2, dstK = s0 * s1, srcI = s1 * s2 * C;
  for (let c = 0; c < C; c++) {
    const dstC = c * n3;
    for (let j = 0; j < s1; j++) {
      const dstJ = dstC + j * s0, srcJ = j * s2 * C + c;
      for (let i0 = 0; i0 < s0; i0 += 32) {
        const i1 = Math.min(i0 + 32, s0);
        for (let k0 = 0; k0 < s2; k0 += 8) {
          const k1 = Math.min(k0 + 8, s2);
          for (let i = i0; i < i1; i++) {
            const sBase = srcJ + i * srcI, dBase = dstJ + i;
            for (let k = k0; k < k1; k++) dst[dBase + k * dstK] = src[sBase + k * C];
          }
        }
      }
    }
  }
};`;

function checkSizes(src: NumArray, dst: NumArray, shape: readonly [number, number, number], channels: number): void {
  const n = shape[0] * shape[1] * shape[2] * channels;
  if (src.length < n || dst.length < n) {
    throw new Error(`transpose: arrays of ${src.length} and ${dst.length} elements, shape needs ${n}`);
  }
}

/** Fortran-order `src` (as stored in a NIfTI file) → channel-last C-order `dst` (may be another type). */
export function fortranToChannelLast(
  src: NumArray,
  dst: NumArray,
  shape: readonly [number, number, number],
  channels: number,
): void {
  checkSizes(src, dst, shape, channels);
  specialised<Kernel>("fortranToChannelLast", FORTRAN_TO_C, src, dst)(src, dst, shape[0], shape[1], shape[2], channels);
}

/** Inverse of {@link fortranToChannelLast}: channel-last C-order `src` → Fortran-order `dst` for writing. */
export function channelLastToFortran(
  src: NumArray,
  dst: NumArray,
  shape: readonly [number, number, number],
  channels: number,
): void {
  checkSizes(src, dst, shape, channels);
  specialised<Kernel>("channelLastToFortran", C_TO_FORTRAN, src, dst)(src, dst, shape[0], shape[1], shape[2], channels);
}

/** dst[i] = src[i] * slope + inter (NIfTI scl_slope / scl_inter, computed in float64) */
export function scaleInto(src: NumArray, dst: NumArray, slope: number, inter: number): void {
  specialised<(s: NumArray, d: NumArray, a: number, b: number) => void>(
    "scaleInto",
    "return function (src, dst, slope, inter) { for (let i = 0, n = dst.length; i < n; i++) dst[i] = src[i] * slope + inter; };",
    src,
    dst,
  )(src, dst, slope, inter);
}

/** dst[i] = src[i] rounded to nearest, clamped to [min, max], NaN → 0 (writing floats as integer types) */
export function roundClampInto(src: NumArray, dst: NumArray, min: number, max: number): void {
  specialised<(s: NumArray, d: NumArray, a: number, b: number) => void>(
    "roundClampInto",
    `return function (src, dst, min, max) {
      for (let i = 0, n = dst.length; i < n; i++) {
        const v = src[i];
        dst[i] = v !== v ? 0 : v >= max ? max : v <= min ? min : Math.round(v);
      }
    };`,
    src,
    dst,
  )(src, dst, min, max);
}
