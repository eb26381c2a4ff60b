import { existsSync, realpathSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { Codes, type Diagnostic, isVoxelpipeError, VoxelpipeError } from "../errors.js";
import { isPluginDefinition, type PluginDefinition } from "../sdk/define.js";
import type { Registries } from "../sdk/registry.js";
import { PluginResolveError, type PluginResolveFailure, packageEntry, resolvePackageImport } from "./plugin-resolve.js";
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

/** A `plugins:` entry that cannot be loaded, with what the user should do about it (loadPlugins adds where). */
function loadError(code: string, from: string, message: string, hint: string): VoxelpipeError {
  return new VoxelpipeError({ code, message, got: JSON.stringify(from), hint });
}

/**
 * Where a plugin entry's module is: a path (a file, or a package folder whose entry is read as
 * Node's ESM resolution would), or a package specifier resolved from `baseDir` with Node's ESM
 * resolution (import conditions). Throws PluginResolveError (not installed / no usable entry).
 */
export function resolvePluginModule(from: string, baseDir: string): string {
  if (isPathSpec(from)) {
    const p = resolve(baseDir, from);
    if (!existsSync(p)) throw new Error(`no such file or folder: ${p}`);
    if (statSync(p).isDirectory()) {
      if (!existsSync(join(p, "package.json"))) throw new Error(`${p} is a folder without package.json`);
      return packageEntry(p, ".");
    }
    return p;
  }
  return resolvePackageImport(from, baseDir);
}

/** what a failed resolution means for the user: not installed, or installed without a usable entry */
function resolveFailure(from: string, baseDir: string, f: PluginResolveFailure): VoxelpipeError {
  if (f.kind === "not-installed") {
    return loadError(
      Codes.pluginNotInstalled,
      from,
      `plugin package "${f.name}" is not installed where this pipeline is (searched node_modules from ${baseDir} up)`,
      `install it in the pipeline's project: cd ${projectRoot(baseDir)} && npm install ${f.name} (or write a path: ./..., ../...)`,
    );
  }
  return loadError(
    Codes.pluginEntry,
    from,
    `plugin package "${from}" is installed (${f.dir}) but has no entry an ES module import can load: ${f.reason}`,
    `a plugin package needs "exports": { ".": { "types": ..., "import": "./dist/index.js" } } (or "default"/"main") pointing at a built file; if it is yours, build it (npm run build)`,
  );
}

/**
 * Import a plugin entry's module and return its definition. `file` is where the entry resolved to,
 * when the caller resolved it already (loadPlugins, to check its trust); else it is resolved here.
 */
export async function importPlugin(from: string, baseDir: string, file?: string): Promise<PluginDefinition> {
  if (file === undefined) {
    try {
      file = resolvePluginModule(from, baseDir);
    } catch (e) {
      if (e instanceof PluginResolveError) throw resolveFailure(from, baseDir, e.failure);
      throw e;
    }
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    throw loadError(
      Codes.plugin,
      from,
      `plugin "${from}" failed to load (${file}): ${String((e as Error)?.message ?? e).split("\n")[0]}`,
      "the plugin's module threw while loading: are its own dependencies installed, and is it built for this Node version?",
    );
  }
  const def = [mod.default, mod.plugin].find(isPluginDefinition);
  if (!def) {
    throw loadError(
      Codes.notAPlugin,
      from,
      `"${from}" loads (${file}) but is not a voxelpipe plugin: it exports ${Object.keys(mod).length ? Object.keys(mod).join(", ") : "nothing"}`,
      'a plugin\'s module default-exports definePlugin({ meta, components }) from @voxelpipe/core (or exports it as "plugin")',
    );
  }
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
      // resolved once: the module checked is the module imported
      let file: string | undefined;
      if (trust && isPathSpec(spec.from) && !trust.anywhere) {
        // a package folder inside the tree whose entry points outside it is refused too
        file = resolvePluginModule(spec.from, baseDir);
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
      const def = await importPlugin(spec.from, baseDir, file);
      registries.use(def, { as: spec.as, source: spec.from });
    } catch (err0) {
      const err = err0 instanceof PluginResolveError ? resolveFailure(spec.from, baseDir, err0.failure) : err0;
      const loc = locs.get(["plugins", i])?.value;
      const path = `plugins[${i}]`;
      if (isVoxelpipeError(err)) {
        out.push(...err.diagnostics.map((d) => ({ ...d, path, loc })));
      } else {
        out.push({
          code: Codes.plugin,
          message: `cannot load plugin "${spec.from}": ${(err as Error).message.split("\n")[0]}`,
          path,
          loc,
          hint: `paths are relative to the pipeline file's folder (${baseDir}); package names are looked up in node_modules from there up`,
        });
      }
    }
  }
  return out;
}
