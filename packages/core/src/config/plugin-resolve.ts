import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";

/**
 * Node's ESM resolution of a package specifier (`pkg`, `@scope/pkg`, `pkg/sub`) from a folder,
 * the way `import` would resolve it from a module in that folder: the nearest `node_modules/<name>`
 * up the tree, then the package's `exports` with the conditions ["node", "import", "default"]
 * (object key order decides, as in Node), else `main`, else `index.js`. Node 20 cannot resolve
 * `import.meta.resolve` against another parent without a flag and `require.resolve` uses the
 * "require" condition, so this is the ESM algorithm written out for the cases packages use.
 */

export const IMPORT_CONDITIONS = ["node", "import", "default"] as const;

export type PluginResolveFailure =
  /** no node_modules/<name> above the folder */
  | { kind: "not-installed"; name: string; searched: string[] }
  /** installed, but nothing ESM can load: no matching export, or the entry file is missing */
  | { kind: "no-entry"; name: string; dir: string; reason: string };

export class PluginResolveError extends Error {
  constructor(readonly failure: PluginResolveFailure) {
    super(
      failure.kind === "not-installed"
        ? `package "${failure.name}" is not installed (looked in ${failure.searched.length} node_modules folders)`
        : `package "${failure.name}" (${failure.dir}) has no usable entry: ${failure.reason}`,
    );
  }
}

/** split `@scope/pkg/sub/path` into the package name and the subpath ("." or "./sub/path") */
export function splitSpecifier(spec: string): { name: string; subpath: string } {
  const parts = spec.split("/");
  const n = spec.startsWith("@") ? 2 : 1;
  const name = parts.slice(0, n).join("/");
  const rest = parts.slice(n);
  return { name, subpath: rest.length ? `./${rest.join("/")}` : "." };
}

/** the folder of an installed package, searching node_modules from `fromDir` up (as Node does) */
export function findPackageDir(name: string, fromDir: string): { dir?: string; searched: string[] } {
  const searched: string[] = [];
  for (let d = resolve(fromDir); ; d = dirname(d)) {
    if (!d.endsWith(`${sep}node_modules`)) {
      const candidate = join(d, "node_modules", name);
      searched.push(join(d, "node_modules"));
      if (existsSync(join(candidate, "package.json"))) return { dir: realpathSync(candidate), searched };
    }
    if (dirname(d) === d) return { searched };
  }
}

type Target = string | null | Target[] | { [condition: string]: Target };

/** resolve one exports target under the import conditions; undefined when nothing matches */
function resolveTarget(t: Target, star: string | undefined): string | undefined {
  if (typeof t === "string") return star === undefined ? t : t.split("*").join(star);
  if (t === null) return undefined;
  if (Array.isArray(t)) {
    for (const x of t) {
      const r = resolveTarget(x, star);
      if (r !== undefined) return r;
    }
    return undefined;
  }
  for (const [cond, x] of Object.entries(t)) {
    if ((IMPORT_CONDITIONS as readonly string[]).includes(cond)) {
      const r = resolveTarget(x, star);
      if (r !== undefined) return r;
    }
  }
  return undefined;
}

/** the exports entry for a subpath (exact key, then the longest matching `*` pattern) */
function exportsEntry(exp: unknown, subpath: string): { target: Target; star?: string } | undefined {
  const isSubpathMap =
    typeof exp === "object" && exp !== null && !Array.isArray(exp) && Object.keys(exp).every((k) => k.startsWith("."));
  const map: Record<string, Target> = isSubpathMap ? (exp as Record<string, Target>) : { ".": exp as Target };
  if (Object.hasOwn(map, subpath)) return { target: map[subpath] };
  let best: { target: Target; star: string; len: number } | undefined;
  for (const [k, target] of Object.entries(map)) {
    const i = k.indexOf("*");
    if (i < 0) continue;
    const [pre, post] = [k.slice(0, i), k.slice(i + 1)];
    if (subpath.startsWith(pre) && subpath.endsWith(post) && subpath.length >= pre.length + post.length) {
      if (!best || pre.length > best.len) {
        best = { target, star: subpath.slice(pre.length, subpath.length - post.length), len: pre.length };
      }
    }
  }
  return best;
}

/** the file an `import` of `spec` from a module in `fromDir` would load; PluginResolveError when none */
export function resolvePackageImport(spec: string, fromDir: string): string {
  const { name, subpath } = splitSpecifier(spec);
  const found = findPackageDir(name, fromDir);
  if (!found.dir) throw new PluginResolveError({ kind: "not-installed", name, searched: found.searched });
  return packageEntry(found.dir, subpath, name);
}

/** the entry of the package in `dir` for `subpath` ("." for the package itself) under the import conditions */
export function packageEntry(dir: string, subpath: string, name: string = dir): string {
  const noEntry = (reason: string) => new PluginResolveError({ kind: "no-entry", name, dir, reason });
  let pkg: { exports?: unknown; main?: unknown };
  try {
    pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  } catch (e) {
    throw noEntry(`its package.json cannot be read: ${(e as Error).message}`);
  }
  const isFile = (f: string) => existsSync(f) && statSync(f).isFile();
  if (pkg.exports !== undefined) {
    const entry = exportsEntry(pkg.exports, subpath);
    if (!entry) throw noEntry(`its "exports" has no "${subpath}" entry`);
    const t = resolveTarget(entry.target, entry.star);
    if (t === undefined) {
      throw noEntry(
        `its "exports" entry "${subpath}" has no target for the import conditions (${IMPORT_CONDITIONS.join(", ")}): ${JSON.stringify(entry.target)}`,
      );
    }
    const file = resolve(dir, t);
    if (!t.startsWith("./") || !(file === dir || file.startsWith(`${dir}${sep}`))) {
      throw noEntry(`its "exports" target "${t}" is not a ./ path inside the package`);
    }
    if (!isFile(file)) throw noEntry(`its entry ${file} does not exist (is the package built? npm run build)`);
    return file;
  }
  // no exports: a subpath is a file in the package; the package itself is `main` (tried as Node's
  // legacy main resolution does: as is, with .js, as a folder's index.js), else index.js
  const rel = subpath !== "." ? subpath : typeof pkg.main === "string" ? pkg.main : "index.js";
  const base = resolve(dir, rel);
  const file = [base, `${base}.js`, join(base, "index.js")].find(isFile);
  if (!file) throw noEntry(`its entry ${base} does not exist (is the package built? npm run build)`);
  return file;
}
