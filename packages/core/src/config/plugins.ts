import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { Codes, type Diagnostic, isVoxelpipeError } from "../errors.js";
import { isPluginDefinition, type PluginDefinition } from "../sdk/define.js";
import type { Registries } from "../sdk/registry.js";
import type { LocationMap } from "./source.js";

export interface PluginSpec {
  from: string;
  as?: string;
}

/**
 * Which plugin code a pipeline may load. Plugins are code and run with the user's permissions
 * (like ESLint plugins), so a pipeline may name installed packages (resolved from its folder) and
 * files inside its own project tree; anything else needs the user's explicit permission.
 */
export interface PluginTrust {
  /** plugin files or folders the user allowed outside the project tree (absolute, or relative to the cwd) */
  allow?: readonly string[];
  /** allow plugin paths anywhere on disk (`--allow-plugins-anywhere`) */
  anywhere?: boolean;
}

/**
 * The project tree of a pipeline: the nearest ancestor folder of the pipeline file holding `.git`;
 * without one, the nearest holding a `package.json`; without either, the pipeline's own folder.
 */
export function projectRoot(pipelineDir: string): string {
  const find = (marker: string): string | undefined => {
    for (let d = resolve(pipelineDir); ; d = dirname(d)) {
      if (existsSync(join(d, marker))) return d;
      if (dirname(d) === d) return undefined;
    }
  };
  return find(".git") ?? find("package.json") ?? resolve(pipelineDir);
}

const real = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
};

const inside = (child: string, parent: string): boolean => {
  const r = relative(parent, child);
  return r === "" || (!r.startsWith(`..${sep}`) && r !== ".." && !r.startsWith(sep) && !/^[A-Za-z]:/.test(r));
};

/** a package name, optionally with a subpath: `pkg`, `@scope/pkg`, `pkg/sub/entry.js` (no `..`, no URLs) */
const PACKAGE = /^(@[a-z0-9~][\w.~-]*\/)?[a-z0-9~][\w.~-]*(\/[\w.~@-]+)*$/i;

function isPathSpec(from: string): boolean {
  return from.startsWith(".") || from.startsWith("/") || from.startsWith("\\") || /^[A-Za-z]:/.test(from);
}

/**
 * Check one `plugins:` entry against the trust rule before anything is read or imported;
 * returns the reason it is refused, or undefined when it may load.
 */
export function pluginRefusal(
  from: string,
  baseDir: string,
  trust: PluginTrust,
  cwd: string = process.cwd(),
): Omit<Diagnostic, "loc" | "path"> | undefined {
  if (!isPathSpec(from)) {
    if (PACKAGE.test(from) && !from.split("/").some((s) => s === ".." || s === ".")) return undefined;
    return {
      code: Codes.untrustedPlugin,
      message: `plugin "${from}" is neither an installed package name nor a path`,
      expected: "a package name (`my-plugin`, `@scope/plugin`) or a path starting with ./, ../ or /",
      got: JSON.stringify(from),
    };
  }
  if (trust.anywhere) return undefined;
  const root = projectRoot(baseDir);
  const target = real(resolve(baseDir, from));
  if (inside(target, real(root))) return undefined;
  if ((trust.allow ?? []).some((a) => inside(target, real(resolve(cwd, a))))) return undefined;
  return {
    code: Codes.untrustedPlugin,
    message: `plugin "${from}" is outside this pipeline's project (${root})`,
    expected: "an installed package or a path inside the project tree",
    got: target,
    hint: `plugins are code and run with your permissions; if you trust it, pass --allow-plugin ${target} (or --allow-plugins-anywhere), install it as a package, or move it into the project`,
  };
}

/** Where a plugin entry's module is: a relative path (file or package folder) or a package name. */
export function resolvePluginModule(from: string, baseDir: string): string {
  if (from.startsWith(".") || from.startsWith("/")) {
    const p = resolve(baseDir, from);
    if (!existsSync(p)) throw new Error(`no such file or folder: ${p}`);
    if (statSync(p).isDirectory()) {
      const pkgFile = join(p, "package.json");
      if (!existsSync(pkgFile)) throw new Error(`${p} is a folder without package.json`);
      const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
      const exp = pkg.exports?.["."] ?? pkg.exports;
      const entry = (typeof exp === "string" ? exp : (exp?.import ?? exp?.default)) ?? pkg.main ?? "index.js";
      const file = resolve(p, entry);
      if (!existsSync(file)) throw new Error(`its entry ${file} does not exist (build it first: npm run build)`);
      return file;
    }
    return p;
  }
  return createRequire(join(baseDir, "noop.js")).resolve(from);
}

export async function importPlugin(from: string, baseDir: string): Promise<PluginDefinition> {
  const file = resolvePluginModule(from, baseDir);
  const mod = await import(pathToFileURL(file).href);
  const def = [mod.default, mod.plugin].find(isPluginDefinition);
  if (!def) throw new Error(`${file} does not export a plugin (export default definePlugin({...}))`);
  return def;
}

/**
 * Load the pipeline's `plugins:` entries into the registries; problems become diagnostics. With
 * `trust`, each entry is checked against the trust rule before it is read or imported (compile
 * does this; worker threads reloading an already-compiled pipeline's plugins pass the trust it was
 * compiled with, `PipelineData.trust`).
 */
export async function loadPlugins(
  entries: unknown,
  baseDir: string,
  registries: Registries,
  locs: LocationMap,
  trust?: PluginTrust,
): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  if (!Array.isArray(entries)) return out;
  for (const [i, e] of entries.entries()) {
    const spec: PluginSpec | undefined =
      typeof e === "string" ? { from: e } : typeof e === "object" && e && "from" in e ? (e as PluginSpec) : undefined;
    if (!spec || typeof spec.from !== "string") continue; // shape errors are reported by the schema
    if (trust) {
      const refused = pluginRefusal(spec.from, baseDir, trust);
      if (refused) {
        out.push({ ...refused, path: `plugins[${i}]`, loc: locs.get(["plugins", i])?.value });
        continue;
      }
    }
    try {
      if (trust && isPathSpec(spec.from) && !trust.anywhere) {
        // a package folder inside the tree whose entry points outside it is refused too
        const file = resolvePluginModule(spec.from, baseDir);
        const refused = pluginRefusal(file, baseDir, trust);
        if (refused) {
          out.push({
            ...refused,
            message: `plugin "${spec.from}" has its entry ${file} outside this pipeline's project`,
            path: `plugins[${i}]`,
            loc: locs.get(["plugins", i])?.value,
          });
          continue;
        }
      }
      const def = await importPlugin(spec.from, baseDir);
      registries.use(def, { as: spec.as, source: spec.from });
    } catch (err) {
      const loc = locs.get(["plugins", i])?.value;
      if (isVoxelpipeError(err)) {
        out.push(...err.diagnostics.map((d) => ({ ...d, path: `plugins[${i}]`, loc })));
      } else {
        out.push({
          code: Codes.plugin,
          message: `cannot load plugin "${spec.from}": ${(err as Error).message.split("\n")[0]}`,
          path: `plugins[${i}]`,
          loc,
          hint: spec.from.startsWith(".")
            ? `paths are relative to the pipeline file's folder (${baseDir})`
            : `install it (npm i ${spec.from}) or give a relative path`,
        });
      }
    }
  }
  return out;
}
