import { dirname } from "node:path";
import type { BackendChoice } from "../backend.js";
import { Codes, type Diagnostic } from "../errors.js";
import type { Registries } from "../sdk/registry.js";
import type { StageDefinition } from "../sdk/stage.js";
import { didYouMean } from "../suggest.js";
import { interpolate, unknownPath } from "./interpolate.js";
import { ConfigLimits, forbiddenKeyDiagnostic, isForbiddenKey, limitDiagnostic } from "./limits.js";
import { FATAL_CODES, loadPipeline } from "./load.js";
import { formatPath, getAt, isPlainObject, type Path, parsePath } from "./paths.js";
import { loadPlugins, type PluginTrust } from "./plugins.js";
import { looseStage, pipelineSchema, stageCommon } from "./schema.js";
import { isReference, validationSlots } from "./slots.js";
import type { LocationMap, SourceTexts } from "./source.js";
import { issuesToDiagnostics } from "./zod-issues.js";

export interface CompiledStage {
  name: string;
  kind: string;
  needs: string[];
  /** the stage's resolved config (kind and needs removed) */
  config: Record<string, unknown>;
  def: StageDefinition;
}

export interface CompiledPipeline {
  file: string;
  baseDir: string;
  name: string;
  seed: number;
  backend: BackendChoice;
  /** CPU threads the run may use ("auto": every core) */
  threads: number | "auto";
  /** the whole resolved config (after extends, --set and ${} interpolation) */
  value: Record<string, unknown>;
  locs: LocationMap;
  texts: SourceTexts;
  /** the plugin trust it was compiled with (worker threads reload its plugins under the same rule) */
  trust?: PluginTrust;
  stages: Map<string, CompiledStage>;
  /** stages in a dependency order */
  order: string[];
}

export interface CompileOptions {
  overrides?: readonly string[];
  registries: Registries;
  /** size cap of each pipeline file in bytes (default: VOXELPIPE_MAX_PIPELINE_BYTES, else 1 MiB) */
  maxFileBytes?: number;
  /** which plugin paths outside the project tree the user allowed (default: none) */
  trust?: PluginTrust;
}

/**
 * Everything between a pipeline file and a runnable graph: load (extends, --set), interpolate,
 * load plugins, then validate the whole graph — structure, stage graph, every component against
 * its schema, every reference — reporting every problem in one pass.
 */
