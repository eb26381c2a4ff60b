import { resolve } from "node:path";
import { gzip, gzipSync } from "node:zlib";
import {
  Codes,
  type Volume,
  type VoxelArray,
  VoxelpipeError,
  writeFileAtomic,
  writeFileAtomicSync,
} from "@voxelpipe/core";
import { qformFromAffine } from "./nifti-affine.js";
import { type DtypeInfo, dtypeByName, dtypeOfArray, type NiftiDtype, SUPPORTED_DTYPES } from "./nifti-dtypes.js";
import type { NiftiHeaderMeta } from "./nifti-header.js";
import { channelLastToFortran, roundClampInto } from "./transpose.js";

export interface WriteNiftiOptions {
  /** voxel type on disk; default: the volume's own array type. Integer targets round and clamp. */
  dtype?: NiftiDtype;
  /** gzip level for .nii.gz (default 1, nibabel's default: fast, nearly as small as 6 for CT) */
  compressionLevel?: number;
}

const HEADER = 348;
const VOX_OFFSET = 352;
/** NIfTI-1 dims are int16 */
const MAX_DIM = 32767;
/** xyzt_units: NIFTI_UNITS_MM */
const UNITS_MM = 2;
/** sform_code NIFTI_XFORM_ALIGNED_ANAT: nibabel's code for a new image's sform */
const XFORM_ALIGNED = 2;

function badVolume(what: string, expected: string, got: string): VoxelpipeError {
  return new VoxelpipeError({
    code: Codes.data,
    message: `cannot write NIfTI: ${what}`,
    expected,
    got,
  });
}

function checkVolume(vol: Volume): void {
  const { shape, channels, data, affine } = vol;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((s) => Number.isInteger(s) && s >= 1)) {
    throw badVolume("volume shape must be 3 positive integers", "[S0, S1, S2] ≥ 1", JSON.stringify(shape));
  }
  if (!Number.isInteger(channels) || channels < 1) {
    throw badVolume("volume channels must be a positive integer", "≥ 1", String(channels));
  }
  const big = [...shape, channels].find((s) => s > MAX_DIM);
  if (big !== undefined) {
    throw badVolume(`dimension ${big} exceeds the NIfTI-1 limit`, `≤ ${MAX_DIM}`, String(big));
  }
  const n = shape[0] * shape[1] * shape[2] * channels;
  if (data.length !== n) {
    throw badVolume(
      `data length ${data.length} does not match shape ${shape.join("×")} × ${channels} channels`,
      String(n),
      String(data.length),
    );
  }
  if (affine.length !== 16 || !Array.from(affine).every(Number.isFinite)) {
    throw badVolume("affine must be 16 finite numbers (row-major 4×4)", "finite 4×4", Array.from(affine).join(","));
  }
}

/** Values converted to an integer type: round to nearest, clamp to the type's range, NaN → 0. */
function toIntegerType(src: VoxelArray, t: DtypeInfo): VoxelArray {
  const out = new t.ctor(src.length);
  roundClampInto(src, out, t.min, t.max);
  return out;
}

function writeString(view: DataView, at: number, length: number, s: string): void {
  // latin1 as Buffer.from(s, "latin1") encodes it (the low byte of each char), without Buffer: the
  // browser app writes label maps with this encoder
  for (let i = 0; i < Math.min(s.length, length - 1); i++) view.setUint8(at + i, s.charCodeAt(i) & 0xff);
}

/**
 * Encode a Volume as an uncompressed single-file NIfTI-1 (.nii bytes, little-endian, vox_offset 352).
 * The sform holds the affine exactly (as float32); the qform holds the same affine when its 3×3 part is
 * a rotation times zooms (qform_code 0 otherwise, e.g. sheared affines). Description, intent and xform
 * codes from `meta.nifti` (set by the reader) are kept.
 */
