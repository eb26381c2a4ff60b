/**
 * NIfTI bytes in the browser: gzip through the platform's (De)CompressionStream, decoding and
 * encoding through @voxelpipe/transforms' own parseNifti / encodeNifti (the Node reader's code, given
 * inflated bytes, so it never reaches node:zlib).
 */
import { Codes, type Volume, VoxelpipeError } from "@voxelpipe/core";
import { encodeNifti, formatBytes, maxImageBytes, parseNifti } from "@voxelpipe/transforms";

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
/** header, extensions and trailing bytes some writers add, beyond the voxel data limit */
const SLACK = 64 * 2 ** 20;

/**
 * A stream's bytes in one array (the one reading loop: inflated gzip, fetched bodies). Past
 * `limit.cap` bytes the stream is cancelled and that is VP240; `onProgress` hears the bytes read so far.
 */
async function collect(
  stream: ReadableStream<Uint8Array>,
  limit?: { cap: number; source: string },
  onProgress?: (loaded: number) => void,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (limit && n > limit.cap) {
      await reader.cancel();
      // the same limit (VP240) the reader applies to a declared size: a gzip bomb stops here
      throw new VoxelpipeError({
        code: Codes.tooLarge,
        message: `${limit.source}: inflates to more than ${formatBytes(limit.cap)}`,
        expected: `≤ ${limit.cap} bytes`,
        hint: "the file is larger than a browser tab can segment, or not a NIfTI image",
      });
    }
    parts.push(value);
    onProgress?.(n);
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decode a `.nii` / `.nii.gz` held in memory (gzip detected by its magic, not the name). */
export async function decodeNifti(bytes: Uint8Array, source: string): Promise<Volume> {
  let raw = bytes;
  if (isGzip(bytes)) {
    const cap = maxImageBytes().bytes + SLACK;
    try {
      const inflating = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream("gzip"));
      raw = await collect(inflating as ReadableStream<Uint8Array>, { cap, source });
    } catch (e) {
      if (e instanceof VoxelpipeError) throw e;
      throw new VoxelpipeError({
        code: Codes.webInput,
        message: `${source}: the gzip stream is corrupt (${(e as Error).message})`,
        hint: "the .nii.gz file is damaged (incomplete download or copy?)",
      });
    }
  }
  return parseNifti(raw, source);
}

/** A label map as `.nii.gz` bytes: uint8 voxels, as `voxelpipe infer` writes them. */
export async function encodeLabelMap(labels: Volume): Promise<Uint8Array> {
  const raw = encodeNifti(labels, { dtype: "uint8" });
  const gz = new Blob([raw as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(gz).arrayBuffer());
}

/** fetch a URL's bytes, failures as VP298 (or VP297 for the site's own files) */
export async function fetchBytes(
  url: string,
  what: "input" | "site",
  onProgress?: (loaded: number, total: number) => void,
): Promise<Uint8Array> {
  const code = what === "input" ? Codes.webInput : Codes.webManifest;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new VoxelpipeError({
      code,
      message: `cannot fetch ${url}: ${(e as Error).message}`,
      hint:
        what === "input"
          ? "is the URL right, and does its server allow this page to read it (CORS)?"
          : "serve the site folder over HTTP (`voxelpipe serve <dir>`): browsers do not fetch from file://",
    });
  }
  if (!res.ok) {
    throw new VoxelpipeError({
      code,
      message: `cannot fetch ${url}: HTTP ${res.status} ${res.statusText}`,
      hint: what === "input" ? "check the ?input= URL" : "the site folder is incomplete: re-export it",
    });
  }
  const total = Number(res.headers.get("content-length") ?? 0);
  if (!res.body || !onProgress) return new Uint8Array(await res.arrayBuffer());
  return collect(res.body, undefined, (loaded) => onProgress(loaded, total));
}
