import { resolve } from "node:path";
import {
  type BackendChoice,
  backendNames,
  Codes,
  ConfigLimits,
  createLogger,
  diagnosticsToJson,
  getAt,
  isForbiddenKey,
  loadPipeline,
  parsePath,
  VoxelpipeError,
} from "@voxelpipe/core";
import type { Command } from "commander";
import { stringify } from "yaml";
import { addLoadFlags, backendArg, byteSizeArg, collect, type LoadFlags, loadOptions, threadsArg } from "./args.js";
import { compileOrReport, loadBuiltinRegistries, ReportedDiagnostics } from "./compile.js";
import type { CliIO } from "./io.js";

// The commands that take a pipeline file. The executor and the preflight load inside their actions.

/** `voxelpipe run <pipeline>`: compile, then run the stages (the executor loads only here) */
export function registerRun(program: Command, io: CliIO): void {
  addLoadFlags(program.command("run").description("validate a pipeline, then run its stages in dependency order"))
    .argument("<pipeline>", "pipeline YAML file")
    .option("--stage <name>", "run only this stage (upstream outputs come from their latest runs)")
    .option("--set <path=value>", "override a config value (YAML value); repeatable", collect, [])
    .option("--backend <backend>", `tensor backend: auto or ${backendNames.join(", ")}`, backendArg)
    .option(
      "--threads <n>",
      "CPU threads to use: a number or auto (every core); overrides the pipeline's threads:",
      threadsArg,
    )
    .option(
      "--max-image-bytes <size>",
      "refuse images declaring more voxel data than this (e.g. 8GiB); overrides the pipeline's max_image_bytes:",
      byteSizeArg,
    )
    .option("--runs-dir <dir>", "where run directories go", "runs")
    .option("--resume", "continue the latest interrupted run of each stage", false)
    .option("--new-on-change", "with --resume: start a new run for a stage whose configuration changed", false)
    .action(
      async (
        file: string,
        o: {
          stage?: string;
          set: string[];
          backend?: BackendChoice;
          threads?: number | "auto";
          maxImageBytes?: string;
          runsDir: string;
          resume: boolean;
          newOnChange: boolean;
        } & LoadFlags,
      ) => {
        const registries = await loadBuiltinRegistries();
        const p = await compileOrReport(file, o.set, registries, io, false, o);
        const { runPipeline } = await import("../run/executor.js");
        const results = await runPipeline(p, registries, {
          stage: o.stage,
          backend: o.backend,
          threads: o.threads,
          maxImageBytes: o.maxImageBytes,
          runsDir: resolve(io.cwd, o.runsDir),
          resume: o.resume,
          onChange: o.newOnChange ? "new" : "refuse",
          logger: createLogger({ write: (_l, line) => io.err(line) }),
        });
        for (const r of results) io.out(`${r.name}: ${r.skipped ? "already finished in" : "run directory"} ${r.dir}`);
      },
    );
}

/** `voxelpipe validate <pipeline>`: compile, then the checks a run makes before its first stage */
export function registerValidate(program: Command, io: CliIO): void {
  addLoadFlags(
    program
      .command("validate")
      .description(
        "check a pipeline without running it: structure, components, arguments, references, stage graph, then what a run would check before its first stage (data files, loss weights / num_classes / roi vs the model)",
      ),
  )
    .argument("<pipeline>", "pipeline YAML file")
    .option("--set <path=value>", "override a config value (YAML value); repeatable", collect, [])
    .option(
      "--no-data-checks",
      "skip the data file checks (datalists exist and parse, the images they list exist, init checkpoints exist), e.g. on a machine without the data",
    )
    .option("--json", "print the result as JSON", false)
    .action(async (file: string, o: { set: string[]; json: boolean; dataChecks: boolean } & LoadFlags) => {
      const registries = await loadBuiltinRegistries();
      const { preflight } = await import("../run/preflight.js");
      const p = await compileOrReport(file, o.set, registries, io, o.json, o);
      // the run's preflight: cross-component constraints always, data files unless --no-data-checks
      const problems = [
        ...(o.dataChecks
          ? (await preflight(p, p.order, { constraints: false })).map((d) => ({
              ...d,
              hint: `${d.hint ? `${d.hint}; ` : ""}to check everything but data files: voxelpipe validate --no-data-checks`,
            }))
          : []),
        ...(await preflight(p, p.order, { data: false, registries })),
      ];
      if (problems.length) throw new ReportedDiagnostics(problems, p.texts, o.json);
      if (o.json) io.out(JSON.stringify(diagnosticsToJson([], io.cwd)));
      else
        io.out(
          `${file}: ok (${p.order.length} stage${p.order.length === 1 ? "" : "s"}: ${p.order.join(" → ")})${o.dataChecks ? "" : " (data files not checked)"}`,
        );
    });
}

/** `voxelpipe print <pipeline>`: the pipeline after extends and --set (or resolved) */
export function registerPrint(program: Command, io: CliIO): void {
  addLoadFlags(
    program
      .command("print")
      .description("print a pipeline after extends and --set (with --resolved: after ${} interpolation, validated)"),
  )
    .argument("<pipeline>", "pipeline YAML file")
    .option("--resolved", "interpolate and validate first", false)
    .option("--path <path>", "print only this dotted path")
    .option("--set <path=value>", "override a config value (YAML value); repeatable", collect, [])
    .option("--json", "print JSON instead of YAML", false)
    .action(async (file: string, o: { resolved: boolean; path?: string; set: string[]; json: boolean } & LoadFlags) => {
      let value: unknown;
      if (o.resolved) value = (await compileOrReport(file, o.set, await loadBuiltinRegistries(), io, o.json, o)).value;
      else {
        const raw = loadPipeline(resolve(io.cwd, file), o.set, loadOptions(o, io.cwd));
        if (raw.diagnostics.length) throw new ReportedDiagnostics(raw.diagnostics, raw.texts, o.json);
        value = raw.value;
      }
      if (o.path) {
        const path = parsePath(o.path);
        if (path.some(isForbiddenKey) || path.length > ConfigLimits.maxPathSegments) {
          throw new VoxelpipeError({
            code: Codes.invalidValue,
            message: `--path "${o.path.slice(0, 80)}" is not a config path`,
            path: "--path",
            expected: `at most ${ConfigLimits.maxPathSegments} segments, none of __proto__, constructor, prototype`,
          });
        }
        const r = getAt(value, path);
        if (!r.found) {
          throw new VoxelpipeError({ code: Codes.danglingReference, message: `no value at "${o.path}"`, path: o.path });
        }
        value = r.value;
      }
      io.out(o.json ? JSON.stringify(value, null, 2) : stringify(value));
    });
}
