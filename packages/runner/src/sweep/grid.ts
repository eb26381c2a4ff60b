import { createHash } from "node:crypto";
import {
  Codes,
  ConfigLimits,
  forbiddenKeyDiagnostic,
  isPlainObject,
  outputReference,
  parsePath,
  parseYamlWithLocations,
  VoxelpipeError,
} from "@voxelpipe/core";
import { stringify } from "yaml";

/** One axis of a sweep: a config path and the values it takes (YAML values; `none` means "not set"). */
export interface GridAxis {
  path: string;
  values: unknown[];
}

export interface SweepSpec {
  grid: GridAxis[];
  seeds: number[];
  /** `<stage>.<json path>` into the stage's summary/report, e.g. `score.mean.dice.mean` */
  metrics: string[];
}

export interface Variant {
  /** stable id, also the variant's folder name */
  id: string;
  /** grid assignments (without the seed), path → value */
  assignment: Record<string, unknown>;
  seed: number;
  /** --set overrides that realise it */
  overrides: string[];
}

/** the most variants (grid combinations × seeds) one sweep may have */
export const MAX_SWEEP_VARIANTS = 1000;

/** a grid key is a config path: bounded, and never object machinery (`__proto__.x`) */
export function checkGridPath(path: string, where: string): void {
  const segs = parsePath(path);
  if (segs.length === 0) {
    throw new VoxelpipeError({ code: Codes.override, message: `${where}: empty config path`, path: where });
  }
  if (segs.length > ConfigLimits.maxPathSegments) {
    throw new VoxelpipeError({
      code: Codes.limitExceeded,
      message: `${where}: config path has ${segs.length} segments`,
      expected: `at most ${ConfigLimits.maxPathSegments} (limit maxPathSegments)`,
      path: where,
    });
  }
  const bad = segs.find((s) => s === "__proto__" || s === "constructor" || s === "prototype");
  if (bad !== undefined)
    throw new VoxelpipeError(forbiddenKeyDiagnostic(String(bad), "grid path segment", undefined, path));
}

function yamlOrFail(text: string, where: string): unknown {
  try {
    return yamlValue(text, where);
  } catch (e) {
    if (e instanceof VoxelpipeError) {
      throw new VoxelpipeError(e.diagnostics.map((d) => ({ ...d, message: `${where}: ${d.message}` })));
    }
    throw new VoxelpipeError({
      code: Codes.override,
      message: `${where}: value ${JSON.stringify(text.slice(0, 80))} is not valid YAML`,
      got: (e as Error).message.split("\n")[0],
      hint: "quote values that contain commas or brackets",
    });
  }
}

/** split `a,b,[c, d],{e: f}` at top-level commas */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = "";
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "[" || ch === "{") depth++;
    else if (ch === "]" || ch === "}") depth--;
    else if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
      continue;
    }
    cur += ch;
  }
  out.push(cur.trim());
  return out.filter((s) => s.length > 0);
}

function yamlValue(text: string, where = "--grid"): unknown {
  if (text === "none") return null;
  // a bare @reference or ${...} is a string, not YAML syntax
  if (/^[@$]/.test(text)) return text;
  // the same data-only YAML as pipelines: no tags, bounded aliases and nesting
  const r = parseYamlWithLocations(text, where);
  if (r.diagnostics.length) throw new VoxelpipeError(r.diagnostics.map((d) => ({ ...d, loc: undefined })));
  return r.value;
}

/** `--grid path=v1,v2,...` */
export function parseGridOption(text: string): GridAxis {
  const eq = text.indexOf("=");
  if (eq <= 0) {
    throw new VoxelpipeError({
      code: Codes.override,
      message: `--grid "${text}" is not of the form path=value1,value2,...`,
      expected: "e.g. --grid stages.finetune.optimizer.lr=1e-4,3e-4",
    });
  }
  const path = text.slice(0, eq).trim();
  checkGridPath(path, `--grid "${path.slice(0, 80)}"`);
  const values = splitTop(text.slice(eq + 1)).map((v) => yamlOrFail(v, `--grid ${path}`));
  if (values.length === 0)
    throw new VoxelpipeError({ code: Codes.override, message: `--grid "${text}" lists no values` });
  return { path, values };
}

