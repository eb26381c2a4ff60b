import { Codes, type Diagnostic } from "../errors.js";
import { didYouMean } from "../suggest.js";
import { formatPath, getAt, isPlainObject, type Path, parsePath } from "./paths.js";
import type { LocationMap } from "./source.js";

const WHOLE = /^\$\{([^${}]+)\}$/;
const EMBEDDED = /(\$?)\$\{([^${}]+)\}/g;

/**
 * `${path}` copies a value from elsewhere in the config: a string that is exactly `${path}` takes
 * the value itself (a list stays a list), one embedded in text is replaced by the scalar's text.
 * `$${` writes a literal `${`. Interpolation is data copying only: nothing is ever evaluated.
 */
export function interpolate(
  root: Record<string, unknown>,
  locs: LocationMap,
): { value: Record<string, unknown>; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const done = new Map<string, unknown>();

  const lookup = (target: string, site: Path, stack: string[]): { ok: boolean; value?: unknown } => {
    const path = parsePath(target);
    const key = formatPath(path);
    if (stack.includes(key)) {
      diagnostics.push({
        code: Codes.referenceCycle,
        message: `interpolation cycle: ${[...stack, key].map((s) => "${" + s + "}").join(" -> ")}`,
        path: formatPath(site),
        loc: locs.nearest(site)?.value,
        hint: "a value cannot be defined in terms of itself",
      });
      return { ok: false };
    }
    if (done.has(key)) return { ok: true, value: done.get(key) };
    const r = getAt(root, path);
    if (!r.found) {
      diagnostics.push(unknownPath(root, path, site, locs, "${" + target + "}"));
      return { ok: false };
    }
    const v = visit(r.value, path, [...stack, key]);
    done.set(key, v);
    return { ok: true, value: v };
  };

  const visitString = (s: string, path: Path, stack: string[]): unknown => {
    const whole = WHOLE.exec(s);
    if (whole) {
      const r = lookup(whole[1].trim(), path, stack);
      return r.ok ? structuredClone(r.value) : s;
    }
    if (!s.includes("${")) return s;
    return s.replace(EMBEDDED, (m, esc: string, target: string) => {
      if (esc) return m.slice(1); // $${x} → literal ${x}
      const r = lookup(target.trim(), path, stack);
      if (!r.ok) return m;
      if (r.value !== null && typeof r.value === "object") {
        diagnostics.push({
          code: Codes.interpolation,
          message: `\${${target}} is a ${Array.isArray(r.value) ? "list" : "mapping"} and cannot be embedded in text`,
          path: formatPath(path),
          loc: locs.nearest(path)?.value,
          hint: `write the value as exactly "\${${target}}" to copy it whole`,
        });
        return m;
      }
      return String(r.value);
    });
  };

  const visit = (v: unknown, path: Path, stack: string[]): unknown => {
    if (typeof v === "string") return visitString(v, path, stack);
    if (Array.isArray(v)) return v.map((x, i) => visit(x, [...path, i], stack));
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = visit(x, [...path, k], stack);
      return out;
    }
    return v;
  };

  const value = visit(root, [], []) as Record<string, unknown>;
  return { value, diagnostics };
}

/** a dangling `${path}` / `@path`: say where the path stops matching and what was there */
export function unknownPath(root: unknown, path: Path, site: Path, locs: LocationMap, shown: string): Diagnostic {
  let i = 0;
  let cur: unknown = root;
  for (; i < path.length; i++) {
    const r = getAt(cur, [path[i]]);
    if (!r.found) break;
    cur = r.value;
  }
  const missing = path[i];
  const candidates = isPlainObject(cur) ? Object.keys(cur) : [];
  const parent = formatPath(path.slice(0, i)) || "the top level";
  return {
    code: Codes.danglingReference,
    message: `${shown} refers to "${formatPath(path)}", which does not exist`,
    path: formatPath(site),
    loc: locs.nearest(site)?.value,
    expected: candidates.length ? `a key of ${parent}: ${candidates.join(", ")}` : `a path that exists in the pipeline`,
    got: JSON.stringify(missing),
    hint: typeof missing === "string" ? didYouMean(missing, candidates) : undefined,
  };
}
