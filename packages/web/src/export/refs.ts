import { getAt, isPlainObject, parseReference } from "@voxelpipe/core";

/**
 * A pipeline value with every `@path` reference to config replaced by a copy of its target,
 * recursively (the site's manifest is self-contained). References to stage outputs
 * (`@stages.x.outputs.y`) have no value outside a run: they become undefined, so callers drop them
 * (a model's `init.from` is one; the exported weights already hold what it loaded).
 */
export function resolveReferences(value: unknown, root: unknown, depth = 0): unknown {
  if (depth > 100) throw new Error("reference chain longer than 100 (a cycle?)");
  const ref = parseReference(value);
  if (ref) {
    if (ref.kind === "output") return undefined;
    const r = getAt(root, ref.path);
    return r.found ? resolveReferences(structuredClone(r.value), root, depth + 1) : undefined;
  }
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, root, depth + 1));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = resolveReferences(v, root, depth + 1);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return value;
}
