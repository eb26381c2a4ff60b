/**
 * NIfTI stores voxels Fortran-order (i fastest, then j, k, then the 4th+ dims); voxelpipe's Volume is
 * channel-last C-order over [S0,S1,S2,C]: dst = ((i*S1 + j)*S2 + k)*C + c. Swapping the fastest and the
 * slowest spatial axis with a naive loop strides one side by S0*S1 (or S1*S2) elements per step and
 * thrashes the cache on a 512×512×200 CT, so both directions walk (i,k) tiles: inside a tile one side runs
 * along i (contiguous in the file) and the other along k (contiguous in the volume). Tiles are not square:
 * the strided side gets only 8 lines, because power-of-two grids (512×512) make those strides multiples of
 * 4 KiB, so all its lines fall in one L1 set (8 ways); 32×32 tiles were 2–3× slower there (measured:
 * 512×512×200 int16, 8×32 ≈ 85 ms vs 32×32 ≈ 310 ms vs naive ≈ 760 ms).
 */

type NumArray = { [index: number]: number; readonly length: number };

/** Tile edges in voxels along the strided (few lines) and the contiguous side, see above. */
const NARROW = 8;
const WIDE = 32;

/** Fortran-order `src` (as stored in a NIfTI file) → channel-last C-order `dst` (may be another type). */
export function fortranToChannelLast(
  src: NumArray,
  dst: NumArray,
  shape: readonly [number, number, number],
  channels: number,
): void {
  const [s0, s1, s2] = shape;
  const n3 = s0 * s1 * s2;
  const srcK = s0 * s1;
  const dstI = s1 * s2 * channels;
  const C = channels;
  for (let c = 0; c < C; c++) {
    const srcC = c * n3;
    for (let j = 0; j < s1; j++) {
      const srcJ = srcC + j * s0;
      const dstJ = j * s2 * C + c;
      for (let k0 = 0; k0 < s2; k0 += WIDE) {
        const k1 = Math.min(k0 + WIDE, s2);
        for (let i0 = 0; i0 < s0; i0 += NARROW) {
          const i1 = Math.min(i0 + NARROW, s0);
          for (let k = k0; k < k1; k++) {
            const sBase = srcJ + k * srcK;
            const dBase = dstJ + k * C;
            for (let i = i0; i < i1; i++) {
              dst[dBase + i * dstI] = src[sBase + i];
            }
          }
        }
      }
    }
  }
}

/** Inverse of {@link fortranToChannelLast}: channel-last C-order `src` → Fortran-order `dst` for writing. */
export function channelLastToFortran(
  src: NumArray,
  dst: NumArray,
  shape: readonly [number, number, number],
  channels: number,
): void {
  const [s0, s1, s2] = shape;
  const n3 = s0 * s1 * s2;
  const dstK = s0 * s1;
  const srcI = s1 * s2 * channels;
  const C = channels;
  for (let c = 0; c < C; c++) {
    const dstC = c * n3;
    for (let j = 0; j < s1; j++) {
      const dstJ = dstC + j * s0;
      const srcJ = j * s2 * C + c;
      for (let i0 = 0; i0 < s0; i0 += WIDE) {
        const i1 = Math.min(i0 + WIDE, s0);
        for (let k0 = 0; k0 < s2; k0 += NARROW) {
          const k1 = Math.min(k0 + NARROW, s2);
          for (let i = i0; i < i1; i++) {
            const sBase = srcJ + i * srcI;
            const dBase = dstJ + i;
            for (let k = k0; k < k1; k++) {
              dst[dBase + k * dstK] = src[sBase + k * C];
            }
          }
        }
      }
    }
  }
}
