/**
 * Test-only helpers: build volumes, craft NIfTI bytes by hand (big-endian NIfTI-1, NIfTI-2) with naive
 * loops that share no code with the reader/writer under test, and assert VoxelpipeErrors.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isVoxelpipeError, type Volume, type VoxelArray } from "@voxelpipe/core";
import { expect } from "vitest";

export function tmpDir(prefix = "vp-io-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function diag(sx: number, sy: number, sz: number, t: [number, number, number] = [0, 0, 0]): Float64Array {
  return Float64Array.from([sx, 0, 0, t[0], 0, sy, 0, t[1], 0, 0, sz, t[2], 0, 0, 0, 1]);
}

/** A volume whose C-order element ((i*S1+j)*S2+k)*C+c holds f(i,j,k,c). */
export function makeVolume(
  shape: [number, number, number],
  channels: number,
  ctor: new (n: number) => VoxelArray,
  f: (i: number, j: number, k: number, c: number) => number,
  affine: Float64Array = diag(1, 1, 1),
): Volume {
  const [s0, s1, s2] = shape;
  const data = new ctor(s0 * s1 * s2 * channels);
  let p = 0;
  for (let i = 0; i < s0; i++)
    for (let j = 0; j < s1; j++)
      for (let k = 0; k < s2; k++) for (let c = 0; c < channels; c++) data[p++] = f(i, j, k, c);
  return { data, shape, channels, affine, meta: {} };
}

/** Element (i,j,k,c) of a NIfTI's voxel data read straight from the bytes: Fortran order, given endianness. */
export function rawVoxel(
  bytes: Uint8Array,
  voxOffset: number,
  dims: number[],
  dtype: "uint8" | "int16" | "int32" | "float32",
  ijkc: [number, number, number, number],
  littleEndian = true,
): number {
  const [i, j, k, c] = ijkc;
  const idx = i + dims[0] * (j + dims[1] * (k + dims[2] * c));
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case "uint8":
      return dv.getUint8(voxOffset + idx);
    case "int16":
      return dv.getInt16(voxOffset + 2 * idx, littleEndian);
    case "int32":
      return dv.getInt32(voxOffset + 4 * idx, littleEndian);
    case "float32":
      return dv.getFloat32(voxOffset + 4 * idx, littleEndian);
  }
}

/** NIfTI-1 header fields wider than a byte: [offset, width, count] (nifti1.h layout). */
const NIFTI1_NUMERIC: [number, number, number][] = [
  [0, 4, 1], // sizeof_hdr
  [32, 4, 1], // extents
  [36, 2, 1], // session_error
  [40, 2, 8], // dim
  [56, 4, 3], // intent_p1..3
  [68, 2, 4], // intent_code, datatype, bitpix, slice_start
  [76, 4, 8], // pixdim
  [108, 4, 3], // vox_offset, scl_slope, scl_inter
  [120, 2, 1], // slice_end
  [124, 4, 4], // cal_max, cal_min, slice_duration, toffset
  [140, 4, 2], // glmax, glmin
  [252, 2, 2], // qform_code, sform_code
  [256, 4, 18], // quatern_b..d, qoffset_x..z, srow_x/y/z
];

function swapRange(b: Uint8Array, at: number, width: number, count: number): void {
  for (let n = 0; n < count; n++) b.subarray(at + n * width, at + (n + 1) * width).reverse();
}

/** Byte-swap a little-endian single-file NIfTI-1 (header fields and voxels) into its big-endian twin. */
export function toBigEndian(le: Uint8Array): Uint8Array {
  const b = le.slice();
  const dv = new DataView(le.buffer, le.byteOffset, le.byteLength);
  const bitpix = dv.getInt16(72, true);
  const voxOffset = dv.getFloat32(108, true);
  for (const [at, width, count] of NIFTI1_NUMERIC) swapRange(b, at, width, count);
  const width = bitpix / 8;
  swapRange(b, voxOffset, width, (b.length - voxOffset) / width);
  return b;
}

const NIFTI2_DT: Record<string, [number, number]> = {
  uint8: [2, 1],
  int16: [4, 2],
  int32: [8, 4],
  float32: [16, 4],
  float64: [64, 8],
};

/** A NIfTI-2 file written field by field (sform from the affine, code 1), voxels Fortran order. */
export function craftNifti2(vol: Volume, dtype: keyof typeof NIFTI2_DT, littleEndian: boolean): Uint8Array {
  const [code, width] = NIFTI2_DT[dtype];
  const [s0, s1, s2] = vol.shape;
  const C = vol.channels;
  const n = s0 * s1 * s2 * C;
  const buf = new Uint8Array(544 + n * width);
  const dv = new DataView(buf.buffer);
  const le = littleEndian;
  dv.setInt32(0, 540, le);
  buf.set([0x6e, 0x2b, 0x32, 0, 0x0d, 0x0a, 0x1a, 0x0a], 4);
  dv.setInt16(12, code, le);
  dv.setInt16(14, width * 8, le);
  const dim = [C > 1 ? 4 : 3, s0, s1, s2, C, 1, 1, 1];
  dim.forEach((d, i) => {
    dv.setBigInt64(16 + 8 * i, BigInt(d), le);
  });
  [1, 1, 1, 1, 1, 1, 1, 1].forEach((p, i) => {
    dv.setFloat64(104 + 8 * i, p, le);
  });
  dv.setBigInt64(168, 544n, le);
  dv.setFloat64(176, 1, le);
  dv.setInt32(348, 1, le); // sform_code
  for (let r = 0; r < 12; r++) dv.setFloat64(400 + 8 * r, vol.affine[r], le);
  for (let c = 0; c < C; c++)
    for (let k = 0; k < s2; k++)
      for (let j = 0; j < s1; j++)
        for (let i = 0; i < s0; i++) {
          const v = vol.data[((i * s1 + j) * s2 + k) * C + c];
          const at = 544 + width * (i + s0 * (j + s1 * (k + s2 * c)));
          if (dtype === "uint8") dv.setUint8(at, v);
          else if (dtype === "int16") dv.setInt16(at, v, le);
          else if (dtype === "int32") dv.setInt32(at, v, le);
          else if (dtype === "float32") dv.setFloat32(at, v, le);
          else dv.setFloat64(at, v, le);
        }
  return buf;
}

/** Run `fn`, expect a VoxelpipeError with `code` whose message contains every fragment; return it. */
export function expectVpError(fn: () => unknown, code: string, ...fragments: string[]) {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  return checkVpError(caught, code, fragments);
}

export async function expectVpErrorAsync(fn: () => Promise<unknown>, code: string, ...fragments: string[]) {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  return checkVpError(caught, code, fragments);
}

function checkVpError(caught: unknown, code: string, fragments: string[]) {
  if (caught === undefined)
    throw new Error(`expected a VoxelpipeError ${code} (${fragments.join(", ")}), nothing thrown`);
  if (!isVoxelpipeError(caught)) throw new Error(`expected a VoxelpipeError, got ${String(caught)}`);
  expect(caught.code).toBe(code);
  for (const f of fragments) expect(caught.message).toContain(f);
  return caught;
}
