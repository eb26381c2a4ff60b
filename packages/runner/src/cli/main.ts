import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  type BackendChoice,
  backendNames,
  Codes,
  type CompiledPipeline,
  ConfigLimits,
  compilePipeline,
  componentKinds,
  createLogger,
  type Diagnostic,
  diagnosticsToJson,
  formatDiagnostics,
  getAt,
  isComponentKind,
  isForbiddenKey,
  isVoxelpipeError,
  loadPipeline,
  packageVersion,
  parsePath,
  pipelineJsonSchema,
  type Registries,
  type SourceTexts,
  suggest,
  VoxelpipeError,
} from "@voxelpipe/core";
import { Command, CommanderError, Option } from "commander";
import { stringify } from "yaml";
import { builtinRegistries } from "../registries.js";
import { runPipeline } from "../run/executor.js";
import { preflight } from "../run/preflight.js";
import { removeEmptyRunDirs, runDirMark, writeError } from "../run/run-dir.js";
import { textTable } from "../text/table.js";
import { addLoadFlags, intArg, type LoadFlags, loadOptions } from "./args.js";
import { argRows, loadInstalledPlugins } from "./describe.js";
import { registerEvaluate } from "./evaluate.js";
import { registerExportWeb } from "./export-web.js";
import { registerInfer } from "./infer.js";
import { type CliIO, processIO } from "./io.js";
import { registerNew } from "./new-plugin.js";
import { registerSweep } from "./sweep.js";
import { registerSynth } from "./synth.js";
import { registerTask, TaskExit } from "./task.js";

const collect = (v: string, prev: string[]) => [...prev, v];

