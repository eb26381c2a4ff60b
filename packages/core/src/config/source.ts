import { readFileSync } from "node:fs";
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { Codes, type Diagnostic, type SourceLocation } from "../errors.js";
import { type Path, pathKey } from "./paths.js";

/** Where each config path came from: the value's position and, for mapping entries, the key's. */
export interface PathLocation {
  value: SourceLocation;
  key?: SourceLocation;
}

/** Source texts by file name, for code frames. */
export type SourceTexts = Map<string, string>;

export class LocationMap {
  private readonly m = new Map<string, PathLocation>();

  set(path: Path, loc: PathLocation): void {
    this.m.set(pathKey(path), loc);
  }

  get(path: Path): PathLocation | undefined {
    return this.m.get(pathKey(path));
  }

  /** the location of the path, or of its nearest ancestor that has one */
  nearest(path: Path): PathLocation | undefined {
    for (let n = path.length; n >= 0; n--) {
      const l = this.m.get(pathKey(path.slice(0, n)));
      if (l) return l;
    }
    return undefined;
  }

  /** drop every location at or under `path` (a subtree was replaced) */
  deleteUnder(path: Path): void {
    const k = pathKey(path);
    for (const key of [...this.m.keys()]) {
      if (key === k || key.startsWith(`${k}\u0001`) || path.length === 0) this.m.delete(key);
    }
  }

  /** lay `other`'s locations over these (a merged file wins over the one it extends) */
  overlay(other: LocationMap): void {
    for (const [k, v] of other.m) this.m.set(k, v);
  }
}

export interface ParsedYaml {
  file: string;
  text: string;
  value: unknown;
  locs: LocationMap;
  diagnostics: Diagnostic[];
}

/** Parse YAML text keeping the position of every key and value. YAML tags that would build objects are refused. */
export function parseYamlWithLocations(text: string, file: string, base: Path = []): ParsedYaml {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, schema: "core" });
  const diagnostics: Diagnostic[] = [];
  // only the first syntax error: the ones after it are usually echoes of it
  for (const e of doc.errors.slice(0, 1)) {
    const pos = lc.linePos(e.pos[0]);
    diagnostics.push({
      code: Codes.yamlSyntax,
      message: `YAML syntax error: ${e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`,
      loc: { file, line: pos.line, col: pos.col },
      hint: "check indentation, brackets and quotes near this position",
    });
  }
  const locs = new LocationMap();
  const at = (offset: number, end?: number): SourceLocation => {
    const p = lc.linePos(offset);
    const len = end !== undefined ? Math.max(1, end - offset) : 1;
    return { file, line: p.line, col: p.col, length: len };
  };
  const walk = (node: Node | null | undefined, path: Path): void => {
    if (!node) return;
    if (node.range) {
      const existing = locs.get(path);
      locs.set(path, { ...existing, value: at(node.range[0], node.range[1]) });
    }
    if (isMap(node)) {
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
        const p = [...path, key];
        const keyNode = item.key as Node | null;
        const keyLoc = keyNode?.range ? at(keyNode.range[0], keyNode.range[1]) : undefined;
        const valueNode = item.value as Node | null;
        const valueLoc = valueNode?.range ? at(valueNode.range[0], valueNode.range[1]) : keyLoc;
        if (valueLoc) locs.set(p, { value: valueLoc, key: keyLoc });
        walk(valueNode, p);
        // keep the key location after walking children
        const l = locs.get(p);
        if (l && keyLoc) locs.set(p, { ...l, key: keyLoc });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        walk(item as Node, [...path, i]);
      });
    }
  };
  if (diagnostics.length === 0) walk(doc.contents as Node, base);
  let value: unknown = null;
  if (diagnostics.length === 0) {
    // custom tags (e.g. !!js/function) are not in the core schema: yaml reports them as warnings
    for (const w of doc.warnings) {
      const pos = lc.linePos(w.pos[0]);
      diagnostics.push({
        code: Codes.yamlSyntax,
        message: `YAML: ${w.message.split("\n")[0]}`,
        loc: { file, line: pos.line, col: pos.col },
        hint: "voxelpipe pipelines are plain data: tags and anchors that execute or construct objects are not supported",
      });
    }
    value = doc.toJS({ maxAliasCount: 100 });
  }
  return { file, text, value, locs, diagnostics };
}

export function readYamlFile(file: string): ParsedYaml {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return {
      file,
      text: "",
      value: null,
      locs: new LocationMap(),
      diagnostics: [
        {
          code: Codes.fileNotFound,
          message: err.code === "ENOENT" ? `pipeline file not found: ${file}` : `cannot read ${file}: ${err.message}`,
          loc: { file, line: 1, col: 1 },
          hint:
            err.code === "ENOENT" ? "check the path (relative paths resolve against the current directory)" : undefined,
        },
      ],
    };
  }
  return parseYamlWithLocations(text, file);
}
