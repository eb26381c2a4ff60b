/**
 * Config paths. Internally a path is a list of segments (keys and array indices); users see it
 * dotted with indices in brackets: `stages.train.transforms.train[2].prob`. `--set` and `@`/`${}`
 * references accept the dotted form with numeric segments (`a.b.0.c`) or brackets.
 */
export type Segment = string | number;
export type Path = Segment[];

export function formatPath(path: readonly Segment[]): string {
  let out = "";
  for (const s of path) {
    if (typeof s === "number") out += `[${s}]`;
    else out += out ? `.${s}` : s;
  }
  return out;
}

/** key used in location maps (stable, unambiguous) */
export function pathKey(path: readonly Segment[]): string {
  return path.map((s) => (typeof s === "number" ? `#${s}` : s)).join("\u0001");
}

export function parsePath(text: string): Path {
  const out: Path = [];
  for (const part of text.replace(/\[(\d+)\]/g, ".$1").split(".")) {
    if (part === "") continue;
    out.push(/^\d+$/.test(part) ? Number(part) : part);
  }
  return out;
}

export function getAt(root: unknown, path: readonly Segment[]): { found: boolean; value?: unknown } {
  let cur: unknown = root;
  for (const s of path) {
    if (Array.isArray(cur) && typeof s === "number" && s < cur.length) cur = cur[s];
    else if (isPlainObject(cur) && typeof s === "string" && Object.hasOwn(cur, s)) cur = cur[s];
    else if (isPlainObject(cur) && typeof s === "number" && Object.hasOwn(cur, String(s))) cur = cur[String(s)];
    else return { found: false };
  }
  return { found: true, value: cur };
}

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
}

export function clone<T>(x: T): T {
  return structuredClone(x);
}
