// Over 300 lines by design: one concern, datalists (Decathlon JSON, globs, the all-at-once missing-file check
// with JSON positions); ~300 lines.
/**
 * Datalists: MONAI/Decathlon JSON files and glob patterns → records of absolute paths, plus a check that
 * reports every missing file at once (a 600-case list with 3 bad paths should fail in one go, not 3).
 */
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { Codes, type Diagnostic, VoxelpipeError } from "@voxelpipe/core";
import { glob } from "tinyglobby";
import { fsError, invalidFile } from "./nifti-errors.js";

export interface DatalistRecord {
  [key: string]: string | number | string[] | undefined;
}

/** Keys whose values are always paths (MONAI `_append_paths`); other strings become paths only if that file exists. */
const PATH_KEYS = new Set(["image", "label"]);

/** JSON.parse's "position N" → 1-based line and column in `text`. */
function jsonPosition(text: string, message: string): { line: number; col: number } | undefined {
  const m = /position (\d+)/.exec(message);
  if (!m) {
    const lc = /line (\d+) column (\d+)/.exec(message);
    return lc ? { line: Number(lc[1]), col: Number(lc[2]) } : undefined;
  }
  const pos = Math.min(Number(m[1]), text.length);
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: pos - lineStart + 1 };
}

function resolvePathValue(base: string, v: string, always: boolean): string {
  if (isAbsolute(v)) return v;
  const abs = resolve(base, v);
  return always || existsSync(abs) ? abs : v;
}

function badEntry(file: string, where: string, message: string, got: unknown): VoxelpipeError {
  return invalidFile(file, where, message, { got: JSON.stringify(got)?.slice(0, 120) ?? String(got) });
}

function toRecord(file: string, split: string, index: number, item: unknown, base: string): DatalistRecord {
  const where = `${split}[${index}]`;
  // Decathlon "test" lists are plain path strings (MONAI wraps them as {image: path})
  if (typeof item === "string") return { image: resolvePathValue(base, item, true) };
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw badEntry(file, where, "must be an object like {image: ..., label: ...} or a path string", item);
  }
  const rec: DatalistRecord = {};
  for (const [k, v] of Object.entries(item)) {
    const always = PATH_KEYS.has(k);
    if (v === null || v === undefined) continue;
    if (typeof v === "string") rec[k] = resolvePathValue(base, v, always);
    else if (typeof v === "number") rec[k] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
      rec[k] = v.map((x) => resolvePathValue(base, x, always));
    } else {
      throw badEntry(file, `${where}.${k}`, "must be a path string, a list of path strings or a number", v);
    }
  }
  return rec;
}

/** A datalist read once: its record lists and, when it has one, its `labels` map (class value → name). */
export interface Datalist {
  lists: Record<string, DatalistRecord[]>;
  labels?: Record<string, string>;
}

/**
 * Load a MONAI/Decathlon datalist (`{"training": [{image, label}, ...], "validation": [...], "test": [...]}`).
 * Returns every top-level list (or only `split`), with image/label paths made absolute against `baseDir`
 * (default: the datalist's directory); other string values become absolute only when that file exists,
 * as in MONAI. Scalars such as `numTraining` are ignored.
 */
export async function loadDecathlonDatalist(
  file: string,
  opts: { split?: string; baseDir?: string } = {},
): Promise<Record<string, DatalistRecord[]>> {
  return (await readDecathlonDatalist(file, opts)).lists;
}

/** {@link loadDecathlonDatalist}, with the Decathlon `labels` map of the same read (the class names) */
export async function readDecathlonDatalist(
  file: string,
  opts: { split?: string; baseDir?: string } = {},
): Promise<Datalist> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw fsError(path, e, "datalist file");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const loc = jsonPosition(text, msg);
    throw new VoxelpipeError({
      code: Codes.fileInvalid,
      message: `${path}${loc ? `:${loc.line}:${loc.col}` : ""}: invalid JSON: ${msg}`,
      loc: loc ? { file: path, line: loc.line, col: loc.col } : { file: path, line: 1, col: 1 },
      hint: "fix the JSON syntax (a trailing comma or a missing quote is the usual cause)",
    });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw invalidFile(path, "top level", 'must be an object with lists such as "training" and "validation"', {
      got: Array.isArray(json) ? "an array" : typeof json,
    });
  }
  const base = opts.baseDir ? resolve(opts.baseDir) : dirname(path);
  const obj = json as Record<string, unknown>;
  const splits = Object.keys(obj).filter((k) => Array.isArray(obj[k]));
  if (opts.split !== undefined && !splits.includes(opts.split)) {
    throw invalidFile(path, opts.split, `no list "${opts.split}" in this datalist`, {
      expected: `one of: ${splits.join(", ") || "(no lists at all)"}`,
      got: opts.split,
    });
  }
  const out: Record<string, DatalistRecord[]> = {};
  for (const split of opts.split !== undefined ? [opts.split] : splits) {
    out[split] = (obj[split] as unknown[]).map((item, i) => toRecord(path, split, i, item, base));
  }
  const labels = obj.labels;
  if (!labels || typeof labels !== "object" || Array.isArray(labels)) return { lists: out };
  return { lists: out, labels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)])) };
}

const STEM_EXT = /(\.nii\.gz|\.nii|\.[^./\\]+)$/i;
/** nnU-Net names images `<case>_0000.nii.gz` and labels `<case>.nii.gz` */
const NNUNET_CHANNEL = /_\d{4}$/;

export function fileStem(path: string): string {
  return basename(path).replace(STEM_EXT, "");
}

