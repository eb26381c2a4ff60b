import { Codes, type Diagnostic, type SourceLocation } from "../errors.js";

/**
 * Everything a pipeline config can cost is bounded, and every bound lives here. A config that
 * crosses one gets a VP013 diagnostic naming the limit (and how to raise it where raising makes
 * sense) instead of a hang, a stack overflow or an out-of-memory crash.
 */
export const ConfigLimits = {
  /**
   * Bytes of one pipeline file (the file itself and each file it `extends`), checked before
   * parsing: the YAML parser is super-linear on some inputs (a 4 MB quoted scalar takes 22 s).
   * Raise with `--max-pipeline-bytes <n>` or the VOXELPIPE_MAX_PIPELINE_BYTES environment variable.
   */
  maxFileBytes: 1024 * 1024,
  /** nesting of mappings and lists (YAML files, `--set` values, after `${}` copies) */
  maxDepth: 64,
  /** alias expansions (`*name`) per YAML document (billion laughs) */
  maxAliases: 100,
  /** segments of one config path (`--set a.b.c`, `${a.b.c}`, `@a.b.c`, sweep grid keys) */
  maxPathSegments: 64,
  /** files in one `extends` chain */
  maxExtendsDepth: 16,
  /** length of a chain of `${}` interpolations (`${a}` → `${b}` → ...) and of `@` references */
  maxReferenceChain: 32,
  /** mapping/list/scalar nodes the whole config may hold after `${}` copies (expansion bombs) */
  maxNodes: 200_000,
  /** characters `${}` may write into strings in total */
  maxInterpolatedChars: 4 * 1024 * 1024,
} as const;

export type ConfigLimitName = keyof typeof ConfigLimits;

/** The environment variable that raises the file size cap. */
export const MAX_PIPELINE_BYTES_ENV = "VOXELPIPE_MAX_PIPELINE_BYTES";

/** The pipeline file size cap in effect: an explicit value, else the environment variable, else the default. */
export function maxFileBytes(explicit?: number): number {
  if (explicit !== undefined && Number.isFinite(explicit) && explicit > 0) return explicit;
  const env = process.env[MAX_PIPELINE_BYTES_ENV];
  if (env !== undefined && /^\d+$/.test(env.trim()) && Number(env) > 0) return Number(env);
  return ConfigLimits.maxFileBytes;
}

/** Keys that name JavaScript object machinery, never config: refused as YAML keys and path segments. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

export function isForbiddenKey(k: unknown): boolean {
  return typeof k === "string" && FORBIDDEN_KEYS.has(k);
}

/** the first forbidden segment of a path, if any */
export function forbiddenSegment(path: readonly (string | number)[]): string | undefined {
  for (const s of path) if (isForbiddenKey(s)) return s as string;
  return undefined;
}

export function forbiddenKeyDiagnostic(key: string, where: string, loc?: SourceLocation, path?: string): Diagnostic {
  return {
    code: Codes.forbiddenKey,
    message: `"${key}" cannot be used as a ${where}`,
    loc,
    path,
    expected: "a config key (not __proto__, constructor or prototype)",
    got: JSON.stringify(key),
    hint: "these names are JavaScript object machinery, not configuration; rename the key",
  };
}

const RAISE: Partial<Record<ConfigLimitName, string>> = {
  maxFileBytes: `pass --max-pipeline-bytes <n> or set ${MAX_PIPELINE_BYTES_ENV}=<n> if this file is meant to be this large`,
};

/** A diagnostic for a crossed limit: what it is, its value, and how to raise it where that makes sense. */
export function limitDiagnostic(
  limit: ConfigLimitName,
  message: string,
  extra: { loc?: SourceLocation; path?: string; got?: string; value?: number } = {},
): Diagnostic {
  const value = extra.value ?? ConfigLimits[limit];
  return {
    code: Codes.limitExceeded,
    message,
    loc: extra.loc,
    path: extra.path,
    expected: `at most ${value.toLocaleString("en-US")} (limit ${limit})`,
    got: extra.got,
    hint:
      RAISE[limit] ??
      "this limit keeps a config from costing unbounded time or memory; restructure the config to stay within it",
  };
}

/**
 * Depth and node count of a plain value, measured without recursion (so a value nested far too
 * deep is measured, not a stack overflow). Stops counting once `maxNodes` is passed.
 */
export function measureValue(
  v: unknown,
  maxNodes: number = ConfigLimits.maxNodes,
): { depth: number; nodes: number; deepestPath?: (string | number)[] } {
  let depth = 0;
  let nodes = 0;
  let deepest: { v: unknown; d: number; parent: number; key: string | number } | undefined;
  const stack: { v: unknown; d: number; key: string | number; parent: number }[] = [{ v, d: 0, key: "", parent: -1 }];
  const trail: { key: string | number; parent: number }[] = [];
  while (stack.length) {
    const item = stack.pop()!;
    nodes++;
    if (nodes > maxNodes) break;
    const idx = trail.length;
    trail.push({ key: item.key, parent: item.parent });
    if (item.d > depth) {
      depth = item.d;
      deepest = { ...item, parent: idx };
    }
    if (Array.isArray(item.v))
      for (const [i, x] of item.v.entries()) stack.push({ v: x, d: item.d + 1, key: i, parent: idx });
    else if (item.v !== null && typeof item.v === "object")
      for (const [k, x] of Object.entries(item.v)) stack.push({ v: x, d: item.d + 1, key: k, parent: idx });
  }
  let deepestPath: (string | number)[] | undefined;
  if (deepest) {
    deepestPath = [];
    for (let i = deepest.parent; i > 0; i = trail[i].parent) deepestPath.unshift(trail[i].key);
  }
  return { depth, nodes, deepestPath };
}
