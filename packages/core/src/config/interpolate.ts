import { Codes, type Diagnostic } from "../errors.js";
import { didYouMean } from "../suggest.js";
import { ConfigLimits, forbiddenKeyDiagnostic, isForbiddenKey, limitDiagnostic, measureValue } from "./limits.js";
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
  // what copies may cost in total (expansion bombs): nodes copied whole, characters embedded
  let nodeBudget = ConfigLimits.maxNodes;
  let charBudget = ConfigLimits.maxInterpolatedChars;
  let stopped = false;
  const stop = (d: Diagnostic) => {
    if (!stopped) diagnostics.push(d);
    stopped = true;
  };

  const lookup = (target: string, site: Path, stack: string[]): { ok: boolean; value?: unknown } => {
    if (stopped) return { ok: false };
    const path = parsePath(target);
    const siteLoc = locs.nearest(site)?.value;
    if (path.length > ConfigLimits.maxPathSegments) {
      stop(
        limitDiagnostic("maxPathSegments", `\${...} path has ${path.length} segments`, {
          loc: siteLoc,
          path: formatPath(site),
        }),
      );
      return { ok: false };
    }
    const bad = path.find(isForbiddenKey);
    if (bad !== undefined) {
      diagnostics.push(forbiddenKeyDiagnostic(String(bad), "path segment", siteLoc, formatPath(site)));
      return { ok: false };
    }
    if (stack.length >= ConfigLimits.maxReferenceChain) {
      stop(
        limitDiagnostic(
          "maxReferenceChain",
          `\${} chain longer than ${ConfigLimits.maxReferenceChain} steps (${stack
            .slice(0, 3)
            .map((k) => "${" + k + "}")
            .join(" -> ")} -> ...)`,
          { loc: siteLoc, path: formatPath(site) },
        ),
      );
      return { ok: false };
    }
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
      if (!r.ok || stopped) return s;
      if (r.value !== null && typeof r.value === "object") {
        const n = measureValue(r.value, nodeBudget).nodes;
        nodeBudget -= n;
        if (nodeBudget < 0) {
          stop(
            limitDiagnostic(
              "maxNodes",
              `\${} copies make the config larger than ${ConfigLimits.maxNodes.toLocaleString("en-US")} values`,
              {
                loc: locs.nearest(path)?.value,
                path: formatPath(path),
              },
            ),
          );
          return s;
        }
        return structuredClone(r.value);
      }
      return r.value;
    }
    if (!s.includes("${")) return s;
    const out = s.replace(EMBEDDED, (m, esc: string, target: string) => {
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
    charBudget -= out.length - s.length;
    if (charBudget < 0) {
      stop(
        limitDiagnostic(
          "maxInterpolatedChars",
          `\${} writes more than ${ConfigLimits.maxInterpolatedChars.toLocaleString("en-US")} characters`,
          {
            loc: locs.nearest(path)?.value,
            path: formatPath(path),
          },
        ),
      );
      return s;
    }
    return out;
  };

  const visit = (v: unknown, path: Path, stack: string[]): unknown => {
    if (stopped) return v;
    if (typeof v === "string") return visitString(v, path, stack);
    if (Array.isArray(v)) return v.map((x, i) => visit(x, [...path, i], stack));
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = visit(x, [...path, k], stack);
      return out;
    }
    return v;
  };

  let value: Record<string, unknown>;
  try {
    value = visit(root, [], []) as Record<string, unknown>;
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    // chains of copies nested in nested values: too deep to follow
    stop(limitDiagnostic("maxDepth", `\${} copies nest deeper than the interpreter can follow`, {}));
    return { value: root, diagnostics };
  }
  if (!stopped) {
    const m = measureValue(value);
    if (m.depth > ConfigLimits.maxDepth) {
      const at = m.deepestPath ?? [];
      stop(
        limitDiagnostic("maxDepth", `after \${} copies the config nests deeper than ${ConfigLimits.maxDepth} levels`, {
          loc: locs.nearest(at)?.value,
          path: formatPath(at),
        }),
      );
    }
  }
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
