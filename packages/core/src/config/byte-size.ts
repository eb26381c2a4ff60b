import { Codes, VoxelpipeError } from "../errors.js";

/**
 * Sizes in bytes as people write them: `8589934592`, `512MiB`, `2GiB`, `1.5GB`, `4e9`. The one parser
 * behind `max_image_bytes:` in a pipeline file, `--max-image-bytes` and `VOXELPIPE_MAX_IMAGE_BYTES`.
 */
const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gib: 2 ** 30,
  t: 1e12,
  tb: 1e12,
  tib: 2 ** 40,
};

/** what a size may look like (the `expected` of a diagnostic about one) */
export const BYTE_SIZE_EXPECTED = "a positive number of bytes, optionally with a unit: 800MiB, 2GiB, 4e9";

/** the same shape for editors (JSON Schema has no case-insensitive flag): digits, then b, k, kb, kib, ... in any case */
export const BYTE_SIZE_PATTERN = "^\\s*\\d+(\\.\\d+)?(e\\d+)?\\s*([kKmMgGtT]([bB]|[iI][bB])?|[bB])?\\s*$";

/** "2GiB" → 2147483648, 4e9 → 4000000000; undefined when not a positive size */
export function parseByteSize(text: string | number): number | undefined {
  if (typeof text === "number") return Number.isFinite(text) && text >= 1 ? Math.floor(text) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const n = Math.floor(Number(m[1]) * unit);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** {@link parseByteSize}, or VP111 naming where the text came from (`from`: a flag, a variable) */
export function requireByteSize(text: string | number, from: string): number {
  const bytes = parseByteSize(text);
  if (bytes !== undefined) return bytes;
  throw new VoxelpipeError({
    code: Codes.invalidValue,
    message: `${from} ${JSON.stringify(text)} is not a size`,
    expected: BYTE_SIZE_EXPECTED,
    got: String(text),
  });
}
