import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { Codes, VoxelpipeError } from "@voxelpipe/core";

/**
 * safetensors (https://github.com/huggingface/safetensors): u64 little-endian header length N,
 * N bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {str: str} }`,
 * then the raw little-endian tensor bytes (offsets relative to the end of the header).
 * Typed arrays are read in host byte order: every platform Node runs on is little-endian.
 */
export type StDType = "F32" | "F64" | "U8" | "I32" | "I64";
export type StData = Float32Array | Float64Array | Uint8Array | Int32Array | BigInt64Array;

export interface StTensor {
  dtype: StDType;
  shape: number[];
  data: StData;
}

export interface SafetensorsContent {
  tensors: Map<string, StTensor>;
  /** the `__metadata__` string map (empty when absent) */
  metadata: Record<string, string>;
}

const ITEM_SIZE: Record<StDType, number> = { F32: 4, F64: 8, U8: 1, I32: 4, I64: 8 };

export function isStDType(s: unknown): s is StDType {
  return typeof s === "string" && s in ITEM_SIZE;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function typedFromBytes(dtype: StDType, bytes: Uint8Array): StData {
  // `bytes` owns a fresh ArrayBuffer starting at 0, so every view is aligned
  const b = bytes.buffer as ArrayBuffer;
  switch (dtype) {
    case "F32":
      return new Float32Array(b, 0, bytes.byteLength / 4);
    case "F64":
      return new Float64Array(b, 0, bytes.byteLength / 8);
    case "U8":
      return bytes;
    case "I32":
      return new Int32Array(b, 0, bytes.byteLength / 4);
    case "I64":
      return new BigInt64Array(b, 0, bytes.byteLength / 8);
  }
}

function expectedCtor(dtype: StDType): string {
  return { F32: "Float32Array", F64: "Float64Array", U8: "Uint8Array", I32: "Int32Array", I64: "BigInt64Array" }[dtype];
}

function corrupt(file: string, message: string, extra: { expected?: string; got?: string; hint?: string } = {}): never {
  throw new VoxelpipeError({ code: Codes.fileInvalid, message: `${file}: ${message}`, ...extra });
}

const TRUNCATED_HINT =
  "the file is truncated or corrupt (an interrupted download or copy?); re-create or re-download it";

/** Parse a safetensors byte buffer. `file` names the source in every error. */
export function parseSafetensors(buf: Uint8Array, file = "<buffer>"): SafetensorsContent {
  if (buf.byteLength < 8) {
    corrupt(file, "not a safetensors file: shorter than the 8-byte header length", {
      got: `${buf.byteLength} bytes`,
      hint: TRUNCATED_HINT,
    });
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(buf.byteLength - 8)) {
    corrupt(file, "header length points past the end of the file", {
      expected: `at most ${buf.byteLength - 8} header bytes`,
      got: `${n64}`,
      hint: TRUNCATED_HINT,
    });
  }
  const n = Number(n64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    corrupt(file, `header is not valid UTF-8 JSON (${(e as Error).message})`, { hint: TRUNCATED_HINT });
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    corrupt(file, "header is not a JSON object");
  }
  const dataStart = 8 + n;
  const dataLen = buf.byteLength - dataStart;
  const tensors = new Map<string, StTensor>();
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      const ok =
        typeof entry === "object" &&
        entry !== null &&
        Object.values(entry as Record<string, unknown>).every((v) => typeof v === "string");
      if (!ok) corrupt(file, "__metadata__ must map strings to strings");
      metadata = { ...(entry as Record<string, string>) };
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isStDType(e?.dtype)) {
      corrupt(file, `tensor "${name}" has unsupported dtype ${JSON.stringify(e?.dtype)}`, {
        expected: Object.keys(ITEM_SIZE).join(", "),
        got: String(e?.dtype),
        hint: "convert the tensor to float32 before saving (e.g. {k: v.float() for k, v in sd.items()})",
      });
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      corrupt(file, `tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    const off = e.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((d) => Number.isInteger(d) && d >= 0) ||
      off[0] > off[1]
    ) {
      corrupt(file, `tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    const want = numel(shape as number[]) * ITEM_SIZE[e.dtype];
    if (end - begin !== want) {
      corrupt(file, `tensor "${name}" (${e.dtype} [${shape}]) has ${end - begin} data bytes`, {
        expected: `${want} bytes`,
        got: `${end - begin} bytes`,
      });
    }
    if (end > dataLen) {
      corrupt(file, `tensor "${name}" ends at byte ${end} of the data section, which has only ${dataLen} bytes`, {
        hint: TRUNCATED_HINT,
      });
    }
    spans.push([begin, end, name]);
    const bytes = new Uint8Array(end - begin);
    bytes.set(buf.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { dtype: e.dtype, shape: [...(shape as number[])], data: typedFromBytes(e.dtype, bytes) });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) {
      corrupt(file, `tensors "${spans[i - 1][2]}" and "${spans[i][2]}" overlap in the data section`);
    }
  }
  return { tensors, metadata };
}

/** Serialise tensors (in insertion order) and string metadata into safetensors bytes. */
export function serializeSafetensors(
  tensors: Map<string, StTensor> | Record<string, StTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new Error('"__metadata__" is reserved and cannot name a tensor');
    const bytes = numel(t.shape) * ITEM_SIZE[t.dtype];
    if (t.data.byteLength !== bytes) {
      throw new Error(
        `tensor "${name}": ${t.dtype} [${t.shape}] needs ${bytes} bytes, data has ${t.data.byteLength} (${expectedCtor(t.dtype)} expected)`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // pad the header with spaces so the data section starts 8-byte aligned (as the reference writer does)
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const pad = (8 - ((8 + hb.byteLength) % 8)) % 8;
  if (pad) {
    json += " ".repeat(pad);
    hb = enc.encode(json);
  }
  const out = new Uint8Array(8 + hb.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.byteLength), true);
  out.set(hb, 8);
  let p = 8 + hb.byteLength;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}

/** Read and parse a safetensors file; a missing file is a clear VP002 error. */
export async function readSafetensors(path: string): Promise<SafetensorsContent> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VoxelpipeError({
      code: code === "ENOENT" ? Codes.fileNotFound : Codes.fileInvalid,
      message: `cannot read checkpoint ${path}: ${(e as Error).message}`,
      hint:
        code === "ENOENT" ? "check the path (relative paths resolve against the pipeline file's directory)" : undefined,
    });
  }
  return parseSafetensors(buf, path);
}

/**
 * Write atomically: the bytes go to a temporary file in the same directory, then rename() replaces
 * the target, so a crash never leaves a half-written checkpoint under the real name.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

export async function writeSafetensors(
  path: string,
  tensors: Map<string, StTensor> | Record<string, StTensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
