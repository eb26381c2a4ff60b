import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The plugin API this core provides. Plugins record the API of the core they were built with
 * (`definePlugin` stamps it); a core refuses plugins built for another API (VP152). Bump it when
 * a change to the SDK or the component contracts breaks existing plugins.
 */
export const CORE_API_VERSION = 1;

const cache = new Map<string, string>();

/**
 * The `version` of the package a module belongs to, read from the nearest package.json above the
 * module's file (pass `import.meta.url`), so nothing hard-codes a version that drifts from the
 * published one. "0.0.0-unknown" where no package.json can be read (bundled into a browser page).
 */
export function packageVersion(moduleUrl: string): string {
  const hit = cache.get(moduleUrl);
  if (hit) return hit;
  let version = "0.0.0-unknown";
  try {
    for (let d = dirname(fileURLToPath(moduleUrl)); ; d = dirname(d)) {
      const f = join(d, "package.json");
      if (existsSync(f)) {
        const pkg = JSON.parse(readFileSync(f, "utf8")) as { version?: unknown; name?: unknown };
        // a package.json without a name (e.g. a {"type":"module"} marker in dist/) is not the package
        if (typeof pkg.name !== "string") continue;
        if (typeof pkg.version === "string") version = pkg.version;
        break;
      }
      if (dirname(d) === d) break;
    }
  } catch {
    // not a file URL or unreadable: keep the fallback
  }
  cache.set(moduleUrl, version);
  return version;
}

/** this core's own package version */
export const CORE_VERSION: string = packageVersion(import.meta.url);
