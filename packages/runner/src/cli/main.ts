import {
  Codes,
  diagnosticsToJson,
  formatDiagnostics,
  isVoxelpipeError,
  packageVersion,
  VoxelpipeError,
} from "@voxelpipe/core";
import { Command, CommanderError } from "commander";
import { removeEmptyRunDirs, runDirMark, writeError } from "../run/run-dir.js";
import { compileOrReport, loadBuiltinRegistries, ReportedDiagnostics } from "./compile.js";
import { registerEvaluate } from "./evaluate.js";
import { registerExportWeb } from "./export-web.js";
import { registerInfer } from "./infer.js";
import { registerDescribe, registerList, registerSchema } from "./inspect-commands.js";
import { type CliIO, processIO } from "./io.js";
import { registerNew } from "./new-plugin.js";
import { registerPrint, registerRun, registerValidate } from "./pipeline-commands.js";
import { registerSweep } from "./sweep.js";
import { registerSynth } from "./synth.js";
import { registerTask, TaskExit } from "./task.js";

/** The voxelpipe program: each command registers itself from its own module. */
export function buildProgram(io: CliIO): Command {
  const program = new Command("voxelpipe")
    .description("Self-supervised 3-D medical image segmentation pipelines (YAML over plugins, on TensorFlow.js)")
    .version(packageVersion(import.meta.url))
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, "")), writeErr: (s) => io.err(s.replace(/\n$/, "")) })
    .exitOverride();

  registerRun(program, io);
  registerValidate(program, io);
  registerPrint(program, io);
  registerList(program, io);
  registerDescribe(program, io);
  registerSchema(program, io);
  registerSynth(program, io);
  registerNew(program, io);
  registerSweep(program, io);
  registerTask(program, io, (argv, taskIO) => main(argv, taskIO));
  registerEvaluate(program, io);
  registerInfer(program, io, async (file, overrides, flags) => {
    await compileOrReport(file, overrides, await loadBuiltinRegistries(), io, false, flags);
    throw new Error(`${file} failed to compile`);
  });
  registerExportWeb(program, io, async (file, overrides, flags) =>
    compileOrReport(file, overrides, await loadBuiltinRegistries(), io, false, flags),
  );
  return program;
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
  // EEXIST/ENOTDIR: a folder path runs through a file (e.g. --output naming an existing file)
  if (["ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EEXIST", "ENOTDIR"].includes(err.code)) {
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
