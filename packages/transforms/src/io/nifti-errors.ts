import { Codes, VoxelpipeError } from "@voxelpipe/core";

/**
 * A file-level problem: every message starts with the file and names the header field (or "gzip
 * stream", "voxel data") so a user with 600 CTs knows which one and what is wrong with it.
 */
export function invalidFile(
  source: string,
  field: string,
  message: string,
  extra: { expected?: string; got?: string; hint?: string } = {},
): VoxelpipeError {
  return new VoxelpipeError({
    code: Codes.fileInvalid,
    message: `${source}: ${field}: ${message}`,
    loc: { file: source, line: 1, col: 1 },
    ...extra,
  });
}

export function fileNotFound(source: string, what = "NIfTI file"): VoxelpipeError {
  return new VoxelpipeError({
    code: Codes.fileNotFound,
    message: `${what} not found: ${source}`,
    got: source,
    hint: "check the path; relative paths resolve against the pipeline file's directory (or the datalist's)",
  });
}

/** Map an fs error (ENOENT, EISDIR, EACCES, ...) on `path` to a VoxelpipeError. */
export function fsError(path: string, e: unknown, what = "NIfTI file"): VoxelpipeError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT" || code === "ENOTDIR") return fileNotFound(path, what);
  if (code === "EISDIR") return invalidFile(path, "path", `is a directory, expected a ${what}`);
  return invalidFile(path, "file", `cannot read: ${(e as Error)?.message ?? String(e)}`, {
    hint: "check the file permissions",
  });
}
