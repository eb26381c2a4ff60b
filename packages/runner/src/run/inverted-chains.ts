/**
 * Validation of chains that are inverted: the infer stage undoes its transforms on every prediction,
 * so each spatial transform in them must declare an inverse (`defineTransform({ spatial: { inverse } })`).
 * One that declares `spatial: { inverse: null }` is reported here, at `voxelpipe validate` and before a
 * run's first stage (preflight), never by a failing case halfway through inference.
 */
import {
  Codes,
  type CompiledPipeline,
  configReference,
  type Diagnostic,
  formatPath,
  getAt,
  isPlainObject,
  isReference,
  type Registries,
  type TransformDefinition,
} from "@voxelpipe/core";

/** Stage kinds that invert a transform chain on their outputs, and the field holding that chain. */
const INVERTED_CHAINS: ReadonlyMap<string, string> = new Map([["infer", "transforms"]]);

type Path = (string | number)[];

/** VP105 for every spatial transform without inverse in a chain that `stages` invert. */
export function inversionChecks(p: CompiledPipeline, registries: Registries, stages: readonly string[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const name of stages) {
    const stage = p.stages.get(name);
    const field = stage && INVERTED_CHAINS.get(stage.def.name);
    if (!stage || !field) continue;
    // the config as written (references kept), so each entry is reported where it is written
    const written: unknown = (stage as { raw?: unknown }).raw ?? stage.config;
    if (!isPlainObject(written)) continue;
    const { value, path } = follow(p, written[field], ["stages", name, field]);
    if (!Array.isArray(value)) continue;
    for (const [i, entry] of value.entries()) check(p, registries, entry, [...path, i], name, out, 0);
  }
  return out;
}

/** Follow `@path` references through the pipeline (not stage outputs), keeping the path of the value. */
function follow(p: CompiledPipeline, v: unknown, path: Path): { value: unknown; path: Path } {
  for (let i = 0; i < 100; i++) {
    const target = configReference(v);
    if (!target) break;
    path = target;
    const r = getAt(p.value, path);
    if (!r.found) return { value: undefined, path };
    v = r.value;
  }
  return { value: v, path };
}

function check(
  p: CompiledPipeline,
  registries: Registries,
  raw: unknown,
  at: Path,
  stage: string,
  out: Diagnostic[],
  depth: number,
): void {
  if (depth > 16) return;
  const { value: entry, path } = follow(p, raw, at);
  if (!isPlainObject(entry) || typeof entry.type !== "string") return;
  const found = registries.of("transform").lookup(entry.type);
  if (!("entry" in found)) return; // unknown names are compile's diagnostics
  const def = found.entry.def as TransformDefinition;
  if (def.spatial && !def.spatial.inverse) {
    out.push({
      code: Codes.spatialWithoutInverse,
      message: `${found.entry.key} changes the voxel grid and declares no inverse, but stage "${stage}" undoes its transforms to write predictions on each input's grid`,
      path: formatPath(path),
      loc: p.locs.nearest(path)?.value,
      expected: "only spatial transforms that declare spatial.inverse in the transforms an infer stage runs",
      got: `${found.entry.key} (plugin ${found.entry.plugin.name}): spatial, inverse null`,
      hint: `remove it from the transforms stage "${stage}" runs, or give ${found.entry.key} an inverse (defineTransform({ spatial: { inverse } }))`,
    });
  }
  // nested transform entries (Compose, OneOf or a plugin's own container) are inverted with it
  for (const [k, v] of Object.entries(entry)) {
    if (k === "type") continue;
    if (Array.isArray(v))
      for (const [i, x] of v.entries()) check(p, registries, x, [...path, k, i], stage, out, depth + 1);
    else if (isPlainObject(v) || isReference(v)) check(p, registries, v, [...path, k], stage, out, depth + 1);
  }
}
