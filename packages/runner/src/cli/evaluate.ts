import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Codes, VoxelpipeError } from "@voxelpipe/core";
import type { Command } from "commander";
import { parse } from "yaml";
import { type EvaluationMetric, evaluationMetrics } from "../evaluate/evaluation-types.js";
import { byteSizeArg, numberArg } from "./args.js";
import type { CliIO } from "./io.js";

function readData(file: string, what: string): unknown {
  try {
    return parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new VoxelpipeError({
      code: Codes.fileInvalid,
      message: `cannot read ${what} ${file}: ${(e as Error).message.split("\n")[0]}`,
    });
  }
}

/** `{ "1": "spleen", ... }`, a list of names (index = value), or a Decathlon dataset.json (its `labels`) */
export function readNames(file: string): Record<string, string> {
  let v = readData(file, "label names") as Record<string, unknown> | unknown[];
  if (!Array.isArray(v) && v && typeof v === "object" && "labels" in v) v = v.labels as Record<string, unknown>;
  if (Array.isArray(v)) return Object.fromEntries(v.map((n, i) => [String(i), String(n)]));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, n]) => [k, String(n)]));
  throw new VoxelpipeError({
    code: Codes.fileInvalid,
    message: `${file}: expected a mapping value → name or a list of names`,
  });
}

/** `{ "52": 8, ... }` or `{ orig_labels: [...], target_labels: [...] }` (MapLabelValue's arguments) */
export function readMap(file: string): Record<string, number> {
  const v = readData(file, "value map") as Record<string, unknown>;
  if (v && Array.isArray(v.orig_labels) && Array.isArray(v.target_labels)) {
    return Object.fromEntries(
      (v.orig_labels as number[]).map((o, i) => [String(o), Number((v.target_labels as number[])[i])]),
    );
  }
  if (v && typeof v === "object" && Object.values(v).every((x) => typeof x === "number"))
    return v as Record<string, number>;
  throw new VoxelpipeError({
    code: Codes.fileInvalid,
    message: `${file}: expected { value: newValue } or { orig_labels, target_labels }`,
  });
}

/** `voxelpipe evaluate`: per-case × per-organ Dice / HD95 / HD / surface Dice of label maps. */
export function registerEvaluate(program: Command, io: CliIO): void {
  program
    .command("evaluate")
    .description("score predicted label maps against ground truth (files or folders paired by case name)")
    .requiredOption("--pred <path>", "prediction file or folder")
    .requiredOption("--label <path>", "ground-truth file or folder")
    .option("--labels <file>", "organ names: JSON/YAML { value: name }, a list, or a Decathlon dataset.json")
    .option(
      "--map <file>",
      "remap values of both sides first (unlisted values → 0): { value: new } or { orig_labels, target_labels }",
    )
    .option("--map-pred <file>", "remap the predictions' values only (instead of --map for that side)")
    .option("--map-label <file>", "remap the labels' values only (instead of --map for that side)")
    .option(
      "--max-image-bytes <size>",
      "refuse files declaring more voxel data than this (e.g. 2GiB; default VOXELPIPE_MAX_IMAGE_BYTES, else 1/16 of memory)",
      byteSizeArg,
    )
    .option("--metrics <list>", `comma-separated: ${evaluationMetrics.join(", ")}`, "dice,hd95")
    .option("--nsd-tolerance <mm>", "surface Dice tolerance (mm, ≥ 0)", numberArg("--nsd-tolerance", 0), 2)
    .option("--out <dir>", "write evaluation.csv and evaluation.json here", "evaluation")
    .option("--json", "print the result as one JSON object on stdout", false)
    .action(
      async (o: {
        pred: string;
        label: string;
        labels?: string;
        map?: string;
        mapPred?: string;
        mapLabel?: string;
        maxImageBytes?: string;
        metrics: string;
        nsdTolerance: number;
        out: string;
        json: boolean;
      }) => {
        const metrics = o.metrics.split(",").map((m) => m.trim()) as EvaluationMetric[];
        const bad = metrics.filter((m) => !evaluationMetrics.includes(m));
        if (bad.length) {
          throw new VoxelpipeError({
            code: Codes.invalidValue,
            message: `unknown metric ${bad.map((b) => `"${b}"`).join(", ")}`,
            expected: evaluationMetrics.join(", "),
          });
        }
        // the readers and metrics load only when a command evaluates
        const [{ setMaxImageBytes }, { evaluateFiles }, { evaluationCsv, evaluationTables }] = await Promise.all([
          import("@voxelpipe/transforms"),
          import("../evaluate/evaluate.js"),
          import("../evaluate/report.js"),
        ]);
        if (o.maxImageBytes !== undefined) setMaxImageBytes(o.maxImageBytes);
        const r = await evaluateFiles({
          pred: resolve(io.cwd, o.pred),
          label: resolve(io.cwd, o.label),
          names: o.labels ? readNames(resolve(io.cwd, o.labels)) : undefined,
          map: o.map ? readMap(resolve(io.cwd, o.map)) : undefined,
          mapPred: o.mapPred ? readMap(resolve(io.cwd, o.mapPred)) : undefined,
          mapLabel: o.mapLabel ? readMap(resolve(io.cwd, o.mapLabel)) : undefined,
          metrics,
          nsdTolerance: o.nsdTolerance,
        });
        const json = { cases: r.cases, mean: r.mean };
        const out = resolve(io.cwd, o.out);
        mkdirSync(out, { recursive: true });
        writeFileSync(join(out, "evaluation.json"), `${JSON.stringify(json, null, 2)}\n`);
        writeFileSync(join(out, "evaluation.csv"), evaluationCsv(r));
        if (o.json) io.out(JSON.stringify(json));
        else io.out(`${evaluationTables(r)}\nwrote ${join(out, "evaluation.csv")} and evaluation.json`);
      },
    );
}
