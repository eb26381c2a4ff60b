import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Codes, type Diagnostic, isVoxelpipeError } from "../errors.js";
import { isPluginDefinition, type PluginDefinition } from "../sdk/define.js";
import type { Registries } from "../sdk/registry.js";
import type { LocationMap } from "./source.js";

export interface PluginSpec {
  from: string;
  as?: string;
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

/** Load the pipeline's `plugins:` entries into the registries; problems become diagnostics. */
export async function loadPlugins(
  entries: unknown,
  baseDir: string,
  registries: Registries,
  locs: LocationMap,
): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  if (!Array.isArray(entries)) return out;
  for (const [i, e] of entries.entries()) {
    const spec: PluginSpec | undefined =
      typeof e === "string" ? { from: e } : typeof e === "object" && e && "from" in e ? (e as PluginSpec) : undefined;
    if (!spec) continue; // shape errors are reported by the schema
    try {
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
