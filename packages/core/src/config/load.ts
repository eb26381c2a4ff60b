import { dirname, resolve } from "node:path";
import { Codes, type Diagnostic, type SourceLocation } from "../errors.js";
import { ConfigLimits, forbiddenKeyDiagnostic, isForbiddenKey, limitDiagnostic, measureValue } from "./limits.js";
import { deepMerge } from "./merge.js";
import { formatPath, isPlainObject, type Path, parsePath } from "./paths.js";
import { LocationMap, parseYamlWithLocations, readYamlFile, type SourceTexts } from "./source.js";

export interface LoadOptions {
  /** size cap of each pipeline file in bytes (default: VOXELPIPE_MAX_PIPELINE_BYTES, else 1 MiB) */
  maxFileBytes?: number;
}

/** Diagnostics after which nothing else about the pipeline is worth checking. */
export const FATAL_CODES: ReadonlySet<string> = new Set([
  Codes.yamlSyntax,
  Codes.fileNotFound,
  Codes.notPipelineFile,
  Codes.forbiddenKey,
  Codes.limitExceeded,
]);

/** A pipeline after `extends` and `--set` overrides, before interpolation and validation. */
export interface RawPipeline {
  file: string;
  value: Record<string, unknown>;
  locs: LocationMap;
  texts: SourceTexts;
  diagnostics: Diagnostic[];
}

/** Load a pipeline file with everything it extends, then apply `--set path=value` overrides (parsed as YAML). */
export function loadPipeline(file: string, overrides: readonly string[] = [], opts: LoadOptions = {}): RawPipeline {
  const texts: SourceTexts = new Map();
  const diagnostics: Diagnostic[] = [];
  const abs = resolve(file);
  const merged = loadWithExtends(abs, [], texts, diagnostics, opts);
  let value = isPlainObject(merged.value) ? merged.value : {};
  if (!isPlainObject(merged.value) && diagnostics.length === 0) {
    diagnostics.push({
      code: Codes.pipelineStructure,
      message: "a pipeline file must be a YAML mapping (version, name, stages, ...)",
      loc: { file: abs, line: 1, col: 1 },
    });
  }
  const locs = merged.locs;
  overrides.forEach((text, i) => {
    if (diagnostics.some((d) => FATAL_CODES.has(d.code))) return;
    const r = applyOverride(value, text, i, texts);
    if ("diagnostic" in r) diagnostics.push(r.diagnostic);
    else {
      value = r.value;
      locs.deleteUnder(r.path);
      locs.overlay(r.locs);
    }
  });
  return { file: abs, value, locs, texts, diagnostics };
}

function loadWithExtends(
  file: string,
  chain: string[],
  texts: SourceTexts,
  diagnostics: Diagnostic[],
  opts: LoadOptions,
  /** where the parent file names this one (its `extends` entry), for problems reading it */
  from?: { loc?: SourceLocation; path: string },
): { value: unknown; locs: LocationMap } {
  const parsed = readYamlFile(file, { maxBytes: opts.maxFileBytes, what: from ? "extended file" : "pipeline file" });
  const unread = parsed.diagnostics.find(
    (d) => d.code === Codes.fileNotFound || d.code === Codes.notPipelineFile || parsed.text === "",
  );
  if (!unread) texts.set(file, parsed.text);
  // a file that could not be read is reported where the parent names it
  if (from && unread) diagnostics.push(...parsed.diagnostics.map((d) => ({ ...d, loc: from.loc, path: from.path })));
  else diagnostics.push(...parsed.diagnostics);
  if (parsed.diagnostics.length) return { value: {}, locs: new LocationMap() };
  const own = parsed.value;
  if (!isPlainObject(own) || own.extends === undefined) return { value: own, locs: parsed.locs };
  const list = typeof own.extends === "string" ? [own.extends] : own.extends;
  const extLoc = parsed.locs.get(["extends"])?.value;
  if (!Array.isArray(list) || !list.every((x) => typeof x === "string")) {
    diagnostics.push({
      code: Codes.pipelineStructure,
      message: "`extends` must be a file path or a list of file paths",
      path: "extends",
      loc: extLoc,
      got: JSON.stringify(own.extends),
    });
    return { value: own, locs: parsed.locs };
  }
  let base: unknown = {};
  const locs = new LocationMap();
  if (chain.length + 1 >= ConfigLimits.maxExtendsDepth) {
    diagnostics.push(
      limitDiagnostic("maxExtendsDepth", `\`extends\` chain longer than ${ConfigLimits.maxExtendsDepth} files`, {
        loc: extLoc,
        path: "extends",
        got: [...chain, file].join(" -> "),
      }),
    );
    return { value: {}, locs };
  }
  for (const [i, rel] of (list as string[]).entries()) {
    const target = resolve(dirname(file), rel);
    if (chain.includes(target) || target === file) {
      diagnostics.push({
        code: Codes.pipelineStructure,
        message: `\`extends\` cycle: ${[...chain, file, target].join(" -> ")}`,
        path: "extends",
        loc: extLoc,
      });
      continue;
    }
    const at = typeof own.extends === "string" ? ["extends"] : ["extends", i];
    const r = loadWithExtends(target, [...chain, file], texts, diagnostics, opts, {
      loc: parsed.locs.get(at)?.value ?? extLoc,
      path: formatPath(at),
    });
    base = deepMerge(base, r.value);
    locs.overlay(r.locs);
  }
  const { extends: _drop, ...rest } = own;
  locs.overlay(parsed.locs);
  return { value: deepMerge(base, rest), locs };
}