export async function compilePipeline(
  file: string,
  opts: CompileOptions,
): Promise<{ pipeline?: CompiledPipeline; diagnostics: Diagnostic[]; texts: SourceTexts }> {
  const raw = loadPipeline(file, opts.overrides ?? [], { maxFileBytes: opts.maxFileBytes });
  const diagnostics = [...raw.diagnostics];
  const { texts, locs } = raw;
  if (diagnostics.some((d) => FATAL_CODES.has(d.code))) return { diagnostics: sortDiagnostics(diagnostics), texts };

  const interp = interpolate(raw.value, locs);
  diagnostics.push(...interp.diagnostics);
  if (interp.diagnostics.some((d) => d.code === Codes.limitExceeded))
    return { diagnostics: sortDiagnostics(diagnostics), texts };
  const value = interp.value;
  const baseDir = dirname(raw.file);

  diagnostics.push(...(await loadPlugins(value.plugins, baseDir, opts.registries, locs, opts.trust ?? {})));

  // top level (stages checked individually below)
  const top = pipelineSchema(looseStage).safeParse(value, { reportInput: true });
  if (!top.success)
    diagnostics.push(...issuesToDiagnostics(top.error.issues, [], pipelineSchema(looseStage), locs, "top-level key"));

  const stagesValue = isPlainObject(value.stages) ? value.stages : {};
  const stageNames = Object.keys(stagesValue);
  const stages = new Map<string, CompiledStage>();
  const slots = validationSlots(opts.registries);
  const stageRegistry = opts.registries.of("stage");

  for (const name of stageNames) {
    const sv = stagesValue[name];
    if (!isPlainObject(sv)) continue; // reported by the top-level schema
    const base: Path = ["stages", name];
    const { kind, needs, description: _d, ...config } = sv;
    const needsList = Array.isArray(needs) ? needs.filter((n): n is string => typeof n === "string") : [];
    needsList.forEach((n, i) => {
      if (!stageNames.includes(n)) {
        diagnostics.push({
          code: Codes.unknownStage,
          message: `stage "${name}" needs "${n}", which is not a stage of this pipeline`,
          path: formatPath([...base, "needs", i]),
          loc: locs.get([...base, "needs", i])?.value,
          expected: `one of: ${stageNames.filter((s) => s !== name).join(", ") || "(no other stages)"}`,
          got: JSON.stringify(n),
          hint: didYouMean(n, stageNames),
        });
      }
    });
    if (typeof kind !== "string") {
      if (kind === undefined) {
        diagnostics.push({
          code: Codes.missingArgument,
          message: `stage "${name}" has no kind`,
          path: formatPath(base),
          loc: locs.get(base)?.key,
          expected: `one of: ${stageRegistry.names().join(", ")}`,
          hint: "add `kind: train` (or evaluate, infer, preprocess)",
        });
      }
      continue;
    }
    const found = stageRegistry.lookup(kind);
    if ("diagnostic" in found) {
      diagnostics.push({
        ...found.diagnostic,
        message: `unknown stage kind "${kind}"`,
        path: formatPath([...base, "kind"]),
        loc: locs.get([...base, "kind"])?.value,
      });
      continue;
    }
    const def = found.entry.def as StageDefinition;
    const schema = def.schema(slots).extend(stageCommon).strict();
    const r = schema.safeParse(sv, { reportInput: true });
    if (!r.success)
      diagnostics.push(...issuesToDiagnostics(r.error.issues, base, schema, locs, "key", `a ${kind} stage`));
    stages.set(name, { name, kind, needs: needsList, config, def });
  }

  const order = topoOrder(stages, locs, diagnostics);
  checkReferences(value, stages, locs, diagnostics);

  const sorted = sortDiagnostics(dedupe(diagnostics));
  if (sorted.length) return { diagnostics: sorted, texts };
  return {
    pipeline: {
      file: raw.file,
      baseDir,
      name: String(value.name),
      seed: typeof value.seed === "number" ? value.seed : 0,
      backend: (value.backend as BackendChoice | undefined) ?? "auto",
      threads: typeof value.threads === "number" ? value.threads : "auto",
      value,
      locs,
      texts,
      trust: opts.trust ?? {},
      stages,
      order,
    },
    diagnostics: [],
    texts,
  };
}

/** Dependency order of stages; a cycle is reported with its path. */
function topoOrder(stages: Map<string, CompiledStage>, locs: LocationMap, diagnostics: Diagnostic[]): string[] {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const reported = new Set<string>();
  const visit = (name: string, stack: string[]) => {
    const s = state.get(name);
    if (s === "done") return;
    if (s === "visiting") {
      const cycle = [...stack.slice(stack.indexOf(name)), name];
      const key = [...cycle].sort().join(",");
      if (!reported.has(key)) {
        reported.add(key);
        const from = cycle[cycle.length - 2];
        const idx = stages.get(from)?.needs.indexOf(name) ?? -1;
        diagnostics.push({
          code: Codes.stageCycle,
          message: `stage cycle: ${cycle.join(" -> ")}`,
          path: formatPath(["stages", from, "needs", idx]),
          loc: locs.get(["stages", from, "needs", idx])?.value ?? locs.get(["stages", from])?.key,
          expected: "`needs` to form a DAG (no stage may depend on itself, directly or through others)",
          hint: `remove "${name}" from the needs of "${from}" or break the cycle elsewhere`,
        });
      }
      return;
    }
    state.set(name, "visiting");
    for (const n of stages.get(name)?.needs ?? []) if (stages.has(n)) visit(n, [...stack, name]);
    state.set(name, "done");
    order.push(name);
  };
  for (const name of stages.keys()) visit(name, []);
  return order;
}

function ancestors(stage: string, stages: Map<string, CompiledStage>): Set<string> {
  const out = new Set<string>();
  const todo = [...(stages.get(stage)?.needs ?? [])];
  while (todo.length) {
    const n = todo.pop()!;
    if (out.has(n)) continue;
    out.add(n);
    todo.push(...(stages.get(n)?.needs ?? []));
  }
  return out;
}

