import { totalmem } from "node:os";
import { Codes, VoxelpipeError } from "@voxelpipe/core";

/**
 * Memory bounds for image files, checked from the header before anything large is allocated or
 * inflated. The limit is on a file's declared voxel data (dims × channels × bytes per voxel):
 * `VOXELPIPE_MAX_IMAGE_BYTES` (bytes, or with a unit: 512MiB, 2GiB, 1.5GB), else 1/16 of the
 * machine's memory, at least 256 MiB: reading, converting and transforming a volume (or scoring a
 * prediction against a label) holds several copies of it at once.
 * `voxelpipe evaluate|infer --max-image-bytes` set the variable for the process (worker threads
 * inherit it).
 */
export const MAX_IMAGE_BYTES_ENV = "VOXELPIPE_MAX_IMAGE_BYTES";
const MIN_DEFAULT = 256 * 2 ** 20;

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

/** "2GiB" → 2147483648; undefined when not a size */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const n = Math.floor(Number(m[1]) * unit);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

/** in a browser (the exported web app): no totalmem(); a tab's wasm heap tops out at 4 GiB */
const BROWSER_DEFAULT = 2 ** 30;
const inNode = () => typeof process !== "undefined" && typeof process.versions?.node === "string";

export function defaultMaxImageBytes(): number {
  if (!inNode()) return BROWSER_DEFAULT;
  return Math.max(MIN_DEFAULT, Math.floor(totalmem() / 16));
}

/** the limit in force, and where it comes from */
export function maxImageBytes(): { bytes: number; from: string } {
  const env = inNode() ? process.env[MAX_IMAGE_BYTES_ENV] : undefined;
  if (env !== undefined && env !== "") {
    const bytes = parseByteSize(env);
    if (bytes === undefined) {
      throw new VoxelpipeError({
        code: Codes.invalidValue,
        message: `${MAX_IMAGE_BYTES_ENV}=${JSON.stringify(env)} is not a size`,
        expected: "a positive number of bytes, optionally with a unit: 800MiB, 2GiB, 4e9",
        got: env,
      });
    }
    return { bytes, from: MAX_IMAGE_BYTES_ENV };
  }
  return {
    bytes: defaultMaxImageBytes(),
    from: inNode() ? "default: 1/16 of this machine's memory" : "default in a browser: 1 GiB",
  };
}

/** set the limit for this process and the worker threads it starts (a CLI flag's value) */
export function setMaxImageBytes(text: string | number): void {
  const bytes = typeof text === "number" ? text : parseByteSize(text);
  if (bytes === undefined || !(bytes > 0)) {
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: `--max-image-bytes ${JSON.stringify(text)} is not a size`,
      expected: "a positive number of bytes, optionally with a unit: 800MiB, 2GiB, 4e9",
      got: String(text),
    });
  }
  process.env[MAX_IMAGE_BYTES_ENV] = String(bytes);
}

/** throw VP240 when a file declares more voxel data than the limit allows */
export function checkDeclaredBytes(source: string, declared: number, what: string): void {
  const limit = maxImageBytes();
  if (declared <= limit.bytes) return;
  throw new VoxelpipeError({
    code: Codes.tooLarge,
    message: `${source}: declares ${formatBytes(declared)} of voxel data (${what}), more than the ${formatBytes(limit.bytes)} limit`,
    loc: { file: source, line: 1, col: 1 },
    expected: `≤ ${limit.bytes} bytes (${limit.from})`,
    got: `${declared} bytes`,
    hint: `nothing was allocated; if the volume is real, raise the limit: ${MAX_IMAGE_BYTES_ENV}=<bytes, e.g. 8GiB> (or --max-image-bytes), else the header is wrong`,
  });
}

/** how header warnings (e.g. an invalid qform_code treated as 0) reach the user: once per file and message */
let warnHandler: (message: string) => void = (m) =>
  inNode() ? process.stderr.write(`warning: ${m}\n`) : console.warn(`warning: ${m}`);
const warned = new Set<string>();

export function setNiftiWarningHandler(fn: (message: string) => void): void {
  warnHandler = fn;
}

export function niftiWarning(message: string): void {
  if (warned.has(message)) return;
  if (warned.size > 10000) warned.clear();
  warned.add(message);
  warnHandler(message);
}
