import { totalmem } from "node:os";
import { BYTE_SIZE_EXPECTED, Codes, parseByteSize, requireByteSize, VoxelpipeError } from "@voxelpipe/core";

/**
 * Memory bounds for image files, checked from the header before anything large is allocated or
 * inflated. The limit is on a file's declared voxel data (dims × channels × bytes per voxel):
 * `VOXELPIPE_MAX_IMAGE_BYTES` (bytes, or with a unit: 512MiB, 2GiB, 1.5GB), else 1/16 of the
 * machine's memory, at least 256 MiB: reading, converting and transforming a volume (or scoring a
 * prediction against a label) holds several copies of it at once.
 * A pipeline's `max_image_bytes:` (`voxelpipe run|infer`) and `voxelpipe run|infer|evaluate --max-image-bytes`
 * set the variable for the process (setMaxImageBytes): worker threads and child processes started after
 * inherit it. Precedence: the flag, then the pipeline file, then the variable as the shell set it, then
 * the default.
 */
export const MAX_IMAGE_BYTES_ENV = "VOXELPIPE_MAX_IMAGE_BYTES";
/** where the value in MAX_IMAGE_BYTES_ENV came from, when setMaxImageBytes put it there: "<bytes> <origin>" */
export const MAX_IMAGE_BYTES_FROM_ENV = "VOXELPIPE_MAX_IMAGE_BYTES_FROM";
const MIN_DEFAULT = 256 * 2 ** 20;

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
        expected: BYTE_SIZE_EXPECTED,
        got: env,
      });
    }
    // the origin setMaxImageBytes recorded, while the variable still holds the value it set
    const from = process.env[MAX_IMAGE_BYTES_FROM_ENV] ?? "";
    const space = from.indexOf(" ");
    const origin = space > 0 && from.slice(0, space) === String(bytes) ? from.slice(space + 1) : "";
    return { bytes, from: origin || MAX_IMAGE_BYTES_ENV };
  }
  return {
    bytes: defaultMaxImageBytes(),
    from: inNode() ? "default: 1/16 of this machine's memory" : "default in a browser: 1 GiB",
  };
}

/**
 * Set the limit for this process and the worker threads and child processes it starts: a CLI flag's value
 * (`from` "--max-image-bytes", the default) or a pipeline's `max_image_bytes:` (`from` names the file).
 */
export function setMaxImageBytes(text: string | number, from = "--max-image-bytes"): void {
  const bytes = requireByteSize(text, from);
  process.env[MAX_IMAGE_BYTES_ENV] = String(bytes);
  process.env[MAX_IMAGE_BYTES_FROM_ENV] = `${bytes} ${from}`;
}

/**
 * Run `fn` with the limit set (setMaxImageBytes) and put the variables back as they were afterwards, so a
 * program running several pipelines in one process (tests, sweeps) does not carry one's limit into the next.
 */
export async function withMaxImageBytes<T>(
  text: string | number | undefined,
  from: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (text === undefined) return fn();
  const saved = [process.env[MAX_IMAGE_BYTES_ENV], process.env[MAX_IMAGE_BYTES_FROM_ENV]];
  setMaxImageBytes(text, from);
  try {
    return await fn();
  } finally {
    for (const [k, v] of [
      [MAX_IMAGE_BYTES_ENV, saved[0]],
      [MAX_IMAGE_BYTES_FROM_ENV, saved[1]],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
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
    hint: `nothing was allocated; if the volume is real, raise the limit: max_image_bytes: 8GiB in the pipeline file, --max-image-bytes 8GiB or ${MAX_IMAGE_BYTES_ENV}=8GiB; else the header is wrong`,
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