export function encodeNifti(vol: Volume, opts: WriteNiftiOptions = {}): Uint8Array {
  checkVolume(vol);
  if (opts.dtype !== undefined && !SUPPORTED_DTYPES.includes(opts.dtype)) {
    throw badVolume(`unknown dtype "${opts.dtype}"`, SUPPORTED_DTYPES.join(", "), String(opts.dtype));
  }
  const srcType = dtypeOfArray(vol.data);
  const t = opts.dtype ? dtypeByName(opts.dtype) : srcType;
  const { shape, channels, affine } = vol;
  const elements = vol.data.length;
  const buffer = new ArrayBuffer(VOX_OFFSET + elements * t.bytes);
  const view = new DataView(buffer);
  const le = true;
  const old = vol.meta?.nifti as Partial<NiftiHeaderMeta> | undefined;

  view.setInt32(0, HEADER, le);
  view.setUint8(38, 0x72); // "regular" = 'r', as nibabel writes
  view.setUint8(39, old?.dim_info ?? 0);
  const dim = [channels > 1 ? 4 : 3, shape[0], shape[1], shape[2], channels, 1, 1, 1];
  dim.forEach((d, i) => {
    view.setInt16(40 + 2 * i, d, le);
  });
  view.setFloat32(56, old?.intent_p1 ?? 0, le);
  view.setFloat32(60, old?.intent_p2 ?? 0, le);
  view.setFloat32(64, old?.intent_p3 ?? 0, le);
  view.setInt16(68, old?.intent_code ?? 0, le);
  view.setInt16(70, t.code, le);
  view.setInt16(72, t.bytes * 8, le);

  const q = qformFromAffine(affine);
  const pixdim = [q.qfac, q.zooms[0], q.zooms[1], q.zooms[2], 1, 1, 1, 1];
  pixdim.forEach((p, i) => {
    view.setFloat32(76 + 4 * i, p, le);
  });
  view.setFloat32(108, VOX_OFFSET, le);
  view.setFloat32(112, 1, le); // scl_slope 1, scl_inter 0: values are stored as they are
  view.setFloat32(116, 0, le);
  // spatial units default to mm (what every CT pipeline assumes); keep the temporal bits
  const units = old?.xyzt_units ?? 0;
  view.setUint8(123, (units & 0x07) === 0 ? (units & 0x38) | UNITS_MM : units);
  writeString(view, 148, 80, old?.descrip ?? "voxelpipe");

  const sformCode =
    old?.sform_code && old.sform_code > 0
      ? old.sform_code
      : old?.qform_code && old.qform_code > 0
        ? old.qform_code
        : XFORM_ALIGNED;
  const qformCode = q.isRotation ? (old?.qform_code && old.qform_code > 0 ? old.qform_code : sformCode) : 0;
  view.setInt16(252, qformCode, le);
  view.setInt16(254, sformCode, le);
  view.setFloat32(256, q.b, le);
  view.setFloat32(260, q.c, le);
  view.setFloat32(264, q.d, le);
  view.setFloat32(268, q.offset[0], le);
  view.setFloat32(272, q.offset[1], le);
  view.setFloat32(276, q.offset[2], le);
  for (let i = 0; i < 12; i++) view.setFloat32(280 + 4 * i, affine[i], le);
  writeString(view, 328, 16, old?.intent_name ?? "");
  writeString(view, 344, 4, "n+1");
  // bytes 348..351: extension flag 0 (no extensions)

  const src = srcType === t || !t.integer ? vol.data : toIntegerType(vol.data, t);
  const dst = new t.ctor(buffer, VOX_OFFSET, elements);
  channelLastToFortran(src, dst, shape, channels);
  return new Uint8Array(buffer);
}

function fileBytes(path: string, vol: Volume, opts: WriteNiftiOptions): { raw: Uint8Array; gz: boolean } {
  return { raw: encodeNifti(vol, opts), gz: path.toLowerCase().endsWith(".gz") };
}

/** a unique sibling name, so a crash never leaves a half-written file under the real name */

/** Write a Volume as NIfTI-1; gzip-compressed when the path ends with .gz. Parent folders are created. */
export async function writeNifti(path: string, vol: Volume, opts: WriteNiftiOptions = {}): Promise<void> {
  const target = resolve(path);
  const { raw, gz } = fileBytes(target, vol, opts);
  const bytes = gz
    ? await new Promise<Uint8Array>((ok, ko) =>
        gzip(raw, { level: opts.compressionLevel ?? 1 }, (e, out) => (e ? ko(e) : ok(out))),
      )
    : raw;
  await writeFileAtomic(target, bytes);
}

/** Synchronous twin of {@link writeNifti} (for SaveImage, transforms are synchronous). */
export function writeNiftiSync(path: string, vol: Volume, opts: WriteNiftiOptions = {}): void {
  const target = resolve(path);
  const { raw, gz } = fileBytes(target, vol, opts);
  const bytes = gz ? gzipSync(raw, { level: opts.compressionLevel ?? 1 }) : raw;
  writeFileAtomicSync(target, bytes);
}