/**
 * Records from glob patterns (relative to `baseDir`): one per image, sorted by path. With `labels`, each
 * image is paired with the label of the same file name stem (`case_0000` images also match `case`
 * labels, nnU-Net style); unpaired images or labels are an error listing them all.
 */
export async function globDatalist(opts: {
  images: string;
  labels?: string;
  baseDir: string;
}): Promise<DatalistRecord[]> {
  const base = resolve(opts.baseDir);
  const find = async (pattern: string, what: string) => {
    const files = (await glob(pattern, { cwd: base, absolute: true, onlyFiles: true })).sort();
    if (files.length === 0) {
      throw new VoxelpipeError({
        code: Codes.data,
        message: `${what} pattern "${pattern}" matched no files under ${base}`,
        got: pattern,
        hint: "patterns are relative to the pipeline file's directory; check the folder and the extension (.nii.gz?)",
      });
    }
    return files;
  };
  const images = await find(opts.images, "images");
  if (opts.labels === undefined) return images.map((image) => ({ image }));
  const labels = await find(opts.labels, "labels");
  const byStem = new Map<string, string>();
  const problems: Diagnostic[] = [];
  for (const l of labels) {
    const s = fileStem(l);
    const prev = byStem.get(s);
    if (prev) {
      problems.push({ code: Codes.data, message: `two labels share the stem "${s}": ${prev} and ${l}` });
    }
    byStem.set(s, l);
  }
  const used = new Set<string>();
  const records: DatalistRecord[] = [];
  for (const image of images) {
    const s = fileStem(image);
    const label = byStem.get(s) ?? byStem.get(s.replace(NNUNET_CHANNEL, ""));
    if (!label) {
      problems.push({
        code: Codes.data,
        message: `image ${image} has no label named "${s}" (pattern "${opts.labels}")`,
        hint: "images and labels are paired by file name without extension",
      });
      continue;
    }
    used.add(label);
    records.push({ image, label });
  }
  for (const l of labels) {
    if (!used.has(l)) problems.push({ code: Codes.data, message: `label ${l} has no image of the same name` });
  }
  if (problems.length) throw new VoxelpipeError(problems);
  return records;
}

/**
 * Check that every path under `keys` exists; throws ONE error with a diagnostic per missing file, naming
 * the split, index and key (`source` is the datalist or pipeline file, shown first).
 */
export async function checkDatalistFiles(
  records: Record<string, DatalistRecord[]>,
  keys: string[],
  source: string,
): Promise<void> {
  // where each entry is in the datalist, so a missing file is reported at its file:line:col
  let positions: Map<string, { line: number; col: number }> | undefined;
  if (/\.json$/i.test(source) && existsSync(source)) {
    try {
      positions = jsonValuePositions(await readFile(source, "utf8"));
    } catch {}
  }
  const checks: { where: string; path: string }[] = [];
  for (const [split, list] of Object.entries(records)) {
    list.forEach((rec, i) => {
      for (const k of keys) {
        const v = rec[k];
        const paths = typeof v === "string" ? [v] : Array.isArray(v) ? v : [];
        paths.forEach((p, j) => {
          checks.push({ where: `${split}[${i}].${k}${Array.isArray(v) ? `[${j}]` : ""}`, path: p });
        });
      }
    });
  }
  const missing: Diagnostic[] = [];
  // bounded parallelism: thousands of stats at once would exhaust file handles on slow network mounts
  const BATCH = 64;
  for (let at = 0; at < checks.length; at += BATCH) {
    const batch = checks.slice(at, at + BATCH);
    const results = await Promise.all(
      batch.map(async (c) => {
        try {
          return (await stat(c.path)).isFile() ? null : "not a regular file";
        } catch {
          return "file not found";
        }
      }),
    );
    results.forEach((r, i) => {
      if (r) {
        const c = batch[i];
        const at = positions?.get(c.where);
        missing.push({
          code: Codes.data,
          message: `${source}${at ? `:${at.line}:${at.col}` : ""}: ${c.where}: ${r}: ${c.path}`,
          path: c.where,
          got: c.path,
          ...(at ? { loc: { file: source, line: at.line, col: at.col } } : {}),
        });
      }
    });
  }
  if (missing.length) {
    throw new VoxelpipeError([
      {
        code: Codes.data,
        message: `${source}: ${missing.length} of ${checks.length} files listed under ${keys.join(", ")} are missing:`,
        hint: "relative paths in a datalist resolve against its directory (or the baseDir given)",
      },
      ...missing,
    ]);
  }
}

/**
 * Positions (1-based line:col) of the values of a JSON text, keyed by path as checkDatalistFiles
 * names them (`training[3].image`, `training[3].image[1]`). The text must be valid JSON.
 */
export function jsonValuePositions(text: string): Map<string, { line: number; col: number }> {
  const out = new Map<string, { line: number; col: number }>();
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const ws = () => {
    for (; i < text.length; i++) {
      const ch = text[i];
      if (ch === "\n") {
        line++;
        lineStart = i + 1;
      } else if (ch !== " " && ch !== "\t" && ch !== "\r") break;
    }
  };
  const str = (): string => {
    const start = i;
    for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string, depth: number): void => {
    ws();
    if (depth > 64) throw new Error("too deep");
    out.set(path, { line, col: i - lineStart + 1 });
    const ch = text[i];
    if (ch === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        const key = str();
        ws();
        i++; // :
        value(path ? `${path}.${key}` : key, depth + 1);
        ws();
        if (text[i++] === "}") return;
      }
    } else if (ch === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`, depth + 1);
        ws();
        if (text[i++] === "]") return;
      }
    } else if (ch === '"') str();
    else while (i < text.length && !/[\s,\]}]/.test(text[i])) i++;
  };
  value("", 0);
  return out;
}