/** `a.b.c=value`: the value is YAML (`--set model.args.lr=1e-3`, `--set roi=[64,64,64]`); `a.b=null` removes a.b. */
function applyOverride(
  root: Record<string, unknown>,
  text: string,
  index: number,
  texts: SourceTexts,
): { value: Record<string, unknown>; path: Path; locs: LocationMap } | { diagnostic: Diagnostic } {
  const o = parseOverride(text, index, texts);
  if ("diagnostic" in o) return o;
  const { pseudo, eq, pathText, keyLoc, path, parsed } = o;
  // positions inside the value are relative to the value text: shift them past "path="
  const locs = new LocationMap();
  const top = {
    value: { file: pseudo, line: 1, col: eq + 2, length: Math.max(1, text.length - eq - 1) },
    key: keyLoc,
  };
  locs.set(path, top);
  const value = structuredClone(root);
  const walked = setAtPath(value, path, parsed.value, pathText, keyLoc);
  if (walked) return { diagnostic: walked };
  const m = measureValue(value);
  if (m.depth > ConfigLimits.maxDepth) {
    return {
      diagnostic: limitDiagnostic(
        "maxDepth",
        `override "${pathText}" nests deeper than ${ConfigLimits.maxDepth} levels`,
        {
          loc: keyLoc,
        },
      ),
    };
  }
  return { value, path, locs };
}

interface ParsedOverride {
  /** the override's name in diagnostics, e.g. "--set #2" */
  pseudo: string;
  /** where the "=" is */
  eq: number;
  pathText: string;
  keyLoc: NonNullable<Diagnostic["loc"]>;
  path: Path;
  parsed: ReturnType<typeof parseYamlWithLocations>;
}

/** `path=value` split and checked: the path's segments (within the limits) and the value parsed as YAML */
function parseOverride(text: string, index: number, texts: SourceTexts): ParsedOverride | { diagnostic: Diagnostic } {
  const pseudo = `--set #${index + 1}`;
  texts.set(pseudo, text);
  const eq = text.indexOf("=");
  if (eq <= 0) {
    return {
      diagnostic: {
        code: Codes.override,
        message: `override "${text}" is not of the form path=value`,
        loc: { file: pseudo, line: 1, col: 1, length: text.length },
        expected: "path=value, e.g. --set stages.train.epochs=10",
        got: JSON.stringify(text),
      },
    };
  }
  const pathText = text.slice(0, eq).trim();
  const keyLoc = { file: pseudo, line: 1, col: 1, length: eq };
  const path = parsePath(pathText);
  if (path.length === 0) {
    return { diagnostic: { code: Codes.override, message: `override "${text}" has an empty path`, loc: keyLoc } };
  }
  if (path.length > ConfigLimits.maxPathSegments) {
    return {
      diagnostic: limitDiagnostic("maxPathSegments", `override path has ${path.length} segments`, {
        loc: keyLoc,
        value: ConfigLimits.maxPathSegments,
      }),
    };
  }
  const bad = path.find(isForbiddenKey);
  if (bad !== undefined) return { diagnostic: forbiddenKeyDiagnostic(String(bad), "path segment", keyLoc, pathText) };
  const parsed = parseYamlWithLocations(text.slice(eq + 1), pseudo, path);
  if (parsed.diagnostics.length) {
    const d = parsed.diagnostics[0];
    return {
      diagnostic: {
        ...d,
        code: d.code === Codes.yamlSyntax ? Codes.override : d.code,
        message: `in override "${text}": ${d.message}`,
      },
    };
  }
  return { pseudo, eq, pathText, keyLoc, path, parsed };
}

/**
 * Set (or, for null, remove) the value at `path` in `root`, in place: the walk follows own properties only,
 * creates missing containers, and a list takes an existing index or the one just past its end (append).
 */
function setAtPath(
  root: Record<string, unknown>,
  path: Path,
  v: unknown,
  pathText: string,
  keyLoc: Diagnostic["loc"],
): Diagnostic | undefined {
  let cur: Record<string, unknown> | unknown[] = root;
  for (let i = 0; i < path.length; i++) {
    const s = path[i];
    const isLast = i === path.length - 1;
    const here = formatPath(path.slice(0, i + 1));
    if (Array.isArray(cur)) {
      if (typeof s !== "number" || s > cur.length) {
        return {
          code: Codes.override,
          message:
            typeof s !== "number"
              ? `override "${pathText}": ${formatPath(path.slice(0, i)) || "the top level"} is a list, "${s}" is not an index`
              : `override "${pathText}": index ${s} is past the end of ${formatPath(path.slice(0, i))} (${cur.length} item${cur.length === 1 ? "" : "s"})`,
          loc: keyLoc,
          path: here,
          expected: `an index from 0 to ${cur.length - 1} (an existing item) or ${cur.length} (append)`,
          got: JSON.stringify(s),
          hint: "list indices are whole numbers counted from 0; negative indices are not supported",
        };
      }
      if (isLast) {
        if (v === null) cur.splice(s, 1);
        else cur[s] = v;
        break;
      }
      const next = cur[s];
      if (typeof next !== "object" || next === null) {
        const created = typeof path[i + 1] === "number" ? [] : {};
        cur[s] = created;
        cur = created;
      } else cur = next as Record<string, unknown>;
      continue;
    }
    const key = String(s);
    if (isLast) {
      // the one merge rule applies here too: null removes the key
      if (v === null) delete cur[key];
      else cur[key] = v;
      break;
    }
    const next = Object.hasOwn(cur, key) ? cur[key] : undefined;
    if (typeof next !== "object" || next === null) {
      const created = typeof path[i + 1] === "number" ? [] : {};
      cur[key] = created;
      cur = created;
    } else cur = next as Record<string, unknown>;
  }
  return undefined;
}
