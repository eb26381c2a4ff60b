/**
 * Minimal safetensors reader for the reference fixtures: 8-byte little-endian header length, a JSON
 * header { name: { dtype, shape, data_offsets } , __metadata__ }, then raw little-endian data.
 */
import { readFileSync } from "node:fs";

export interface StTensor {
  dtype: string;
  shape: number[];
  data: Float32Array | Float64Array | Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint16Array;
}

export interface SafeTensors {
  metadata: Record<string, string>;
  tensors: Map<string, StTensor>;
  get(name: string): StTensor;
}

const ctors = {
  F32: Float32Array,
  F64: Float64Array,
  U8: Uint8Array,
  I8: Int8Array,
  I16: Int16Array,
  U16: Uint16Array,
  I32: Int32Array,
  I64: BigInt64Array,
  BOOL: Uint8Array,
} as const;

export function readSafetensors(path: string): SafeTensors {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8")) as Record<string, unknown>;
  const base = 8 + n;
  const tensors = new Map<string, StTensor>();
  for (const [name, v] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets } = v as {
      dtype: keyof typeof ctors;
      shape: number[];
      data_offsets: [number, number];
    };
    const Ctor = ctors[dtype];
    if (!Ctor) throw new Error(`safetensors: unsupported dtype ${dtype} for ${name}`);
    const bytes = buf.subarray(base + data_offsets[0], base + data_offsets[1]);
    // copy into an aligned buffer (the Node Buffer slice may be unaligned for the element size)
    const ab = new ArrayBuffer(bytes.length);
    new Uint8Array(ab).set(bytes);
    tensors.set(name, { dtype, shape, data: new Ctor(ab) });
  }
  return {
    metadata: (header.__metadata__ ?? {}) as Record<string, string>,
    tensors,
    get(name) {
      const t = tensors.get(name);
      if (!t) throw new Error(`safetensors: no tensor "${name}" (have ${[...tensors.keys()].join(", ")})`);
      return t;
    },
  };
}
