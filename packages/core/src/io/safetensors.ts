import { readFileSync } from "node:fs";
import { Codes, VoxelpipeError } from "../errors.js";
import { writeFileAtomic } from "./atomic.js";

/**
 * safetensors: 8-byte little-endian header length, a JSON header
 * `name → { dtype, shape, data_offsets: [begin, end] }` (+ `__metadata__`: string → string),
 * then the raw little-endian data. Used for our checkpoints, MONAI weight import and fixtures.
 */
export type SafeDtype = "F32" | "F64" | "I32" | "I64" | "U8" | "I8" | "I16" | "U16" | "BOOL";
export type SafeArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array;

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: SafeArray;
}

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const ctor: Record<SafeDtype, { new (b: ArrayBuffer, o: number, n: number): SafeArray; BYTES_PER_ELEMENT: number }> = {
  F32: Float32Array,
  F64: Float64Array,
  I32: Int32Array,
  I64: BigInt64Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
  I8: Int8Array,
  I16: Int16Array,
  U16: Uint16Array,
};

function bad(source: string, message: string): never {
  throw new VoxelpipeError({
    code: Codes.fileInvalid,
    message: `${source}: ${message}`,
    hint: "the file is truncated or not a safetensors file",
  });
}

export function decodeSafetensors(bytes: Uint8Array, source = "<memory>"): SafetensorsFile {
  if (bytes.byteLength < 8) bad(source, `file is ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.byteLength - 8 || n > 100_000_000)
    bad(source, `header length ${n} exceeds the file size ${bytes.byteLength}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    bad(source, `header is not valid JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + n;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = (info ?? {}) as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = info as {
      dtype: SafeDtype;
      shape: number[];
      data_offsets: [number, number];
    };
    const C = ctor[dtype];
    if (!C) bad(source, `tensor "${name}" has unsupported dtype ${dtype}`);
    const [b, e] = data_offsets;
    const count = shape.reduce((a, d) => a * d, 1);
    if (e - b !== count * C.BYTES_PER_ELEMENT || dataStart + e > bytes.byteLength) {
      bad(
        source,
        `tensor "${name}" (${dtype} ${shape.join("×")}) needs bytes ${b}..${e}, beyond the ${bytes.byteLength - dataStart} data bytes`,
      );
    }
    // copy so the array is aligned and independent of the file buffer (Buffer#slice would share memory)
    const copy = new Uint8Array(bytes.subarray(dataStart + b, dataStart + e));
    tensors.set(name, { dtype, shape, data: new C(copy.buffer, 0, count) });
  }
  return { tensors, metadata };
}

export function readSafetensors(file: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new VoxelpipeError({
      code: Codes.fileNotFound,
      message: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
    });
  }
  return decodeSafetensors(bytes, file);
}

const dtypeOf = (a: SafeArray): SafeDtype =>
  a instanceof Float32Array
    ? "F32"
    : a instanceof Float64Array
      ? "F64"
      : a instanceof Int32Array
        ? "I32"
        : a instanceof BigInt64Array
          ? "I64"
          : a instanceof Int8Array
            ? "I8"
            : a instanceof Int16Array
              ? "I16"
              : a instanceof Uint16Array
                ? "U16"
                : "U8";

/** Encode tensors (in the given order) with string metadata. */
export function encodeSafetensors(
  tensors: Iterable<[string, { shape: number[]; data: SafeArray; dtype?: SafeDtype }]>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = {
      dtype: t.dtype ?? dtypeOf(t.data),
      shape: t.shape,
      data_offsets: [offset, offset + bytes.byteLength],
    };
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.byteLength % 8)) % 8; // keep data 8-byte aligned
  if (pad) json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(pad));
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let p = 8 + json.byteLength;
  for (const b of parts) {
    out.set(b, p);
    p += b.byteLength;
  }
  return out;
}

/** Write a safetensors file atomically. */
export async function writeSafetensors(
  file: string,
  tensors: Iterable<[string, { shape: number[]; data: SafeArray; dtype?: SafeDtype }]>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
