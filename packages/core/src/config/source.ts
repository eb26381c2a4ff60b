import { closeSync, openSync, readSync, statSync } from "node:fs";
import { basename } from "node:path";
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { Codes, type Diagnostic, type SourceLocation } from "../errors.js";
import {
  ConfigLimits,
  forbiddenKeyDiagnostic,
  isForbiddenKey,
  limitDiagnostic,
  maxFileBytes,
  measureValue,
} from "./limits.js";
import { formatPath, type Path, pathKey } from "./paths.js";

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
  // Long by design: the checks run in order over one parsed document and stop at the first that fails (syntax,
  // then depth and forbidden keys without recursion, then locations, tags and alias expansion); they share the
  // line counter, the diagnostics and the early return.
  const lc = new LineCounter();
  const diagnostics: Diagnostic[] = [];
  const none = (): ParsedYaml => ({ file, text, value: null, locs: new LocationMap(), diagnostics });
  const at = (offset: number, end?: number): SourceLocation => {
    const p = lc.linePos(offset);
    const len = end !== undefined ? Math.max(1, end - offset) : 1;
    return { file, line: p.line, col: p.col, length: len };
  };
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, schema: "core" });
  } catch (e) {
    // the parser recurses per nesting level: far too deep a document overflows its stack
    if (e instanceof RangeError) {
      diagnostics.push(
        limitDiagnostic("maxDepth", `nesting deeper than ${ConfigLimits.maxDepth} levels`, {
          loc: { file, line: 1, col: 1 },
        }),
      );
      return none();
    }
    throw e;
  }
  // only the first syntax error: the ones after it are usually echoes of it
  for (const e of doc.errors.slice(0, 1)) {
    const pos = lc.linePos(e.pos[0]);
    if (/call stack/i.test(e.message)) {
      diagnostics.push(
        limitDiagnostic("maxDepth", `nesting deeper than ${ConfigLimits.maxDepth} levels`, {
          loc: { file, line: pos.line, col: pos.col },
        }),
      );
      continue;
    }
    diagnostics.push({
      code: Codes.yamlSyntax,
      message: `YAML syntax error: ${e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`,
      loc: { file, line: pos.line, col: pos.col },
      hint: "check indentation, brackets and quotes near this position",
    });
  }
  if (diagnostics.length) return none();
  // structure first, without recursion: depth, forbidden keys, the first alias (for the alias limit)
  let firstAlias: SourceLocation | undefined;
  const todo: { node: unknown; depth: number; path: Path }[] = [{ node: doc.contents, depth: base.length, path: base }];
  while (todo.length && diagnostics.length === 0) {
    const { node, depth, path } = todo.pop()!;
    const range = (node as Node | null)?.range;
    if (isAlias(node) && !firstAlias && range) firstAlias = at(range[0], range[1]);
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth >= ConfigLimits.maxDepth) {
      diagnostics.push(
        limitDiagnostic("maxDepth", `nesting deeper than ${ConfigLimits.maxDepth} levels`, {
          loc: range ? at(range[0], range[1]) : { file, line: 1, col: 1 },
          path: formatPath(path),
        }),
      );
      break;
    }
    if (isMap(node)) {
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
        const keyRange = (item.key as Node | null)?.range;
        if (isForbiddenKey(key)) {
          diagnostics.push(
            forbiddenKeyDiagnostic(
              key,
              "key",
              keyRange ? at(keyRange[0], keyRange[1]) : undefined,
              formatPath([...path, key]),
            ),
          );
          break;
        }
        if (isMap(item.key) || isSeq(item.key)) todo.push({ node: item.key, depth: depth + 1, path });
        todo.push({ node: item.value, depth: depth + 1, path: [...path, key] });
      }
    } else
      node.items.forEach((item, i) => {
        todo.push({ node: item, depth: depth + 1, path: [...path, i] });
      });
  }
  if (diagnostics.length) return none();
  const locs = new LocationMap();
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
  walk(doc.contents as Node, base);
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
  if (diagnostics.length) return { file, text, value: null, locs, diagnostics };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: ConfigLimits.maxAliases });
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    diagnostics.push(
      /alias/i.test(msg)
        ? limitDiagnostic("maxAliases", `aliases expand to more than ${ConfigLimits.maxAliases} copies`, {
            loc: firstAlias ?? { file, line: 1, col: 1 },
          })
        : {
            code: Codes.yamlSyntax,
            message: `YAML: ${msg.split("\n")[0]}`,
            loc: firstAlias ?? { file, line: 1, col: 1 },
          },
    );
    return { file, text, value: null, locs, diagnostics };
  }
  // aliases can nest a copy inside a copy: measure what came out
  const m = measureValue(value, ConfigLimits.maxNodes);
  if (m.depth + base.length > ConfigLimits.maxDepth || m.nodes > ConfigLimits.maxNodes) {
    const deep = m.depth + base.length > ConfigLimits.maxDepth;
    diagnostics.push(
      deep
        ? limitDiagnostic("maxDepth", `nesting deeper than ${ConfigLimits.maxDepth} levels`, {
            loc: firstAlias ?? { file, line: 1, col: 1 },
          })
        : limitDiagnostic("maxNodes", `more than ${ConfigLimits.maxNodes.toLocaleString("en-US")} values`, {
            loc: firstAlias ?? { file, line: 1, col: 1 },
          }),
    );
    return { file, text, value: null, locs, diagnostics };
  }
  return { file, text, value, locs, diagnostics };
}

