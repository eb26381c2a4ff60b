import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import { resolve } from "node:path";
import type { Volume, VoxelArray } from "@voxelpipe/core";
import { fsError, invalidFile } from "./nifti-errors.js";
import { gunzipAll, gunzipAllSync, gunzipPrefix, isGzip } from "./nifti-gzip.js";
import {
  HEADER_PREFIX_BYTES,
  NIFTI1_HEADER_SIZE,
  type ParsedNiftiHeader,
  parseNiftiHeader as parseHeaderOnly,
} from "./nifti-header.js";
import { checkDeclaredBytes, niftiWarning } from "./nifti-limits.js";
import { fortranToChannelLast, scaleInto } from "./transpose.js";

export interface ReadNiftiOptions {
  /** return float32 voxels whatever the file's type (MONAI LoadImage's default for images) */
  float32?: boolean;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** fs reads are capped at 2 GiB per call */
const READ_CHUNK = 1 << 30;

function truncatedData(h: ParsedNiftiHeader, have: number, source: string, compressed: boolean): never {
  const dims = h.meta.dim.slice(1, h.meta.dim[0] + 1).join("×");
  const needed = h.dataOffset + h.dataBytes;
  throw invalidFile(
    source,
    "voxel data",
    `truncated: dim ${dims} of ${h.dtype.name} needs ${h.dataBytes} bytes from vox_offset ${h.dataOffset} ` +
      `(${needed} in all), the ${compressed ? "decompressed " : ""}file has ${have}`,
    {
      expected: `≥ ${needed} bytes`,
      got: `${have} bytes`,
      hint: "the file is incomplete (interrupted download/copy?) or its header dims/datatype are wrong",
    },
  );
}

/**
 * The header of a file about to be read: its warnings reach the user, and the voxel data it
 * declares is checked against the memory limit before anything is allocated or inflated.
 */
function parseNiftiHeader(bytes: Uint8Array, source: string, uncompressedSize?: number): ParsedNiftiHeader {
  const h = parseHeaderOnly(bytes, source);
  for (const w of h.warnings) niftiWarning(w);
  // an uncompressed file too short for what it declares is truncated, whatever its size
  if (uncompressedSize !== undefined && uncompressedSize < h.dataOffset + h.dataBytes)
    truncatedData(h, uncompressedSize, source, false);
  const dims = h.meta.dim.slice(1, h.meta.dim[0] + 1).join("×");
  checkDeclaredBytes(source, h.dataBytes, `dim ${dims} of ${h.dtype.name}`);
  return h;
}

function isDirectory(source: string) {
  return invalidFile(source, "path", "is a directory, expected a .nii or .nii.gz file");
}

function byteSwap(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  const n = bytes.length;
  for (let p = 0; p < n; p += width) {
    for (let a = p, b = p + width - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/**
 * Voxel bytes (exactly `h.dataBytes`, starting at the data) → Volume. The bytes are viewed in place when
 * aligned and in host byte order, otherwise copied once (and swapped).
 */
function decodeVoxels(h: ParsedNiftiHeader, data: Uint8Array, source: string, opts: ReadNiftiOptions): Volume {
  const { dtype } = h;
  let raw: VoxelArray;
  const swap = h.meta.littleEndian !== HOST_LITTLE_ENDIAN;
  if (!swap && data.byteOffset % dtype.bytes === 0) {
    raw = new dtype.ctor(data.buffer, data.byteOffset, h.elements);
  } else {
    // an explicit copy: Buffer.slice() would be a view (and swapping would edit the caller's bytes)
    const copy = new Uint8Array(h.dataBytes);
    copy.set(data.subarray(0, h.dataBytes));
    if (swap) byteSwap(copy, dtype.bytes);
    raw = new dtype.ctor(copy.buffer, 0, h.elements);
  }
  // converting while transposing saves LoadImage a pass and a copy
  let out: VoxelArray = opts.float32 && !h.scale ? new Float32Array(h.elements) : new dtype.ctor(h.elements);
  fortranToChannelLast(raw, out, h.shape, h.channels);
  if (h.scale) {
    // nibabel applies scl_slope/scl_inter in float64; MONAI then casts to float32
    const { slope, inter } = h.scale;
    const scaled = new Float32Array(h.elements);
    scaleInto(out, scaled, slope, inter);
    out = scaled;
  }
  return {
    data: out,
    shape: [...h.shape],
    channels: h.channels,
    affine: h.affine.slice(),
    meta: {
      source,
      originalAffine: h.affine.slice(),
      originalShape: [...h.shape],
      originalDtype: dtype.name,
      pixdim: h.meta.pixdim.slice(),
      affineSource: h.affineSource,
      ...(h.warnings.length ? { warnings: h.warnings } : {}),
      nifti: h.meta,
    },
  };
}

/** Decode a whole uncompressed file held in memory. */
function decodeUncompressed(bytes: Uint8Array, source: string, opts: ReadNiftiOptions): Volume {
  const h = parseNiftiHeader(bytes, source, bytes.length);
  return decodeVoxels(h, bytes.subarray(h.dataOffset, h.dataOffset + h.dataBytes), source, opts);
}

/** The header of a gzip stream, parsed before anything large is inflated. */
function gzipHeader(compressed: Uint8Array, source: string): ParsedNiftiHeader {
  const head = gunzipPrefix(compressed, HEADER_PREFIX_BYTES, source);
  if (head.length < NIFTI1_HEADER_SIZE) {
    throw invalidFile(
      source,
      "gzip stream",
      `truncated: inflates to only ${head.length} bytes, a NIfTI-1 header alone needs ${NIFTI1_HEADER_SIZE}`,
      {
        expected: `≥ ${NIFTI1_HEADER_SIZE} bytes`,
        got: `${head.length} bytes`,
        hint: "re-create or re-download the file",
      },
    );
  }
  return parseNiftiHeader(head, source);
}

/**
 * Parse an in-memory `.nii` or `.nii.gz` (detected by the gzip magic, not the name). `source` names the
 * file in errors and becomes `meta.source`.
 */
export function parseNifti(bytes: Uint8Array, source: string, opts: ReadNiftiOptions = {}): Volume {
  if (!isGzip(bytes)) return decodeUncompressed(bytes, source, opts);
  const h = gzipHeader(bytes, source);
  const full = gunzipAllSync(bytes, h.dataOffset + h.dataBytes, source);
  if (full.length < h.dataOffset + h.dataBytes) truncatedData(h, full.length, source, true);
  return decodeVoxels(h, full.subarray(h.dataOffset, h.dataOffset + h.dataBytes), source, opts);
}

/**
 * Synchronous read of a `.nii` / `.nii.gz` (transforms are synchronous). Uncompressed files are read
 * header first, then straight into an aligned buffer of exactly the declared data size.
 */
export function readNiftiSync(path: string, opts: ReadNiftiOptions = {}): Volume {
  const source = resolve(path);
  let fd: number;
  try {
    fd = openSync(source, "r");
  } catch (e) {
    throw fsError(source, e);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw isDirectory(source);
    const size = stat.size;
    const head = new Uint8Array(Math.min(size, HEADER_PREFIX_BYTES));
    readFully(fd, head, 0);
    if (isGzip(head)) {
      const all = new Uint8Array(size);
      readFully(fd, all, 0);
      return parseNifti(all, source, opts);
    }
    const h = parseNiftiHeader(head, source, size);
    const data = new Uint8Array(h.dataBytes);
    readFully(fd, data, h.dataOffset);
    return decodeVoxels(h, data, source, opts);
  } finally {
    closeSync(fd);
  }
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, Math.min(READ_CHUNK, into.length - done), position + done);
    if (n === 0) break;
    done += n;
  }
}

/** Read a `.nii` / `.nii.gz` file (gzip inflate runs on the thread pool). */
export async function readNifti(path: string, opts: ReadNiftiOptions = {}): Promise<Volume> {
  const source = resolve(path);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(source, "r");
  } catch (e) {
    throw fsError(source, e);
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw isDirectory(source);
    const head = new Uint8Array(Math.min(stat.size, HEADER_PREFIX_BYTES));
    await readFullyAsync(handle, head, 0);
    if (isGzip(head)) {
      const all = new Uint8Array(stat.size);
      await readFullyAsync(handle, all, 0);
      const h = gzipHeader(all, source);
      const full = await gunzipAll(all, h.dataOffset + h.dataBytes, source);
      if (full.length < h.dataOffset + h.dataBytes) truncatedData(h, full.length, source, true);
      return decodeVoxels(h, full.subarray(h.dataOffset, h.dataOffset + h.dataBytes), source, opts);
    }
    const h = parseNiftiHeader(head, source, stat.size);
    const data = new Uint8Array(h.dataBytes);
    await readFullyAsync(handle, data, h.dataOffset);
    return decodeVoxels(h, data, source, opts);
  } finally {
    await handle.close();
  }
}

async function readFullyAsync(
  handle: Awaited<ReturnType<typeof open>>,
  into: Uint8Array,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await handle.read(into, done, Math.min(READ_CHUNK, into.length - done), position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
}
