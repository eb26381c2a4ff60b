import { dirname } from "node:path";
import type { z } from "zod";
import { Codes, type Diagnostic } from "../errors.js";
import type { Registries } from "../sdk/registry.js";
import type { StageDefinition } from "../sdk/stage.js";
import { didYouMean } from "../suggest.js";
import { interpolate } from "./interpolate.js";
import { FATAL_CODES, loadPipeline } from "./load.js";
import { formatPath, isPlainObject, type Path } from "./paths.js";
import { loadPlugins, type PluginTrust } from "./plugins.js";
import { configReference, followReferences } from "./references.js";
import { looseStage, pipelineSchema, stageCommon } from "./schema.js";
import { validationSlots } from "./slots.js";
import type { LocationMap, SourceTexts } from "./source.js";
import { checkReferences, topoOrder } from "./stage-graph.js";
import { issuesToDiagnostics } from "./zod-issues.js";

/** The top level of a pipeline as its schema parsed it (defaults applied), without the stages. */
export type PipelineSettings = Omit<z.output<ReturnType<typeof pipelineSchema>>, "stages">;

export interface CompiledStage<C = unknown> {
  name: string;
  kind: string;
  needs: string[];
  /**
   * The stage's config as its kind's schema parsed it, once, here: defaults applied, references to
   * lists replaced by copies, component entries parsed by their own schemas (see slots.ts). This is
   * the object `def.run` receives (after the executor substituted stage outputs, string for string).
   */
  config: C;
  /** the stage's resolved config as written (kind and needs removed): fingerprints and preflight read this */
  raw: Record<string, unknown>;
  /** the definition whose schema produced `config` */
  def: StageDefinition<C>;
}

export interface CompiledPipeline extends Pick<PipelineSettings, "name" | "seed" | "backend" | "threads"> {
  file: string;
  baseDir: string;
  /** the parsed top level (seed, backend, threads, vars, ... with defaults) */
  settings: PipelineSettings;
  /** the whole resolved config as written (after extends, --set and ${} interpolation) */
  value: Record<string, unknown>;
  /**
   * The same tree with each stage replaced by its parsed form (`kind`, `needs` and the compiled
   * config): what components are built from and `@` references are followed through at run time.
   */
  compiled: Record<string, unknown>;
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
 * load plugins, then parse the whole graph — structure, stage graph, every component against its
 * schema, every reference — reporting every problem in one pass. The result holds the parsed
 * values: nothing downstream parses the configuration again.
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

  // top level (stages parsed individually below)
  const top = pipelineSchema(looseStage).safeParse(value, { reportInput: true });
  if (!top.success)
    diagnostics.push(...issuesToDiagnostics(top.error.issues, [], pipelineSchema(looseStage), locs, "top-level key"));

  const stages = compileStages(value, opts.registries, locs, diagnostics);
  const order = topoOrder(stages, locs, diagnostics);
  checkReferences(value, stages, locs, diagnostics);

  const sorted = sortDiagnostics(dedupe(diagnostics));
  if (sorted.length || !top.success) return { diagnostics: sorted, texts };
  const { stages: _s, ...settings } = top.data;
  const compiled: Record<string, unknown> = { ...value, stages: {} };
  for (const [name, st] of stages)
    (compiled.stages as Record<string, unknown>)[name] = {
      kind: st.kind,
      needs: st.needs,
      ...(st.config as Record<string, unknown>),
    };
  return {
    pipeline: {
      file: raw.file,
      baseDir,
      name: settings.name,
      seed: settings.seed,
      backend: settings.backend,
      threads: settings.threads,
      settings,
      value,
      compiled,
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

/** Each stage parsed by its kind's schema (problems go to `diagnostics`; a stage that fails is still listed). */
function compileStages(
  value: Record<string, unknown>,
  registries: Registries,
  locs: LocationMap,
  diagnostics: Diagnostic[],
): Map<string, CompiledStage> {
  const stagesValue = isPlainObject(value.stages) ? value.stages : {};
  const stageNames = Object.keys(stagesValue);
  const stages = new Map<string, CompiledStage>();
  const slots = validationSlots(registries, value);
  const stageRegistry = registries.of("stage");

  for (const name of stageNames) {
    const sv = stagesValue[name];
    if (!isPlainObject(sv)) continue; // reported by the top-level schema
    const base: Path = ["stages", name];
    const { kind, needs, description: _d, ...rawConfig } = sv;
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
          hint: "add `kind: train` (or evaluate, infer, preprocess, synth)",
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
    const lists = copyListReferences(sv, value, base);
    const r = schema.safeParse(lists.value, { reportInput: true });
    let config: Record<string, unknown> = {};
    if (r.success) {
      const { kind: _k, needs: _n, description: _dd, ...parsed } = r.data as Record<string, unknown>;
      config = parsed;
    } else {
      const ds = issuesToDiagnostics(r.error.issues, base, schema, locs, "key", `a ${kind} stage`);
      // a copied list checked where it is written (in another stage) is not reported twice
      diagnostics.push(...ds.filter((d) => !lists.checkedElsewhere.some((site) => within(d.path, site))));
    }
    stages.set(name, { name, kind, needs: needsList, config, raw: rawConfig, def });
  }
  return stages;
}

/**
 * A reference to a list in a stage's own config (`transforms: "@stages.finetune.transforms.val"`)
 * becomes a copy of the list, so the stage's schema parses the entries. Other references stay: a
 * component reference is built once per target path, an output reference is a run-time value.
 */
function copyListReferences(
  v: unknown,
  root: Record<string, unknown>,
  path: Path,
): { value: unknown; checkedElsewhere: string[] } {
  const checkedElsewhere: string[] = [];
  const walk = (x: unknown, at: Path): unknown => {
    if (configReference(x)) {
      const target = followReferences(root, x);
      if (!Array.isArray(target)) return x;
      if (configReference(x)?.[0] === "stages") checkedElsewhere.push(formatPath(at));
      return structuredClone(target);
    }
    if (Array.isArray(x)) return x.map((y, i) => walk(y, [...at, i]));
    if (isPlainObject(x)) return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, walk(y, [...at, k])]));
    return x;
  };
  return { value: walk(v, path), checkedElsewhere };
}

function within(path: string | undefined, site: string): boolean {
  return path !== undefined && (path === site || path.startsWith(`${site}.`) || path.startsWith(`${site}[`));
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