/** Compile a pipeline or print every problem and fail. */
async function compileOrReport(
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

class ReportedDiagnostics extends Error {
  constructor(
    readonly diagnostics: Diagnostic[],
    readonly texts: SourceTexts | undefined,
    readonly json: boolean,
  ) {
    super("diagnostics");
  }
}

export function buildProgram(io: CliIO): Command {
  const program = new Command("voxelpipe")
    .description("Self-supervised 3-D medical image segmentation pipelines (YAML over plugins, on TensorFlow.js)")
    .version(packageVersion(import.meta.url))
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, "")), writeErr: (s) => io.err(s.replace(/\n$/, "")) })
    .exitOverride();

  addLoadFlags(program.command("run").description("validate a pipeline, then run its stages in dependency order"))
    .argument("<pipeline>", "pipeline YAML file")
    .option("--stage <name>", "run only this stage (upstream outputs come from their latest runs)")
    .option("--set <path=value>", "override a config value (YAML value); repeatable", collect, [])
    .addOption(new Option("--backend <backend>", "tensor backend").choices(["auto", ...backendNames]))
    .option("--threads <n>", "CPU threads to use: a number or auto (every core); overrides the pipeline's threads:")
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
          threads?: string;
          runsDir: string;
          resume: boolean;
          newOnChange: boolean;
        } & LoadFlags,
      ) => {
        const registries = builtinRegistries();
        const p = await compileOrReport(file, o.set, registries, io, false, o);
        const results = await runPipeline(p, registries, {
          stage: o.stage,
          backend: o.backend,
          threads: o.threads === undefined || o.threads === "auto" ? o.threads : intArg("--threads", 1)(o.threads),
          runsDir: resolve(io.cwd, o.runsDir),
          resume: o.resume,
          onChange: o.newOnChange ? "new" : "refuse",
          logger: createLogger({ write: (_l, line) => io.err(line) }),
        });
        for (const r of results) io.out(`${r.name}: ${r.skipped ? "already finished in" : "run directory"} ${r.dir}`);
      },
    );

  addLoadFlags(
    program
      .command("validate")
      .description(
        "check a pipeline without running it: structure, components, arguments, references, stage graph, then what a run would check before its first stage (data files, loss weights / num_classes / roi vs the model)",
      ),
  )
    .argument("<pipeline>", "pipeline YAML file")
    .option("--set <path=value>", "override a config value; repeatable", collect, [])
    .option(
      "--no-data-checks",
      "skip the data file checks (datalists exist and parse, the images they list exist, init checkpoints exist), e.g. on a machine without the data",
    )
    .option("--json", "print the result as JSON", false)
    .action(async (file: string, o: { set: string[]; json: boolean; dataChecks: boolean } & LoadFlags) => {
      const registries = builtinRegistries();
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

  addLoadFlags(
    program
      .command("print")
      .description("print a pipeline after extends and --set (with --resolved: after ${} interpolation, validated)"),
  )
    .argument("<pipeline>", "pipeline YAML file")
    .option("--resolved", "interpolate and validate first", false)
    .option("--path <path>", "print only this dotted path")
    .option("--set <path=value>", "override a config value; repeatable", collect, [])
    .option("--json", "print JSON instead of YAML", false)
    .action(async (file: string, o: { resolved: boolean; path?: string; set: string[]; json: boolean } & LoadFlags) => {
      let value: unknown;
      if (o.resolved) value = (await compileOrReport(file, o.set, builtinRegistries(), io, o.json, o)).value;
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

  addLoadFlags(program.command("list").description(`list registered components (kinds: ${componentKinds.join(", ")})`))
    .argument("[kind]", "only this kind")
    .option("--pipeline <file>", "also load the plugins this pipeline names")
    .option("--json", "print JSON", false)
    .action(async (kind: string | undefined, o: { pipeline?: string; json: boolean } & LoadFlags) => {
      const registries = await registriesFor(o.pipeline, io, o);
      if (kind && !isComponentKind(kind)) {
        throw new VoxelpipeError({
          code: Codes.invalidValue,
          message: `unknown component kind "${kind}"`,
          expected: componentKinds.join(", "),
          hint: suggest(kind, componentKinds).length
            ? `did you mean "${suggest(kind, componentKinds)[0]}"?`
            : undefined,
        });
      }
      const entries = registries.all().filter((e) => !kind || e.def.kind === kind);
      if (o.json) {
        io.out(
          JSON.stringify(
            entries.map((e) => ({
              kind: e.def.kind,
              key: e.key,
              name: e.name,
              plugin: e.plugin.name,
              version: e.plugin.version,
              description: e.def.description,
            })),
            null,
            2,
          ),
        );
        return;
      }
      io.out(
        textTable(
          ["kind", "name", "plugin", "description"],
          entries.map((e) => [e.def.kind, e.key, `${e.plugin.name}@${e.plugin.version}`, e.def.description]),
          { rule: true },
        ),
      );
    });

  addLoadFlags(program.command("describe").description("show a component's arguments: types, defaults and docs"))
    .argument("<component>", "name or namespace/Name")
    .option("--kind <kind>", "the component kind, when the name exists in several")
    .option("--pipeline <file>", "also load the plugins this pipeline names")
    .option("--json", "print JSON", false)
    .action(async (name: string, o: { kind?: string; pipeline?: string; json: boolean } & LoadFlags) => {
      const registries = await registriesFor(o.pipeline, io, o);
      const kinds = o.kind ? [o.kind] : componentKinds;
      const hits = kinds.flatMap((k) => (isComponentKind(k) ? registries.of(k).candidates(name) : []));
      if (hits.length !== 1) {
        const all = registries.all();
        throw new VoxelpipeError({
          code: hits.length ? Codes.ambiguousComponent : Codes.unknownComponent,
          message: hits.length ? `"${name}" names several components` : `no component named "${name}"`,
          expected: hits.length
            ? hits.map((h) => `${h.def.kind} ${h.key}`).join(", ")
            : `a registered component (see \`voxelpipe list\`; plugins come from this project's package.json dependencies${o.pipeline ? " and the pipeline" : ", or a pipeline's plugins: with --pipeline <file>"})`,
          hint: hits.length
            ? "pass the canonical key or --kind"
            : suggest(
                  name,
                  all.flatMap((e) => [e.name, e.key]),
                ).length
              ? `did you mean ${suggest(
                  name,
                  all.flatMap((e) => [e.name, e.key]),
                )
                  .map((s) => `"${s}"`)
                  .join(" or ")}?`
              : undefined,
        });
      }
      const e = hits[0];
      const rows = argRows(e, registries);
      if (o.json) {
        io.out(
          JSON.stringify(
            { kind: e.def.kind, key: e.key, plugin: e.plugin, description: e.def.description, args: rows },
            null,
            2,
          ),
        );
        return;
      }
      io.out(`${e.key} (${e.def.kind}, plugin ${e.plugin.name}@${e.plugin.version})\n${e.def.description}\n`);
      io.out(
        rows.length
          ? textTable(
              ["argument", "type", "default", "description"],
              rows.map((r) => [r.name + (r.required ? " *" : ""), r.type, r.default, r.description]),
              { rule: true },
            )
          : "(no arguments)",
      );
      if (rows.some((r) => r.required)) io.out("\n* required");
    });

  addLoadFlags(
    program
      .command("schema")
      .description("write the JSON Schema of pipeline files (for editor autocompletion via yaml-language-server)"),
  )
    .option("--out <file>", "write to this file instead of stdout")
    .option("--pipeline <file>", "also include the components of the plugins this pipeline names")
    .action(async (o: { out?: string; pipeline?: string } & LoadFlags) => {
      const text = `${JSON.stringify(pipelineJsonSchema(await registriesFor(o.pipeline, io, o)), null, 2)}\n`;
      if (o.out) {
        const out = resolve(io.cwd, o.out);
        try {
          mkdirSync(dirname(out), { recursive: true });
          writeFileSync(out, text);
        } catch (e) {
          throw writeError(out, e);
        }
        io.out(`wrote ${o.out}; add to a pipeline:  # yaml-language-server: $schema=<relative path to ${o.out}>`);
      } else io.out(text);
    });

  registerSynth(program, io);
  registerNew(program, io);
  registerSweep(program, io);
  registerTask(program, io, (argv, taskIO) => main(argv, taskIO));
  registerEvaluate(program, io);
  registerInfer(program, io, async (file, overrides, flags) => {
    await compileOrReport(file, overrides, builtinRegistries(), io, false, flags);
    throw new Error(`${file} failed to compile`);
  });
  registerExportWeb(program, io, (file, overrides, flags) =>
    compileOrReport(file, overrides, builtinRegistries(), io, false, flags),
  );
  return program;
}

async function registriesFor(
  pipeline: string | undefined,
  io: CliIO,
  flags: Partial<LoadFlags> = {},
): Promise<Registries> {
  const registries = builtinRegistries();
  if (pipeline) await compileOrReport(pipeline, [], registries, io, false, flags);
  else {
    // without --pipeline: the plugins installed in the current project (package.json dependencies)
    for (const p of await loadInstalledPlugins(io.cwd, registries)) {
      if (p.problem) io.err(`note: installed plugin ${p.name} was not loaded: ${p.problem}`);
    }
  }
  return registries;
}

/** Run the CLI; returns the exit code (0 ok, 1 problems found, 2 usage error). */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const program = buildProgram(io);
  const mark = runDirMark();
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e0) {
    // a failed command leaves no run directory behind that holds nothing of its run
    removeEmptyRunDirs(mark);
    const e = asDiagnostic(e0);
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof TaskExit) return e.code;
    if (e instanceof ReportedDiagnostics) {
      if (e.json) io.out(JSON.stringify(diagnosticsToJson(e.diagnostics, io.cwd), null, 2));
      else io.err(formatDiagnostics(e.diagnostics, e.texts, io.cwd));
      return 1;
    }
    if (isVoxelpipeError(e)) {
      io.err(formatDiagnostics(e.diagnostics, undefined, io.cwd));
      return 1;
    }
    io.err(`internal error: ${(e as Error).stack ?? e}`);
    return 70;
  }
}

/** system errors the user can fix (disk full, read-only or missing folders) become diagnostics naming the path */
function asDiagnostic(e: unknown): unknown {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof err.code !== "string" || typeof err.syscall !== "string") return e;
  const path = typeof err.path === "string" ? err.path : undefined;
  if (["ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM"].includes(err.code)) {
    return writeError(
      path ?? "(unknown path)",
      err,
      err.syscall.startsWith("open") || err.syscall === "write" ? "cannot write" : `cannot ${err.syscall}`,
    );
  }
  if (err.code === "ENOENT" && path) {
    return new VoxelpipeError({
      code: Codes.fileNotFound,
      message: `no such file or folder: ${path}`,
      path,
      got: `${err.syscall} failed with ENOENT`,
      hint: "check the path (relative paths resolve against the current directory or the pipeline's folder)",
    });
  }
  return e;
}
