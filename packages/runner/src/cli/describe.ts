import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
  Codes,
  type ComponentDefinition,
  findPackageDir,
  importPlugin,
  isVoxelpipeError,
  type Registries,
  type RegistryEntry,
  type StageDefinition,
  validationSlots,
  z,
} from "@voxelpipe/core";

export interface ArgRow {
  name: string;
  type: string;
  default: string;
  required: boolean;
  description: string;
}

/** a compact type string from a JSON Schema node */
function typeOf(s: Record<string, unknown>): string {
  if (s.enum) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(" | ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf || s.oneOf) return ((s.anyOf ?? s.oneOf) as Record<string, unknown>[]).map(typeOf).join(" | ");
  if (s.type === "array") {
    if (Array.isArray(s.prefixItems)) return `[${(s.prefixItems as Record<string, unknown>[]).map(typeOf).join(", ")}]`;
    return `${s.items ? typeOf(s.items as Record<string, unknown>) : "any"}[]`;
  }
  if (s.type === "integer") return "int";
  if (s.type === "object") return s.properties ? "mapping" : "mapping";
  if (typeof s.type === "string") return s.type;
  return "any";
}

export function argRows(entry: RegistryEntry, registries: Registries): ArgRow[] {
  const schema =
    entry.def.kind === "stage"
      ? (entry.def as StageDefinition).schema(validationSlots(registries))
      : (entry.def as ComponentDefinition).args;
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, p]) => ({
    name,
    type: typeOf(p),
    default: p.default === undefined ? "" : JSON.stringify(p.default),
    required: (json.required ?? []).includes(name) && p.default === undefined,
    description: String(p.description ?? ""),
  }));
}

/** one plugin package found in the current project */
export interface InstalledPlugin {
  name: string;
  /** set when it could not be loaded (the reason, for a note) */
  problem?: string;
}

/**
 * Plugins installed in the project around `cwd`, for `list`/`describe` without --pipeline: the
 * dependencies, devDependencies and workspace packages of the nearest package.json that are voxelpipe plugins — they
 * declare the keyword "voxelpipe-plugin" or depend (peer or not) on @voxelpipe/core — loaded
 * through the same resolution and checks as a pipeline's `plugins:` entries. Installed packages are
 * trusted as pipelines trust them (see Trust and safety); the built-in @voxelpipe packages are
 * already registered and are skipped.
 */
export async function loadInstalledPlugins(cwd: string, registries: Registries): Promise<InstalledPlugin[]> {
  let dir = resolve(cwd);
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  const pkgFile = join(dir, "package.json");
  if (!existsSync(pkgFile)) return [];
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
  } catch {
    return [];
  }
  const names = [
    ...new Set([
      ...Object.keys((pkg.dependencies ?? {}) as object),
      ...Object.keys((pkg.devDependencies ?? {}) as object),
      ...workspaceNames(dir, pkg),
    ]),
  ]
    .filter((n) => !n.startsWith("@voxelpipe/"))
    .sort();
  const out: InstalledPlugin[] = [];
  for (const name of names) {
    const found = findPackageDir(name, dir).dir;
    if (!found) continue;
    let meta: { keywords?: unknown; dependencies?: object; peerDependencies?: object };
    try {
      meta = JSON.parse(readFileSync(join(found, "package.json"), "utf8"));
    } catch {
      continue;
    }
    const isPlugin =
      (Array.isArray(meta.keywords) && meta.keywords.includes("voxelpipe-plugin")) ||
      "@voxelpipe/core" in (meta.peerDependencies ?? {}) ||
      "@voxelpipe/core" in (meta.dependencies ?? {});
    if (!isPlugin) continue;
    try {
      registries.use(await importPlugin(name, dir), { source: name });
      out.push({ name });
    } catch (e) {
      // a library that uses core without being a plugin is not worth a note
      if ((e as { code?: unknown }).code === Codes.notAPlugin) continue;
      out.push({ name, problem: isVoxelpipeError(e) ? e.diagnostics[0].message : (e as Error).message });
    }
  }
  return out;
}

/** names of a monorepo's workspace packages (`workspaces: ["plugins/*", "tools/x"]`), which npm links into node_modules */
function workspaceNames(dir: string, pkg: Record<string, unknown>): string[] {
  const patterns = Array.isArray(pkg.workspaces)
    ? pkg.workspaces.filter((w): w is string => typeof w === "string")
    : [];
  const folders = patterns.flatMap((w) => {
    if (!w.endsWith("/*")) return [join(dir, w)];
    const parent = join(dir, w.slice(0, -2));
    return existsSync(parent) ? readdirSync(parent).map((d) => join(parent, d)) : [];
  });
  return folders.flatMap((f) => {
    try {
      const name = JSON.parse(readFileSync(join(f, "package.json"), "utf8")).name;
      return typeof name === "string" ? [name] : [];
    } catch {
      return [];
    }
  });
}
