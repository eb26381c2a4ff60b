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
  return new Interpolation(root, locs).run();
}

/** one interpolation pass: the copies resolved so far, the budgets left, and whether a limit stopped it */
class Interpolation {
  readonly diagnostics: Diagnostic[] = [];
  private readonly done = new Map<string, unknown>();
  // what copies may cost in total (expansion bombs): nodes copied whole, characters embedded
  private nodeBudget = ConfigLimits.maxNodes;
  private charBudget = ConfigLimits.maxInterpolatedChars;
  private stopped = false;

  constructor(
    private readonly root: Record<string, unknown>,
    private readonly locs: LocationMap,
  ) {}

  /** a limit was hit: record it (only the first) and stop copying */
  private stop(d: Diagnostic): void {
    if (!this.stopped) this.diagnostics.push(d);
    this.stopped = true;
  }

  run(): { value: Record<string, unknown>; diagnostics: Diagnostic[] } {
    const { root, diagnostics } = this;
    let value: Record<string, unknown>;
    try {
      value = this.visit(root, [], []) as Record<string, unknown>;
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      // chains of copies nested in nested values: too deep to follow
      this.stop(limitDiagnostic("maxDepth", `\${} copies nest deeper than the interpreter can follow`, {}));
      return { value: root, diagnostics };
    }
    if (!this.stopped) {
      const m = measureValue(value);
      if (m.depth > ConfigLimits.maxDepth) {
        const at = m.deepestPath ?? [];
        this.stop(
          limitDiagnostic(
            "maxDepth",
            `after \${} copies the config nests deeper than ${ConfigLimits.maxDepth} levels`,
            {
              loc: this.locs.nearest(at)?.value,
              path: formatPath(at),
            },
          ),
        );
      }
    }
    return { value, diagnostics };
  }

  /** the value `${target}` names, itself interpolated; `stack` is the chain of copies that led here */
  private lookup(target: string, site: Path, stack: string[]): { ok: boolean; value?: unknown } {
    if (this.stopped) return { ok: false };
    const path = parsePath(target);
    const siteLoc = this.locs.nearest(site)?.value;
    if (path.length > ConfigLimits.maxPathSegments) {
      this.stop(
        limitDiagnostic("maxPathSegments", `\${...} path has ${path.length} segments`, {
          loc: siteLoc,
          path: formatPath(site),
        }),
      );
      return { ok: false };
    }
    const bad = path.find(isForbiddenKey);
    if (bad !== undefined) {
      this.diagnostics.push(forbiddenKeyDiagnostic(String(bad), "path segment", siteLoc, formatPath(site)));
      return { ok: false };
    }
    if (stack.length >= ConfigLimits.maxReferenceChain) {
      this.stop(
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
      this.diagnostics.push({
        code: Codes.referenceCycle,
        message: `interpolation cycle: ${[...stack, key].map((s) => "${" + s + "}").join(" -> ")}`,
        path: formatPath(site),
        loc: this.locs.nearest(site)?.value,
        hint: "a value cannot be defined in terms of itself",
      });
      return { ok: false };
    }
    if (this.done.has(key)) return { ok: true, value: this.done.get(key) };
    const r = getAt(this.root, path);
    if (!r.found) {
      this.diagnostics.push(unknownPath(this.root, path, site, this.locs, "${" + target + "}"));
      return { ok: false };
    }
    const v = this.visit(r.value, path, [...stack, key]);
    this.done.set(key, v);
    return { ok: true, value: v };
  }

  private visitString(s: string, path: Path, stack: string[]): unknown {
    const whole = WHOLE.exec(s);
    if (whole) return this.copyWhole(s, whole[1], path, stack);
    if (!s.includes("${")) return s;
    return this.embed(s, path, stack);
  }

  /** a string that is exactly `${target}`: the value itself (a mapping or list is copied, within the node budget) */
  private copyWhole(s: string, target: string, path: Path, stack: string[]): unknown {
    const r = this.lookup(target.trim(), path, stack);
    if (!r.ok || this.stopped) return s;
    if (r.value !== null && typeof r.value === "object") {
      const n = measureValue(r.value, this.nodeBudget).nodes;
      this.nodeBudget -= n;
      if (this.nodeBudget < 0) {
        this.stop(
          limitDiagnostic(
            "maxNodes",
            `\${} copies make the config larger than ${ConfigLimits.maxNodes.toLocaleString("en-US")} values`,
            {
              loc: this.locs.nearest(path)?.value,
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

  /** `${target}`s embedded in text: each replaced by its scalar's text, within the character budget */
  private embed(s: string, path: Path, stack: string[]): string {
    const out = s.replace(EMBEDDED, (m, esc: string, target: string) => {
      if (esc) return m.slice(1); // $${x} → literal ${x}
      const r = this.lookup(target.trim(), path, stack);
      if (!r.ok) return m;
      if (r.value !== null && typeof r.value === "object") {
        this.diagnostics.push({
          code: Codes.interpolation,
          message: `\${${target}} is a ${Array.isArray(r.value) ? "list" : "mapping"} and cannot be embedded in text`,
          path: formatPath(path),
          loc: this.locs.nearest(path)?.value,
          hint: `write the value as exactly "\${${target}}" to copy it whole`,
        });
        return m;
      }
      return String(r.value);
    });
    this.charBudget -= out.length - s.length;
    if (this.charBudget < 0) {
      this.stop(
        limitDiagnostic(
          "maxInterpolatedChars",
          `\${} writes more than ${ConfigLimits.maxInterpolatedChars.toLocaleString("en-US")} characters`,
          {
            loc: this.locs.nearest(path)?.value,
            path: formatPath(path),
          },
        ),
      );
      return s;
    }
    return out;
  }

  private visit(v: unknown, path: Path, stack: string[]): unknown {
    if (this.stopped) return v;
    if (typeof v === "string") return this.visitString(v, path, stack);
    if (Array.isArray(v)) return v.map((x, i) => this.visit(x, [...path, i], stack));
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.visit(x, [...path, k], stack);
      return out;
    }
    return v;
  }
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
