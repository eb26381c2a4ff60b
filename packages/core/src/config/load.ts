import { dirname, resolve } from "node:path";
import { Codes, type Diagnostic } from "../errors.js";
import { deepMerge } from "./merge.js";
import { isPlainObject, type Path, parsePath } from "./paths.js";
import { LocationMap, parseYamlWithLocations, readYamlFile, type SourceTexts } from "./source.js";

/** A pipeline after `extends` and `--set` overrides, before interpolation and validation. */
export interface RawPipeline {
  file: string;
  value: Record<string, unknown>;
  locs: LocationMap;
  texts: SourceTexts;
  diagnostics: Diagnostic[];
}

/** Load a pipeline file with everything it extends, then apply `--set path=value` overrides (parsed as YAML). */
export function loadPipeline(file: string, overrides: readonly string[] = []): RawPipeline {
  const texts: SourceTexts = new Map();
  const diagnostics: Diagnostic[] = [];
  const abs = resolve(file);
  const merged = loadWithExtends(abs, [], texts, diagnostics);
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
): { value: unknown; locs: LocationMap } {
  const parsed = readYamlFile(file);
  if (!parsed.diagnostics.some((d) => d.code === Codes.fileNotFound)) texts.set(file, parsed.text);
  diagnostics.push(...parsed.diagnostics);
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
  for (const rel of list as string[]) {
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
    const r = loadWithExtends(target, [...chain, file], texts, diagnostics);
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
  const path = parsePath(text.slice(0, eq).trim());
  const parsed = parseYamlWithLocations(text.slice(eq + 1), pseudo, path);
  if (parsed.diagnostics.length) {
    return {
      diagnostic: {
        ...parsed.diagnostics[0],
        code: Codes.override,
        message: `in override "${text}": ${parsed.diagnostics[0].message}`,
      },
    };
  }
  // positions inside the value are relative to the value text: shift them past "path="
  const locs = new LocationMap();
  const top = {
    value: { file: pseudo, line: 1, col: eq + 2, length: Math.max(1, text.length - eq - 1) },
    key: { file: pseudo, line: 1, col: 1, length: eq },
  };
  locs.set(path, top);
  const value = structuredClone(root);
  let cur: Record<string, unknown> | unknown[] = value;
  for (let i = 0; i < path.length - 1; i++) {
    const s = path[i];
    const next = (cur as Record<string, unknown>)[s as string];
    if (typeof next !== "object" || next === null) {
      const created = typeof path[i + 1] === "number" ? [] : {};
      (cur as Record<string, unknown>)[s as string] = created;
      cur = created;
    } else cur = next as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last === undefined) {
    return { diagnostic: { code: Codes.override, message: `override "${text}" has an empty path`, loc: top.key } };
  }
  // the one merge rule applies here too: null removes the key
  if (parsed.value === null) delete (cur as Record<string, unknown>)[last as string];
  else (cur as Record<string, unknown>)[last as string] = parsed.value;
  return { value, path, locs };
}
