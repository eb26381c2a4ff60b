import { readFileSync } from "node:fs";

/** One tensor of a safetensors file, in the file's (PyTorch) layout. */
export interface StTensor {
  dtype: "F32" | "U8" | "I64";
  shape: number[];
  /** F32 → Float32Array, U8 → Uint8Array, I64 → Float64Array (exact up to 2^53) */
  data: Float32Array | Uint8Array | Float64Array;
}

export interface StFile {
  tensors: Record<string, StTensor>;
  metadata: Record<string, string>;
}

/**
 * Minimal safetensors reader for tests: 8-byte little-endian header length, a JSON header
 * (name → {dtype, shape, data_offsets}), then raw little-endian data. Supports F32, U8, I64.
 */
export function readSafetensors(path: string): StFile {
  const buf = readFileSync(path);
  const headerLen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString("utf8")) as Record<string, unknown>;
  const base = 8 + headerLen;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors: Record<string, StTensor> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets } = raw as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const bytes = buf.subarray(base + data_offsets[0], base + data_offsets[1]);
    // copy into an aligned buffer: the data section offset need not be a multiple of 4/8
    const ab = new ArrayBuffer(bytes.length);
    new Uint8Array(ab).set(bytes);
    const dv = new DataView(ab);
    let data: StTensor["data"];
    if (dtype === "F32") {
      data = new Float32Array(bytes.length / 4);
      for (let i = 0; i < data.length; i++) data[i] = dv.getFloat32(i * 4, true);
    } else if (dtype === "U8") {
      data = new Uint8Array(ab);
    } else if (dtype === "I64") {
      data = new Float64Array(bytes.length / 8);
      for (let i = 0; i < data.length; i++) data[i] = Number(dv.getBigInt64(i * 8, true));
    } else {
      throw new Error(`${path}: tensor ${name} has unsupported dtype ${dtype} (F32, U8, I64 only)`);
    }
    tensors[name] = { dtype: dtype as StTensor["dtype"], shape, data };
  }
  return { tensors, metadata };
}

/** Channel-first `[B, C, S...]` data → channel-last `[B, S..., C]` (C order), as a new Float32Array. */
export function toChannelLast(t: StTensor): { data: Float32Array; shape: number[] } {
  const [b, c, ...spatial] = t.shape;
  const n = spatial.reduce((a, x) => a * x, 1);
  const out = new Float32Array(b * c * n);
  for (let bi = 0; bi < b; bi++)
    for (let ci = 0; ci < c; ci++)
      for (let v = 0; v < n; v++) out[(bi * n + v) * c + ci] = t.data[(bi * c + ci) * n + v];
  return { data: out, shape: [b, ...spatial, c] };
}