export interface ReadOptions {
  /** the file size cap (default: maxFileBytes()) */
  maxBytes?: number;
  /** what the file is, for messages: "pipeline file" or "extended file" */
  what?: string;
}

const YAML_EXT = /\.ya?ml$/i;

/**
 * Read and parse one pipeline file. Only a regular file with a .yaml/.yml extension, at most
 * `maxBytes` long, is read (a device, FIFO, folder or /etc/passwd is refused before reading, so
 * its content can never appear in a code frame).
 */
export function readYamlFile(file: string, opts: ReadOptions = {}): ParsedYaml {
  const what = opts.what ?? "pipeline file";
  const cap = maxFileBytes(opts.maxBytes);
  const refuse = (d: Omit<Diagnostic, "loc">): ParsedYaml => ({
    file,
    text: "",
    value: null,
    locs: new LocationMap(),
    diagnostics: [{ ...d, loc: { file, line: 1, col: 1 } }],
  });
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) {
      return refuse({
        code: Codes.notPipelineFile,
        message: `${what} ${file} is not a regular file`,
        expected: "a .yaml or .yml file",
        got: st.isDirectory() ? "a folder" : "a device, pipe or socket",
      });
    }
    if (!YAML_EXT.test(file)) {
      return refuse({
        code: Codes.notPipelineFile,
        message: `${what} ${file} is not a YAML file`,
        expected: "a file ending in .yaml or .yml",
        got: JSON.stringify(basename(file)),
        hint: "pipelines (and the files they extend) are YAML files with a .yaml or .yml extension",
      });
    }
    if (st.size > cap) return refuse(sizeDiagnostic(what, file, st.size, cap));
    // read at most cap + 1 bytes, whatever the file does meanwhile
    const fd = openSync(file, "r");
    try {
      const buf = Buffer.alloc(Math.min(st.size, cap) + 1);
      let n = 0;
      for (let r = 1; r > 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, n);
      if (n > cap) return refuse(sizeDiagnostic(what, file, n, cap));
      text = buf.subarray(0, n).toString("utf8");
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return refuse({
      code: Codes.fileNotFound,
      message: err.code === "ENOENT" ? `${what} not found: ${file}` : `cannot read ${file}: ${err.message}`,
      hint: err.code === "ENOENT" ? "check the path (relative paths resolve against the current directory)" : undefined,
    });
  }
  return parseYamlWithLocations(text, file);
}

function sizeDiagnostic(what: string, file: string, size: number, cap: number): Omit<Diagnostic, "loc"> {
  const d = limitDiagnostic("maxFileBytes", `${what} ${file} is larger than ${cap.toLocaleString("en-US")} bytes`, {
    value: cap,
    got: `${size.toLocaleString("en-US")}${size > cap + 1 ? "" : "+"} bytes`,
  });
  const { loc: _loc, ...rest } = d;
  return rest;
}
