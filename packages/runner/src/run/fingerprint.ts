import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import {
  Codes,
  type CompiledPipeline,
  configReference,
  getAt,
  isPlainObject,
  isReference,
  outputReference,
  type Registries,
  VoxelpipeError,
  writeFileAtomicSync,
} from "@voxelpipe/core";

/** `fingerprint.json` in every run directory: what the run is, so `--resume` never reuses another run */
export const FINGERPRINT_FILE = "fingerprint.json";
/** input files up to this size are stamped by content (SHA-256), larger ones by size + mtime */
export const CONTENT_STAMP_MAX = 16 * 2 ** 20;

export interface Fingerprint {
  version: 1;
  /** SHA-256 over the sorted keys */
  hash: string;
  /** flat key → value: `stages.<stage>.<path>` (resolved config), `seed`, `plugin.<ns>`, `input:<file>` */
  keys: Record<string, string>;
}

/**
 * The fingerprint of one stage of a compiled pipeline: its resolved configuration (after extends,
 * --set, `${}`; references to other parts of the pipeline replaced by what they point to, stage
 * outputs by their paths), the seed, every loaded plugin's name and version, and a stamp of each
 * existing file the configuration names (datalists, init checkpoints, upstream outputs): SHA-256
 * of its content up to 16 MiB, else size + mtime; an upstream output folder by its entries' names,
 * sizes and mtimes.
 */
export function stageFingerprint(
  p: CompiledPipeline,
  stage: string,
  registries: Registries,
  outputs: Map<string, Record<string, string>>,
): Fingerprint {
  const keys: Record<string, string> = Object.create(null);
  const files = new Set<string>();
  const walk = (v: unknown, path: string, depth: number, seen: string[]): void => {
    if (depth > 64) {
      keys[path] = "<too deep>";
      return;
    }
    if (isReference(v)) {
      const m = outputReference(v);
      if (m) {
        const out = outputs.get(m.stage)?.[m.output];
        keys[path] = JSON.stringify(out ?? v);
        if (out && exists(out)) files.add(out);
        return;
      }
      if (seen.includes(v)) {
        keys[path] = JSON.stringify(v);
        return;
      }
      const target = getAt(p.value, configReference(v) ?? []);
      if (target.found === false || target.value === undefined) keys[path] = JSON.stringify(v);
      else walk(target.value, path, depth + 1, [...seen, v]);
      return;
    }
    if (Array.isArray(v)) {
      if (!v.length) keys[path] = "[]";
      for (const [i, x] of v.entries()) walk(x, `${path}.${i}`, depth + 1, seen);
      return;
    }
    if (isPlainObject(v)) {
      const entries = Object.entries(v);
      if (!entries.length) keys[path] = "{}";
      for (const [k, x] of entries) walk(x, `${path}.${k}`, depth + 1, seen);
      return;
    }
    if (typeof v === "string" && v.length < 4096 && !v.includes("\n")) {
      const f = isAbsolute(v) ? v : resolve(p.baseDir, v);
      if (v && files.size < 1000 && isFile(f)) files.add(f);
    }
    keys[path] = JSON.stringify(v ?? null);
  };
  const s = p.stages.get(stage);
  walk(s?.raw, `stages.${stage}`, 0, []);
  keys.seed = String(p.seed);
  for (const pl of registries.plugins) keys[`plugin.${pl.namespace}`] = `${pl.meta.name}@${pl.meta.version ?? "?"}`;
  for (const f of files) keys[`input:${f}`] = stamp(f);
  const sorted = Object.fromEntries(Object.entries(keys).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const hash = createHash("sha256").update(JSON.stringify(sorted)).digest("hex");
  return { version: 1, hash, keys: sorted };
}

function exists(f: string): boolean {
  try {
    statSync(f);
    return true;
  } catch {
    return false;
  }
}

function isFile(f: string): boolean {
  try {
    return statSync(f).isFile();
  } catch {
    return false;
  }
}

/** a file: SHA-256 up to 16 MiB, else size + mtime; a folder (an upstream output): its entries' names, sizes, mtimes */
function stamp(f: string): string {
  try {
    const st = statSync(f);
    if (st.isDirectory()) {
      const h = createHash("sha256");
      for (const e of readdirSync(f).sort().slice(0, 100000)) {
        const s = statSync(join(f, e), { throwIfNoEntry: false });
        h.update(`${e}\0${s?.size ?? -1}\0${Math.round(s?.mtimeMs ?? 0)}\n`);
      }
      return `dir:${h.digest("hex")}`;
    }
    if (st.size <= CONTENT_STAMP_MAX) return `sha256:${createHash("sha256").update(readFileSync(f)).digest("hex")}`;
    return `size:${st.size},mtime:${Math.round(st.mtimeMs)}`;
  } catch (e) {
    return `unreadable:${(e as NodeJS.ErrnoException).code ?? "?"}`;
  }
}

export function writeFingerprint(dir: string, fp: Fingerprint): void {
  writeFileAtomicSync(join(dir, FINGERPRINT_FILE), `${JSON.stringify(fp, null, 2)}\n`);
}

export function readFingerprint(dir: string): Fingerprint | undefined {
  const f = join(dir, FINGERPRINT_FILE);
  if (!existsSync(f)) return undefined;
  try {
    const fp = JSON.parse(readFileSync(f, "utf8")) as Fingerprint;
    return typeof fp.hash === "string" && isPlainObject(fp.keys) ? fp : undefined;
  } catch {
    return undefined;
  }
}

/** the keys that differ, as `key: old → new` lines (added and removed keys included) */
export function fingerprintDiff(old: Fingerprint, now: Fingerprint): string[] {
  const out: string[] = [];
  const all = [...new Set([...Object.keys(old.keys), ...Object.keys(now.keys)])].sort();
  for (const k of all) {
    const a = old.keys[k];
    const b = now.keys[k];
    if (a === b) continue;
    out.push(`${k}: ${a === undefined ? "(absent)" : short(a)} → ${b === undefined ? "(absent)" : short(b)}`);
  }
  return out;
}

function short(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** the VP230 diagnostic for resuming a run made with another configuration */
export function mismatchError(
  dir: string,
  stage: string,
  old: Fingerprint | undefined,
  now: Fingerprint,
): VoxelpipeError {
  const diff = old ? fingerprintDiff(old, now) : [];
  const shown = diff.slice(0, 12);
  return new VoxelpipeError({
    code: Codes.runMismatch,
    message: old
      ? `cannot resume stage "${stage}" in ${dir}: it was made with another configuration (${diff.length} key${diff.length === 1 ? "" : "s"} differ)`
      : `cannot resume stage "${stage}" in ${dir}: it has no ${FINGERPRINT_FILE} (made by an older voxelpipe), so what it ran is unknown`,
    path: `stages.${stage}`,
    expected: old ? "the run's configuration" : undefined,
    got: shown.length
      ? `\n    ${shown.join("\n    ")}${diff.length > shown.length ? `\n    ... and ${diff.length - shown.length} more` : ""}`
      : undefined,
    hint: "drop --resume to start a new run, or add --new-on-change to resume matching stages and start new runs for the others",
  });
}
