import { resolve } from "node:path";
import {
  type BackendChoice,
  Codes,
  type CompileOptions,
  ConfigLimits,
  MAX_PIPELINE_BYTES_ENV,
  parseBackendChoice,
  requireByteSize,
  VoxelpipeError,
} from "@voxelpipe/core";
import type { Command } from "commander";

/**
 * Option parsers and the options every pipeline-loading command shares. A bad value is a
 * VP111 diagnostic naming the option, never an internal error.
 */
export function intArg(option: string, min = 0, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v: string) => {
    const n = /^\s*-?\d+\s*$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new VoxelpipeError({
        code: Codes.invalidValue,
        message: `${option} expects a whole number${max === Number.MAX_SAFE_INTEGER ? ` ≥ ${min}` : ` from ${min} to ${max}`}`,
        path: option,
        expected: max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`,
        got: JSON.stringify(v),
      });
    }
    return n;
  };
}

export function numberArg(option: string, min = -Infinity, max = Infinity, what = "a number"): (v: string) => number {
  return (v: string) => {
    const n = v.trim() === "" ? Number.NaN : Number(v);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new VoxelpipeError({
        code: Codes.invalidValue,
        message: `${option} expects ${what}`,
        path: option,
        expected:
          what === "a number"
            ? `a number${Number.isFinite(min) ? ` ≥ ${min}` : ""}${Number.isFinite(max) ? ` and ≤ ${max}` : ""}`
            : what,
        got: JSON.stringify(v),
      });
    }
    return n;
  };
}

/** a repeatable option's parser: every value, in order */
export const collect = (v: string, prev: string[]) => [...prev, v];

/** `--backend`: auto or a backend name; anything else is VP180 before the command starts */
export const backendArg = (v: string): BackendChoice => parseBackendChoice(v, "--backend");

/** `--max-image-bytes`: a size (2GiB, 4e9), checked before the command starts; kept as written (VP240 quotes it) */
export const byteSizeArg = (v: string): string => {
  requireByteSize(v, "--max-image-bytes");
  return v;
};

/** `--threads`: a whole number ≥ 1, or auto (every core) */
export const threadsArg = (v: string): number | "auto" => (v.trim() === "auto" ? "auto" : intArg("--threads", 1)(v));

/** the trust and size options of a command that loads pipelines */
export interface LoadFlags {
  allowPlugin: string[];
  allowPluginsAnywhere: boolean;
  maxPipelineBytes?: number;
}

export function addLoadFlags(cmd: Command): Command {
  return cmd
    .option(
      "--allow-plugin <path>",
      "allow this plugin file or folder outside the pipeline's project tree (plugins are code); repeatable",
      collect,
      [],
    )
    .option("--allow-plugins-anywhere", "allow plugin paths anywhere on disk (only for pipelines you trust)", false)
    .option(
      "--max-pipeline-bytes <n>",
      `size cap of a pipeline file and each file it extends (default ${ConfigLimits.maxFileBytes}, or $${MAX_PIPELINE_BYTES_ENV})`,
      intArg("--max-pipeline-bytes", 1),
    );
}

/** the compile options these flags stand for (allowed paths resolve against the working directory) */
export function loadOptions(o: Partial<LoadFlags>, cwd: string): Pick<CompileOptions, "trust" | "maxFileBytes"> {
  return {
    trust: { allow: (o.allowPlugin ?? []).map((p) => resolve(cwd, p)), anywhere: !!o.allowPluginsAnywhere },
    maxFileBytes: o.maxPipelineBytes,
  };
}
