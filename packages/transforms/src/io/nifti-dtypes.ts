import type { VoxelArray } from "@voxelpipe/core";

/** Voxel types voxelpipe reads and writes (NIfTI datatype codes of nifti1.h). */
export type NiftiDtype = "uint8" | "int8" | "int16" | "uint16" | "int32" | "uint32" | "float32" | "float64";

type VoxelArrayCtor = {
  new (length: number): VoxelArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): VoxelArray;
  readonly BYTES_PER_ELEMENT: number;
};

export interface DtypeInfo {
  readonly name: NiftiDtype;
  readonly code: number;
  readonly bytes: number;
  readonly ctor: VoxelArrayCtor;
  readonly integer: boolean;
  readonly min: number;
  readonly max: number;
}

const TABLE: readonly DtypeInfo[] = [
  { name: "uint8", code: 2, bytes: 1, ctor: Uint8Array, integer: true, min: 0, max: 255 },
  { name: "int16", code: 4, bytes: 2, ctor: Int16Array, integer: true, min: -32768, max: 32767 },
  { name: "int32", code: 8, bytes: 4, ctor: Int32Array, integer: true, min: -2147483648, max: 2147483647 },
  { name: "float32", code: 16, bytes: 4, ctor: Float32Array, integer: false, min: -Infinity, max: Infinity },
  { name: "float64", code: 64, bytes: 8, ctor: Float64Array, integer: false, min: -Infinity, max: Infinity },
  { name: "int8", code: 256, bytes: 1, ctor: Int8Array, integer: true, min: -128, max: 127 },
  { name: "uint16", code: 512, bytes: 2, ctor: Uint16Array, integer: true, min: 0, max: 65535 },
  { name: "uint32", code: 768, bytes: 4, ctor: Uint32Array, integer: true, min: 0, max: 4294967295 },
];

/** Codes nifti1.h defines that voxelpipe does not read, so the error can say what the file holds. */
const UNSUPPORTED: Readonly<Record<number, string>> = {
  0: "DT_UNKNOWN",
  1: "DT_BINARY (1 bit)",
  32: "DT_COMPLEX64",
  128: "DT_RGB24",
  1024: "DT_INT64",
  1280: "DT_UINT64",
  1536: "DT_FLOAT128",
  1792: "DT_COMPLEX128",
  2048: "DT_COMPLEX256",
  2304: "DT_RGBA32",
};

export const SUPPORTED_DTYPES: readonly NiftiDtype[] = TABLE.map((t) => t.name);

export function dtypeByCode(code: number): DtypeInfo | undefined {
  return TABLE.find((t) => t.code === code);
}

export function dtypeByName(name: NiftiDtype): DtypeInfo {
  const t = TABLE.find((x) => x.name === name);
  if (!t) throw new Error(`unknown dtype ${name}`);
  return t;
}

/** Name of a NIfTI datatype code that exists but is not supported, or undefined for a garbage code. */
export function unsupportedDtypeName(code: number): string | undefined {
  return UNSUPPORTED[code];
}

/** The dtype of a typed array (each VoxelArray constructor maps to exactly one NIfTI type). */
export function dtypeOfArray(a: VoxelArray): DtypeInfo {
  const t = TABLE.find((x) => a instanceof x.ctor);
  if (!t) throw new Error(`unsupported voxel array ${Object.prototype.toString.call(a)}`);
  return t;
}
