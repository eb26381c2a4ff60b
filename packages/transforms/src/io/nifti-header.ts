// Over 300 lines by design: the NIfTI-1/-2 header layouts and their parser, field by field in file order; the
// offsets table and the checks that read it belong together.
import { NIFTI1, NIFTI2 } from "nifti-reader-js";
import { affineFromQform, affineFromSrow, baseAffine, quaternionW } from "./nifti-affine.js";
import { type DtypeInfo, dtypeByCode, SUPPORTED_DTYPES, unsupportedDtypeName } from "./nifti-dtypes.js";
import { invalidFile } from "./nifti-errors.js";

/** Header fields kept in `volume.meta.nifti`, so a written file keeps the description, intent and codes. */
export interface NiftiHeaderMeta {
  version: 1 | 2;
  littleEndian: boolean;
  datatype: number;
  bitpix: number;
  /** dim[0..7] as stored */
  dim: number[];
  /** pixdim[0..7] as stored (pixdim[0] is qfac) */
  pixdim: number[];
  vox_offset: number;
  scl_slope: number;
  scl_inter: number;
  qform_code: number;
  sform_code: number;
  quatern_b: number;
  quatern_c: number;
  quatern_d: number;
  qoffset_x: number;
  qoffset_y: number;
  qoffset_z: number;
  /** srow_x, srow_y, srow_z concatenated (12 values) */
  srow: number[];
  descrip: string;
  aux_file: string;
  intent_code: number;
  intent_name: string;
  intent_p1: number;
  intent_p2: number;
  intent_p3: number;
  xyzt_units: number;
  cal_min: number;
  cal_max: number;
  dim_info: number;
}

/** A header that passed every check: what the decoder needs to read the voxels. */
export interface ParsedNiftiHeader {
  meta: NiftiHeaderMeta;
  dtype: DtypeInfo;
  shape: [number, number, number];
  channels: number;
  /** shape product × channels */
  elements: number;
  /** byte offset of the voxel data (vox_offset, defaulted as nibabel does) */
  dataOffset: number;
  dataBytes: number;
  affine: Float64Array;
  /** which header transform the affine came from */
  affineSource: "sform" | "qform" | "pixdim";
  /** scaling to apply (slope, inter), or null when none (slope 0/NaN/Inf, or exactly 1 and 0) */
  scale: { slope: number; inter: number } | null;
  /** what was fixed as nibabel fixes it (e.g. "sform_code 127 not valid; treated as 0") */
  warnings: string[];
}

/** valid qform/sform codes: nibabel's `xform_codes` (0 unknown, 1 scanner, 2 aligned, 3 talairach, 4 mni, 5 template) */
export const VALID_XFORM_CODES: readonly number[] = [0, 1, 2, 3, 4, 5];

export const NIFTI1_HEADER_SIZE = 348;
export const NIFTI2_HEADER_SIZE = 540;
/** Above this many elements a volume is treated as a corrupt header, not a real image (≈ 8 GiB as float32). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** bytes of the header (+4 extension-flag bytes) that must be decompressed to parse a header */
export const HEADER_PREFIX_BYTES = NIFTI2_HEADER_SIZE + 4;

function cString(bytes: Uint8Array, start: number, end: number): string {
  let stop = start;
  while (stop < end && bytes[stop] !== 0) stop++;
  // latin1 by hand (one char per byte), not Buffer: the browser app parses headers too
  return String.fromCharCode(...bytes.subarray(start, stop));
}

function fixed(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(6);
}

/**
 * Parse and validate a NIfTI-1/-2 header from the start of an (uncompressed) file. Never allocates more
 * than the header: sizes are checked here, the voxel data is only read by the decoder afterwards
 * (which compares vox_offset + data size with the file size before allocating).
 */
