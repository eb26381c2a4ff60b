import { constants as bufferConstants } from "node:buffer";
import { createGunzip, gunzipSync, type ZlibOptions, constants as zc } from "node:zlib";
import { invalidFile } from "./nifti-errors.js";

/**
 * gzip handling for .nii.gz. The header is inflated first from a small prefix of the compressed stream
 * (a few KiB can only inflate to a few MiB), so the sizes it declares are checked before the whole
 * file is inflated; the full inflate is then capped at what the header needs (plus slack for trailing
 * bytes), so a lying header or a gzip bomb cannot make us allocate more than that.
 */

/** deflate's maximum expansion (a run of one byte): 258 bytes per 2 bits, ~1032:1 */
const MAX_DEFLATE_RATIO = 1032;

/** bytes accepted beyond what the header needs (some writers pad); more is treated as corrupt */
const TRAILING_SLACK = 64 * 1024 * 1024;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function zlibMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.message ?? String(e);
}

/**
 * Inflate at least `want` bytes from the start of a gzip stream (fewer only if the stream is shorter).
 * Grows the compressed prefix geometrically; Z_SYNC_FLUSH returns the partial output of a cut stream.
 */
export function gunzipPrefix(compressed: Uint8Array, want: number, source: string): Uint8Array {
  let take = 1024;
  for (;;) {
    take = Math.min(take, compressed.length);
    let out: Buffer;
    try {
      out = gunzipSync(compressed.subarray(0, take), { finishFlush: zc.Z_SYNC_FLUSH });
    } catch (e) {
      throw invalidFile(source, "gzip stream", `is corrupt: ${zlibMessage(e)}`, {
        hint: "the .nii.gz file is damaged (incomplete download or copy?); re-create or re-download it",
      });
    }
    if (out.length >= want || take === compressed.length) return out;
    take *= 4;
  }
}

function fullOptions(needed: number): ZlibOptions {
  // a Buffer cannot be longer than MAX_LENGTH (4 GiB on Node 20), zlib rejects larger caps
  return { maxOutputLength: Math.min(needed + TRAILING_SLACK, bufferConstants.MAX_LENGTH) };
}

function inflateError(e: unknown, source: string, needed: number): never {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === "ERR_BUFFER_TOO_LARGE" || err instanceof RangeError) {
    throw invalidFile(
      source,
      "gzip stream",
      `inflates to more than the ${needed} bytes its header declares (+${TRAILING_SLACK} bytes slack)`,
      { hint: "the header dims/datatype do not match the data; the file is corrupt" },
    );
  }
  const truncated = /unexpected end/i.test(zlibMessage(e));
  throw invalidFile(source, "gzip stream", `is ${truncated ? "truncated" : "corrupt"}: ${zlibMessage(e)}`, {
    hint: "the .nii.gz file is damaged (incomplete download or copy?); re-create or re-download it",
  });
}

/** Inflate the whole file, allowing at most `needed` (+slack) bytes of output. */
export function gunzipAllSync(compressed: Uint8Array, needed: number, source: string): Uint8Array {
  try {
    return gunzipSync(compressed, fullOptions(needed));
  } catch (e) {
    inflateError(e, source, needed);
  }
}

/**
 * Async inflate on the libuv thread pool, straight into a buffer of exactly `needed` bytes (never
 * the output twice: no chunk list + concatenation). Bytes past the declared size are inflated only
 * to check the stream (up to the slack, then it is an error) and are not kept. A shorter stream
 * gives a shorter result (the caller reports it as truncated).
 */
export function gunzipAll(compressed: Uint8Array, needed: number, source: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let out: Uint8Array;
    try {
      // deflate expands at most ~1032:1, so a short stream (a lying header) never needs `needed`
      out = new Uint8Array(Math.min(needed, compressed.length * MAX_DEFLATE_RATIO + 2 ** 20));
    } catch (e) {
      reject(e);
      return;
    }
    let n = 0;
    let extra = 0;
    let settled = false;
    const z = createGunzip();
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      z.destroy();
      try {
        inflateError(err, source, needed);
      } catch (e) {
        reject(e);
      }
    };
    z.on("data", (chunk: Buffer) => {
      if (settled) return;
      const take = Math.min(chunk.length, out.length - n);
      out.set(chunk.subarray(0, take), n);
      n += take;
      extra += chunk.length - take;
      if (extra > TRAILING_SLACK)
        fail(Object.assign(new Error("more output than declared"), { code: "ERR_BUFFER_TOO_LARGE" }));
    });
    z.on("end", () => {
      if (settled) return;
      settled = true;
      resolve(n === out.length ? out : out.subarray(0, n));
    });
    z.on("error", fail);
    z.end(compressed);
  });
}
