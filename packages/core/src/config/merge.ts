import { isForbiddenKey } from "./limits.js";
import { isPlainObject } from "./paths.js";

/**
 * The one `extends` / override rule: mappings merge key by key, recursively; everything else
 * (lists, scalars) replaces what it overrides. Two escapes: a key set to `null` removes the
 * inherited key, and a mapping with `$replace: true` replaces the inherited mapping instead of
 * merging into it.
 */
export const REPLACE_KEY = "$replace";

export function deepMerge(base: unknown, over: unknown): unknown {
  if (isPlainObject(over) && isPlainObject(base) && over[REPLACE_KEY] !== true) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
      if (isForbiddenKey(k)) continue; // refused (and reported) when the YAML was parsed
      if (v === null) delete out[k];
      else out[k] = Object.hasOwn(base, k) ? deepMerge(base[k], v) : stripReplace(v);
    }
    return out;
  }
  return stripReplace(over);
}

function stripReplace(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripReplace);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== REPLACE_KEY && !isForbiddenKey(k)) out[k] = stripReplace(x);
    return out;
  }
  return v;
}
