import { resolve } from "node:path";
import {
  type CompiledPipeline,
  compilePipeline,
  type Diagnostic,
  type Registries,
  type SourceTexts,
} from "@voxelpipe/core";
import { type LoadFlags, loadOptions } from "./args.js";
import { loadInstalledPlugins } from "./describe.js";
import type { CliIO } from "./io.js";

/**
 * What the pipeline-loading commands share: compile or report, and the registries. The built-in
 * registries (every plugin, every stage kind) load on first use, so `--help` and `--version` never pay for them.
 */

/** the built-in registries, imported when a command first needs them */
export async function loadBuiltinRegistries(): Promise<Registries> {
  return (await import("../registries.js")).builtinRegistries();
}

/** Compile a pipeline or print every problem and fail. */
export async function compileOrReport(
  file: string,
  overrides: string[],
  registries: Registries,
  io: CliIO,
  json: boolean,
  flags: Partial<LoadFlags> = {},
): Promise<CompiledPipeline> {
  const r = await compilePipeline(resolve(io.cwd, file), { overrides, registries, ...loadOptions(flags, io.cwd) });
  if (r.pipeline) return r.pipeline;
  throw new ReportedDiagnostics(r.diagnostics, r.texts, json);
}

/** diagnostics already located and worded, for `main` to print (exit 1) */
export class ReportedDiagnostics extends Error {
  constructor(
    readonly diagnostics: Diagnostic[],
    readonly texts: SourceTexts | undefined,
    readonly json: boolean,
  ) {
    super("diagnostics");
  }
}

/** the built-in registries, plus the plugins a pipeline names (or, without one, those installed in the project) */
export async function registriesFor(
  pipeline: string | undefined,
  io: CliIO,
  flags: Partial<LoadFlags> = {},
): Promise<Registries> {
  const registries = await loadBuiltinRegistries();
  if (pipeline) await compileOrReport(pipeline, [], registries, io, false, flags);
  else {
    // without --pipeline: the plugins installed in the current project (package.json dependencies)
    for (const p of await loadInstalledPlugins(io.cwd, registries)) {
      if (p.problem) io.err(`note: installed plugin ${p.name} was not loaded: ${p.problem}`);
    }
  }
  return registries;
}