/** `0..2` (inclusive), `0,1,2` or `3` */
export function parseSeeds(text: string): number[] {
  const range = /^(\d+)\.\.(\d+)$/.exec(text.trim());
  const tooMany = (n: number) =>
    new VoxelpipeError({
      code: Codes.invalidValue,
      message: `--seeds "${text}" names ${n} seeds`,
      expected: `at most ${MAX_SWEEP_VARIANTS} seeds`,
    });
  if (range) {
    const [a, b] = [Number(range[1]), Number(range[2])];
    if (b - a + 1 > MAX_SWEEP_VARIANTS) throw tooMany(b - a + 1);
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || b < a) {
      throw new VoxelpipeError({
        code: Codes.invalidValue,
        message: `--seeds "${text}" is not a seed range`,
        expected: "a..b with a ≤ b, e.g. 0..2",
      });
    }
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  const parts = text.split(",");
  if (parts.length > MAX_SWEEP_VARIANTS) throw tooMany(parts.length);
  const list = parts.map((s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : Number.NaN));
  if (list.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: `--seeds "${text}" is not a seed list`,
      expected: "0..2 or 0,1,2",
    });
  }
  return list;
}

/** the `sweep:` block of a pipeline: { grid: { path: [values] }, seeds: "0..2" | [..], metrics: [..] } */
export function specFromYaml(block: unknown): Partial<SweepSpec> {
  if (block === undefined || block === null) return {};
  if (!isPlainObject(block))
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: "`sweep:` must be a mapping { grid, seeds, metrics }",
    });
  const out: Partial<SweepSpec> = {};
  if (block.grid !== undefined) {
    if (!isPlainObject(block.grid))
      throw new VoxelpipeError({
        code: Codes.invalidValue,
        message: "`sweep.grid` must map config paths to lists of values",
        path: "sweep.grid",
      });
    out.grid = Object.entries(block.grid).map(([path, v]) => {
      checkGridPath(path, `sweep.grid."${path.slice(0, 80)}"`);
      return { path, values: (Array.isArray(v) ? v : [v]).map((x) => (x === "none" ? null : x)) };
    });
  }
  if (block.seeds !== undefined)
    out.seeds = Array.isArray(block.seeds)
      ? parseSeeds(block.seeds.map(String).join(","))
      : parseSeeds(String(block.seeds));
  if (block.metrics !== undefined)
    out.metrics = (Array.isArray(block.metrics) ? block.metrics : [block.metrics]).map(String);
  return out;
}

function label(v: unknown): string {
  if (v === null) return "none";
  if (typeof v === "string") {
    const out = outputReference(v);
    return out ? `${out.stage}.${out.output}` : v;
  }
  if (isPlainObject(v) && typeof v.from === "string") return label(v.from);
  return stringify(v, { collectionStyle: "flow" }).trim();
}

/** a short readable form of one assignment for tables and folder names */
export function describeAssignment(a: Record<string, unknown>): string {
  return Object.entries(a)
    .map(([p, v]) => `${p.split(".").pop()}=${label(v)}`)
    .join(" ");
}

/** the cartesian product of the grid, then each seed */
export function variants(spec: SweepSpec): Variant[] {
  const count = spec.grid.reduce((n, a) => n * a.values.length, 1) * spec.seeds.length;
  if (count > MAX_SWEEP_VARIANTS) {
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: `the sweep has ${count} variants (grid combinations × seeds)`,
      expected: `at most ${MAX_SWEEP_VARIANTS}`,
      hint: "split it into several sweeps",
    });
  }
  let combos: Record<string, unknown>[] = [{}];
  for (const axis of spec.grid) combos = combos.flatMap((c) => axis.values.map((v) => ({ ...c, [axis.path]: v })));
  const out: Variant[] = [];
  combos.forEach((assignment, ci) => {
    for (const seed of spec.seeds) {
      const slug = describeAssignment(assignment)
        .replace(/[^A-Za-z0-9=._-]+/g, "_")
        .slice(0, 80);
      out.push({
        id: `v${String(ci).padStart(2, "0")}-${slug || "base"}-seed${seed}`,
        assignment,
        seed,
        overrides: [
          ...Object.entries(assignment).map(([p, v]) => `${p}=${v === null ? "null" : JSON.stringify(v)}`),
          `seed=${seed}`,
        ],
      });
    }
  });
  return out;
}

/** identifies a sweep: the same pipeline, grid, seeds and overrides resume in the same folder */
export function sweepKey(pipeline: string, spec: SweepSpec, sets: string[]): string {
  return createHash("sha256")
    .update(JSON.stringify({ pipeline, grid: spec.grid, seeds: spec.seeds, sets }))
    .digest("hex")
    .slice(0, 10);
}