/** Every `@path` must point at something: a config path, or an output of an upstream stage. */
function checkReferences(
  root: Record<string, unknown>,
  stages: Map<string, CompiledStage>,
  locs: LocationMap,
  diagnostics: Diagnostic[],
) {
  const walk = (v: unknown, path: Path) => {
    if (isReference(v)) {
      checkOne(v, path);
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        walk(x, [...path, i]);
      });
    } else if (isPlainObject(v)) for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  const checkOne = (ref: string, site: Path) => {
    const target = parsePath(ref.slice(1));
    const loc = locs.nearest(site)?.value;
    if (target.length > ConfigLimits.maxPathSegments) {
      diagnostics.push(
        limitDiagnostic("maxPathSegments", `${ref.slice(0, 40)}... has ${target.length} segments`, {
          loc,
          path: formatPath(site),
        }),
      );
      return;
    }
    const bad = target.find(isForbiddenKey);
    if (bad !== undefined) {
      diagnostics.push(forbiddenKeyDiagnostic(String(bad), "reference path segment", loc, formatPath(site)));
      return;
    }
    if (target[0] === "stages" && target[2] === "outputs") {
      const s = String(target[1]);
      const st = stages.get(s);
      if (!st) {
        diagnostics.push(unknownPath(root, target, site, locs, ref));
        return;
      }
      const out = target[3];
      if (typeof out !== "string" || !st.def.outputs.includes(out) || target.length > 4) {
        diagnostics.push({
          code: Codes.danglingReference,
          message: `${ref}: stage "${s}" (${st.kind}) has no output "${String(out ?? "")}"`,
          path: formatPath(site),
          loc,
          expected: `one of: ${st.def.outputs.map((o) => `@stages.${s}.outputs.${o}`).join(", ") || "(this stage kind has no outputs)"}`,
          got: JSON.stringify(ref),
          hint: typeof out === "string" ? didYouMean(out, st.def.outputs) : undefined,
        });
        return;
      }
      const user = site[0] === "stages" ? String(site[1]) : undefined;
      if (user && user !== s && !ancestors(user, stages).has(s)) {
        diagnostics.push({
          code: Codes.missingNeeds,
          message: `stage "${user}" uses an output of stage "${s}" but does not need it`,
          path: formatPath(site),
          loc,
          hint: `add "${s}" to stages.${user}.needs so it runs first`,
        });
      }
      return;
    }
    const seen = [formatPath(site)];
    let cur = target;
    for (;;) {
      const r = getAt(root, cur);
      if (!r.found) {
        diagnostics.push(unknownPath(root, cur, site, locs, ref));
        return;
      }
      if (!isReference(r.value)) return;
      const key = formatPath(cur);
      if (seen.includes(key)) {
        diagnostics.push({
          code: Codes.referenceCycle,
          message: `reference cycle: ${[...seen, key].join(" -> ")}`,
          path: formatPath(site),
          loc,
          hint: "references must end at a value",
        });
        return;
      }
      seen.push(key);
      if (seen.length > ConfigLimits.maxReferenceChain) {
        diagnostics.push(
          limitDiagnostic(
            "maxReferenceChain",
            `${ref} starts a chain of more than ${ConfigLimits.maxReferenceChain} references`,
            {
              loc,
              path: formatPath(site),
            },
          ),
        );
        return;
      }
      cur = parsePath(r.value.slice(1));
      if (cur.some(isForbiddenKey)) {
        diagnostics.push(forbiddenKeyDiagnostic(String(cur.find(isForbiddenKey)), "reference path segment", loc, key));
        return;
      }
    }
  };
  walk(root, []);
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.code}|${d.path}|${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort(
    (a, b) =>
      (a.loc?.file ?? "").localeCompare(b.loc?.file ?? "") ||
      (a.loc?.line ?? 0) - (b.loc?.line ?? 0) ||
      (a.loc?.col ?? 0) - (b.loc?.col ?? 0) ||
      a.code.localeCompare(b.code),
  );
}
