import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  type BackendChoice,
  Codes,
  type CompiledPipeline,
  type CompileOptions,
  compilePipeline,
  type Diagnostic,
  type Registries,
  VoxelpipeError,
  writeFileAtomicSync,
} from "@voxelpipe/core";
import { builtinRegistries } from "../registries.js";
import { writeError } from "../run/run-dir.js";
import { type SweepSpec, sweepKey, type Variant, variants } from "./grid.js";
import { checkMetrics } from "./metrics.js";

/** how the pipeline is loaded: plugin trust and the size cap, as for every command that loads pipelines */
export type LoadOptions = Pick<CompileOptions, "trust" | "maxFileBytes">;

/**
 * Everything a process needs to run one variant of a sweep, written to `<sweep>/sweep.json`, so a
 * task on another node (or `voxelpipe sweep status <dir>`) rebuilds the sweep from its folder.
 */
export interface SweepPlan {
  /** absolute pipeline path */
  file: string;
  /** the pipeline's name */
  name: string;
  /** the sweep folder: runs/<pipeline>/sweep-<key> */
  dir: string;
  spec: SweepSpec;
  sets: string[];
  variants: Variant[];
  backend?: BackendChoice;
  load: LoadOptions;
}

export interface CompiledVariant {
  pipeline: CompiledPipeline;
  registries: Registries;
}

export const compileVariant = async (plan: Pick<SweepPlan, "file" | "sets" | "load">, v: Variant) => {
  const registries = builtinRegistries();
  const r = await compilePipeline(plan.file, { overrides: [...plan.sets, ...v.overrides], registries, ...plan.load });
  return { r, registries };
};

/**
 * Validate every variant before any runs (one problem anywhere stops the sweep before compute),
 * make the sweep folder and record the plan. Returns the compiled variants for reuse checks.
 */
export async function prepareSweep(o: {
  file: string;
  spec: SweepSpec;
  sets: string[];
  runsDir: string;
  backend?: BackendChoice;
  load?: LoadOptions;
  /** write sweep.json (false: only compute the plan, e.g. for `sweep status`, so queued tasks keep theirs) */
  record?: boolean;
}): Promise<{ plan: SweepPlan; compiled: Map<string, CompiledVariant> }> {
  const all = variants(o.spec);
  const load = o.load ?? {};
  const problems: Diagnostic[] = [];
  const compiled = new Map<string, CompiledVariant>();
  let name = "";
  for (const v of all) {
    const { r, registries } = await compileVariant({ file: o.file, sets: o.sets, load }, v);
    if (!r.pipeline) problems.push(...r.diagnostics.map((d) => ({ ...d, message: `variant ${v.id}: ${d.message}` })));
    else {
      compiled.set(v.id, { pipeline: r.pipeline, registries });
      name = r.pipeline.name;
    }
  }
  if (problems.length) throw new VoxelpipeError(problems);
  // every metric must name something a stage publishes, before anything runs or is made
  const first = compiled.values().next().value;
  if (first) checkMetrics(first.pipeline, o.spec.metrics);
  const dir = join(o.runsDir, name, `sweep-${sweepKey(name, o.spec, o.sets)}`);
  const plan: SweepPlan = {
    file: o.file,
    name,
    dir,
    spec: o.spec,
    sets: o.sets,
    variants: all,
    backend: o.backend,
    load,
  };
  if (o.record === false) return { plan, compiled };
  try {
    mkdirSync(dir, { recursive: true });
    writeFileAtomicSync(
      join(dir, "sweep.json"),
      `${JSON.stringify({ pipeline: o.file, spec: o.spec, sets: o.sets, variants: all.map((v) => v.id), backend: o.backend, load }, null, 2)}\n`,
    );
  } catch (e) {
    throw writeError(dir, e, "cannot write the sweep folder");
  }
  return { plan, compiled };
}

/** the plan recorded in a sweep folder (for tasks and `sweep status <dir>`) */
export function loadPlan(dir: string): SweepPlan {
  const file = join(dir, "sweep.json");
  if (!existsSync(file)) {
    throw new VoxelpipeError({
      code: Codes.notASweep,
      message: `${dir} is not a sweep folder (no sweep.json)`,
      hint: "pass the folder `voxelpipe sweep` printed (runs/<pipeline>/sweep-<key>), or the pipeline and the sweep's flags",
    });
  }
  try {
    const j = JSON.parse(readFileSync(file, "utf8"));
    const spec = j.spec as SweepSpec;
    const name = basename(dirname(dir));
    return {
      file: j.pipeline,
      name,
      dir,
      spec,
      sets: j.sets ?? [],
      variants: variants(spec),
      backend: j.backend,
      load: j.load ?? {},
    };
  } catch (e) {
    throw new VoxelpipeError({
      code: Codes.notASweep,
      message: `${file} cannot be read: ${(e as Error).message}`,
      hint: "re-run the sweep command to rewrite it",
    });
  }
}
