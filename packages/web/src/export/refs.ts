import { type ArgReferenceOptions, resolveArgReferences } from "@voxelpipe/core";

/**
 * A pipeline value with every `@path` reference to config replaced by a copy of its target,
 * recursively (the site's manifest is self-contained): core's `resolveArgReferences`, copying
 * component entries too. References to stage outputs (`@stages.x.outputs.y`) have no value outside
 * a run, nor have references to missing paths: they become undefined, so callers drop them (a
 * model's `init.from` is one; the exported weights already hold what it loaded). A cycle is a
 * VP121 diagnostic, located when `where` says where `value` sits in `root` and gives its locations.
 */
export function resolveReferences(
  value: unknown,
  root: unknown,
  where: Pick<ArgReferenceOptions, "at" | "locs"> = {},
): unknown {
  return resolveArgReferences(value, root, { ...where, copyEntries: true, unresolved: () => undefined, strict: true });
}
