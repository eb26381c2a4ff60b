/**
 * `@` references: the one parser. A reference is a string value starting with `@` and an
 * identifier character; what follows is a config path (`@stages.fit.model`, `@vars.crop[0]`).
 * Two kinds:
 * - an **output** reference, `@stages.<stage>.outputs.<key>`: a path an upstream stage publishes
 *   when it finishes (known only at run time);
 * - a **config** reference, anything else: a place in the resolved pipeline (a component entry to
 *   share, a list to reuse), known at compile time.
 * Everything that reads references (validation, compilation, the component resolver, the
 * executor, preflight, fingerprints, the JSON Schema) goes through this file.
 */
import { z } from "zod";
import { getAt, type Path, parsePath } from "./paths.js";

/** the reference pattern, as a regular-expression source (also used in the JSON Schema) */
export const REFERENCE_SOURCE = "^@[A-Za-z_]";
const REFERENCE = new RegExp(REFERENCE_SOURCE);

export type Reference =
  | {
      kind: "output";
      text: string;
      path: Path;
      stage: string;
      /** the output key; undefined when the path stops at `outputs` (compile reports it) */
      output: string | undefined;
      /** segments after the output key (none in a valid reference; compile reports them) */
      rest: Path;
    }
  | { kind: "config"; text: string; path: Path };

export function isReference(v: unknown): v is string {
  return typeof v === "string" && REFERENCE.test(v);
}

/** the parsed reference, or undefined when `v` is not one */
export function parseReference(v: unknown): Reference | undefined {
  if (!isReference(v)) return undefined;
  const path = parsePath(v.slice(1));
  if (path[0] === "stages" && path[2] === "outputs" && typeof path[1] === "string") {
    const out = path[3];
    return {
      kind: "output",
      text: v,
      path,
      stage: path[1],
      output: typeof out === "string" ? out : undefined,
      rest: path.slice(4),
    };
  }
  return { kind: "config", text: v, path };
}

/** `{ stage, output }` of an `@stages.<s>.outputs.<k>` reference, else undefined */
export function outputReference(v: unknown): { stage: string; output: string } | undefined {
  const r = parseReference(v);
  return r?.kind === "output" && r.output !== undefined && r.rest.length === 0
    ? { stage: r.stage, output: r.output }
    : undefined;
}

/** the config path a config reference points at, else undefined (not a reference, or an output reference) */
export function configReference(v: unknown): Path | undefined {
  const r = parseReference(v);
  return r?.kind === "config" ? r.path : undefined;
}

/** schema of a reference string (component slots in the JSON Schema) */
export function referenceSchema(description: string): z.ZodString {
  return z.string().regex(REFERENCE).describe(description);
}

/**
 * Follow config references from `v` through `root` until a value that is not one (an output
 * reference is a value here: it resolves at run time). Stops after `limit` hops (compile reports
 * cycles and over-long chains; callers get the last value reached) or at a path that is missing
 * (undefined).
 */
export function followReferences(root: unknown, v: unknown, limit = 100): unknown {
  for (let i = 0; i < limit; i++) {
    const target = configReference(v);
    if (!target) return v;
    const r = getAt(root, target);
    if (!r.found) return undefined;
    v = r.value;
  }
  return v;
}

/**
 * Replace every output reference inside `v` by `lookup(stage, output)` (string for string).
 * Returns `v` itself when nothing was replaced, so an object without output references keeps its
 * identity; `copy` is told about every object it had to copy (to keep marks such as "compiled").
 */
export function substituteOutputs(
  v: unknown,
  lookup: (stage: string, output: string, text: string) => string,
  copied?: (from: object, to: object) => void,
): unknown {
  const out = outputReference(v);
  if (out) return lookup(out.stage, out.output, v as string);
  if (Array.isArray(v)) {
    let changed = false;
    const next = v.map((x) => {
      const y = substituteOutputs(x, lookup, copied);
      if (y !== x) changed = true;
      return y;
    });
    if (!changed) return v;
    copied?.(v, next);
    return next;
  }
  if (typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    let changed = false;
    const next: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const y = substituteOutputs(x, lookup, copied);
      if (y !== x) changed = true;
      next[k] = y;
    }
    if (!changed) return v;
    copied?.(v, next);
    return next;
  }
  return v;
}