export function parseNiftiHeader(bytes: Uint8Array, source: string): ParsedNiftiHeader {
  // Long by design: the NIfTI-1/-2 header is parsed field by field in file order, each check beside the field
  // it guards; split into helpers, the byte offsets and their checks would be read apart.
  if (bytes.length < NIFTI1_HEADER_SIZE) {
    throw invalidFile(
      source,
      "header",
      `truncated: the file has ${bytes.length} bytes, a NIfTI-1 header alone needs ${NIFTI1_HEADER_SIZE}`,
      { expected: `≥ ${NIFTI1_HEADER_SIZE} bytes`, got: `${bytes.length} bytes`, hint: "re-export or re-download it" },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sizeLE = view.getInt32(0, true);
  const sizeBE = view.getInt32(0, false);
  let version: 1 | 2;
  let littleEndian: boolean;
  if (sizeLE === NIFTI1_HEADER_SIZE || sizeBE === NIFTI1_HEADER_SIZE) {
    version = 1;
    littleEndian = sizeLE === NIFTI1_HEADER_SIZE;
  } else if (sizeLE === NIFTI2_HEADER_SIZE || sizeBE === NIFTI2_HEADER_SIZE) {
    version = 2;
    littleEndian = sizeLE === NIFTI2_HEADER_SIZE;
  } else {
    throw invalidFile(source, "sizeof_hdr", `is ${sizeLE} (bytes 0–3): not a NIfTI file`, {
      expected: "348 (NIfTI-1) or 540 (NIfTI-2), either byte order",
      got: String(sizeLE),
      hint: "voxelpipe reads single-file NIfTI (.nii / .nii.gz); convert DICOM/NRRD/MHA with e.g. dcm2niix or SimpleITK",
    });
  }
  const headerSize = version === 1 ? NIFTI1_HEADER_SIZE : NIFTI2_HEADER_SIZE;
  if (bytes.length < headerSize) {
    throw invalidFile(
      source,
      "header",
      `truncated: the file has ${bytes.length} bytes, a NIfTI-2 header alone needs ${headerSize}`,
      { expected: `≥ ${headerSize} bytes`, got: `${bytes.length} bytes` },
    );
  }
  checkMagic(bytes, version, source);

  // only the fixed header goes to nifti-reader-js, so it never walks (possibly corrupt) extensions
  // (an explicit copy: for a Node Buffer, .slice() is a view and .buffer its whole memory pool)
  const headerCopy = new Uint8Array(headerSize);
  headerCopy.set(bytes.subarray(0, headerSize));
  const h = version === 1 ? new NIFTI1() : new NIFTI2();
  try {
    h.readHeader(headerCopy.buffer);
  } catch (e) {
    throw invalidFile(source, "header", `cannot be parsed: ${(e as Error).message}`);
  }
  // nifti-reader-js reads NIfTI-2 int64 fields wrongly for big-endian files and only reads srow when it
  // uses the sform itself; read those directly.
  const dim: number[] = [];
  const pixdim: number[] = [];
  const srow: number[] = [];
  let voxOffsetRaw: number;
  if (version === 1) {
    for (let i = 0; i < 8; i++) dim.push(view.getInt16(40 + 2 * i, littleEndian));
    for (let i = 0; i < 8; i++) pixdim.push(view.getFloat32(76 + 4 * i, littleEndian));
    for (let i = 0; i < 12; i++) srow.push(view.getFloat32(280 + 4 * i, littleEndian));
    voxOffsetRaw = view.getFloat32(108, littleEndian);
  } else {
    for (let i = 0; i < 8; i++) dim.push(Number(view.getBigInt64(16 + 8 * i, littleEndian)));
    for (let i = 0; i < 8; i++) pixdim.push(view.getFloat64(104 + 8 * i, littleEndian));
    for (let i = 0; i < 12; i++) srow.push(view.getFloat64(400 + 8 * i, littleEndian));
    voxOffsetRaw = Number(view.getBigInt64(168, littleEndian));
  }
  const meta: NiftiHeaderMeta = {
    version,
    littleEndian,
    datatype: h.datatypeCode,
    bitpix: h.numBitsPerVoxel,
    dim,
    pixdim,
    vox_offset: voxOffsetRaw,
    scl_slope: h.scl_slope,
    scl_inter: h.scl_inter,
    qform_code: h.qform_code,
    sform_code: h.sform_code,
    quatern_b: h.quatern_b,
    quatern_c: h.quatern_c,
    quatern_d: h.quatern_d,
    qoffset_x: h.qoffset_x,
    qoffset_y: h.qoffset_y,
    qoffset_z: h.qoffset_z,
    srow,
    descrip: version === 1 ? cString(bytes, 148, 228) : cString(bytes, 240, 320),
    aux_file: version === 1 ? cString(bytes, 228, 252) : cString(bytes, 320, 344),
    intent_code: h.intent_code,
    intent_name: version === 1 ? cString(bytes, 328, 344) : cString(bytes, 508, 524),
    intent_p1: h.intent_p1,
    intent_p2: h.intent_p2,
    intent_p3: h.intent_p3,
    xyzt_units: h.xyzt_units,
    cal_min: h.cal_min,
    cal_max: h.cal_max,
    dim_info: h.dim_info,
  };

  // ---- transform codes: nibabel's header check sets an unknown qform/sform code to 0 (with a
  // warning), so its transform is ignored; trusting it would give another (e.g. flipped) affine
  const warnings: string[] = [];
  for (const key of ["qform_code", "sform_code"] as const) {
    if (!VALID_XFORM_CODES.includes(meta[key])) {
      warnings.push(`${source}: ${key} ${meta[key]} not valid; treated as 0 (as nibabel and MONAI do)`);
      meta[key] = 0;
    }
  }

  // ---- dimensions
  const ndim = dim[0];
  if (!(ndim >= 1 && ndim <= 7)) {
    throw invalidFile(source, "dim[0]", `is ${ndim}, the number of dimensions must be 1..7`, {
      expected: "1..7",
      got: String(ndim),
      hint: "the header is corrupt (or was written with the wrong byte order)",
    });
  }
  for (let i = 1; i <= ndim; i++) {
    if (!(dim[i] >= 1)) {
      throw invalidFile(source, `dim[${i}]`, `is ${dim[i]}, every used dimension must be ≥ 1`, {
        expected: "≥ 1",
        got: String(dim[i]),
        hint: `dim[0] = ${ndim} says dims 1..${ndim} are used; the header is corrupt`,
      });
    }
  }
  const shape: [number, number, number] = [1, 1, 1];
  for (let i = 0; i < Math.min(3, ndim); i++) shape[i] = dim[i + 1];
  let channels = 1;
  for (let i = 4; i <= ndim; i++) channels *= dim[i];
  const elements = shape[0] * shape[1] * shape[2] * channels;
  const dimsText = dim.slice(1, ndim + 1).join("×");
  if (!(elements <= MAX_ELEMENTS)) {
    throw invalidFile(
      source,
      "dim",
      `${dimsText} = ${elements.toExponential(3)} voxels, more than the 2^31 − 1 voxelpipe reads`,
      {
        expected: `≤ ${MAX_ELEMENTS} voxels (2^31 − 1)`,
        got: `${elements} voxels`,
        hint: "the header is probably corrupt; a real volume this large must be cropped or split first",
      },
    );
  }

  // ---- datatype
  const dtype = dtypeByCode(meta.datatype);
  if (!dtype) {
    const known = unsupportedDtypeName(meta.datatype);
    throw invalidFile(
      source,
      "datatype",
      known
        ? `is ${meta.datatype} (${known}), which voxelpipe does not read`
        : `is ${meta.datatype}, not a NIfTI datatype code`,
      {
        expected: SUPPORTED_DTYPES.join(", "),
        got: known ?? String(meta.datatype),
        hint: known
          ? "convert the image to one of the supported types (e.g. nibabel: img.set_data_dtype(np.float32))"
          : "the header is corrupt",
      },
    );
  }

  // ---- pixdim
  for (let i = 1; i <= 3; i++) {
    if (!Number.isFinite(pixdim[i])) {
      throw invalidFile(source, `pixdim[${i}]`, `is ${pixdim[i]}, voxel sizes must be finite`, {
        expected: "a finite number (mm)",
        got: String(pixdim[i]),
      });
    }
  }

  // ---- vox_offset (nibabel: int(vox_offset); 0 in a single file means "right after the header")
  const minOffset = headerSize + 4;
  if (!Number.isFinite(voxOffsetRaw) || voxOffsetRaw < 0) {
    throw invalidFile(source, "vox_offset", `is ${voxOffsetRaw}, must be a byte offset ≥ ${minOffset}`, {
      expected: `≥ ${minOffset}`,
      got: String(voxOffsetRaw),
    });
  }
  let dataOffset = Math.floor(voxOffsetRaw);
  if (dataOffset === 0) dataOffset = minOffset;
  if (dataOffset < minOffset) {
    throw invalidFile(
      source,
      "vox_offset",
      `is ${dataOffset}, inside the ${headerSize}-byte header: voxel data of a single-file NIfTI starts at ≥ ${minOffset}`,
      { expected: `≥ ${minOffset}`, got: String(dataOffset), hint: "the header is corrupt" },
    );
  }
  const dataBytes = elements * dtype.bytes;

  // ---- scaling (nibabel get_slope_inter)
  let scale: ParsedNiftiHeader["scale"] = null;
  const slope = meta.scl_slope;
  const inter = meta.scl_inter;
  if (slope !== 0 && Number.isFinite(slope)) {
    if (!Number.isFinite(inter)) {
      throw invalidFile(
        source,
        "scl_inter",
        `is ${inter} while scl_slope is ${slope}: a valid slope needs a finite intercept`,
        {
          expected: "a finite number",
          got: String(inter),
        },
      );
    }
    if (!(slope === 1 && inter === 0)) scale = { slope, inter };
  }

  // nibabel's header check (run on every load) sets zero voxel sizes to 1 and negative ones to their abs
  const zooms = pixdim.map((p, i) => (i >= 1 && i <= 3 ? (p === 0 ? 1 : Math.abs(p)) : p));

  // ---- affine (nibabel get_best_affine: sform if sform_code != 0, else qform if qform_code != 0, else pixdim)
  let affine: Float64Array;
  let affineSource: ParsedNiftiHeader["affineSource"];
  if (meta.sform_code !== 0) {
    const rows = ["srow_x", "srow_y", "srow_z"];
    for (let i = 0; i < 12; i++) {
      if (!Number.isFinite(srow[i])) {
        throw invalidFile(
          source,
          `${rows[Math.floor(i / 4)]}[${i % 4}]`,
          `is ${srow[i]}, the sform affine must be finite`,
          {
            expected: "a finite number",
            got: String(srow[i]),
            hint: `sform_code is ${meta.sform_code}, so the sform is the affine used; the header is corrupt`,
          },
        );
      }
    }
    affine = affineFromSrow(srow);
    affineSource = "sform";
  } else if (meta.qform_code !== 0) {
    const q: [string, number][] = [
      ["quatern_b", meta.quatern_b],
      ["quatern_c", meta.quatern_c],
      ["quatern_d", meta.quatern_d],
      ["qoffset_x", meta.qoffset_x],
      ["qoffset_y", meta.qoffset_y],
      ["qoffset_z", meta.qoffset_z],
    ];
    for (const [name, v] of q) {
      if (!Number.isFinite(v)) {
        throw invalidFile(source, name, `is ${v}, the qform must be finite`, {
          expected: "a finite number",
          got: String(v),
          hint: `qform_code is ${meta.qform_code} and sform_code 0, so the qform is the affine used`,
        });
      }
    }
    const w = quaternionW(meta.quatern_b, meta.quatern_c, meta.quatern_d);
    if (Number.isNaN(w)) {
      const n2 = meta.quatern_b ** 2 + meta.quatern_c ** 2 + meta.quatern_d ** 2;
      throw invalidFile(source, "quatern_b/c/d", `b²+c²+d² = ${fixed(n2)} > 1: not a unit quaternion`, {
        expected: "b² + c² + d² ≤ 1",
        got: fixed(n2),
      });
    }
    // nibabel's header check resets a pixdim[0] other than ±1 to 1
    const qfac = pixdim[0] === -1 ? -1 : 1;
    affine = affineFromQform(
      meta.quatern_b,
      meta.quatern_c,
      meta.quatern_d,
      qfac,
      [zooms[1], zooms[2], zooms[3]],
      [meta.qoffset_x, meta.qoffset_y, meta.qoffset_z],
    );
    affineSource = "qform";
  } else {
    affine = baseAffine(dim, zooms);
    affineSource = "pixdim";
  }
  for (let i = 0; i < 16; i++) {
    affine[i] += 0; // −0 → 0 (rotations by 180° produce −0 products)
    if (!Number.isFinite(affine[i])) {
      throw invalidFile(source, affineSource, `gives a non-finite affine (entry ${i} is ${affine[i]})`);
    }
  }

  return { meta, dtype, shape, channels, elements, dataOffset, dataBytes, affine, affineSource, scale, warnings };
}

function checkMagic(bytes: Uint8Array, version: 1 | 2, source: string): void {
  const at = version === 1 ? 344 : 4;
  const want = version === 1 ? [0x6e, 0x2b, 0x31, 0x00] : [0x6e, 0x2b, 0x32, 0x00, 0x0d, 0x0a, 0x1a, 0x0a];
  let ok = true;
  for (let i = 0; i < want.length; i++) if (bytes[at + i] !== want[i]) ok = false;
  if (ok) return;
  const got = cString(bytes, at, at + 4);
  const pair = (version === 1 && got === "ni1") || (version === 2 && got === "ni2");
  throw invalidFile(
    source,
    "magic",
    pair
      ? `is "${got}": this is the header of a .hdr/.img pair, voxelpipe reads single-file NIfTI`
      : `is ${JSON.stringify(got)} (bytes ${at}–${at + want.length - 1}), expected "n+${version}"`,
    {
      expected: `"n+${version}"`,
      got: JSON.stringify(got),
      hint: pair
        ? "convert it to .nii.gz, e.g. nibabel: nib.save(nib.load('x.hdr'), 'x.nii.gz')"
        : "the header is corrupt or this is not a NIfTI file",
    },
  );
}
