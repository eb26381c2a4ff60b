import { existsSync } from "node:fs";
import { resolve } from "node:path";
import {
  Codes,
  type CompiledPipeline,
  type Diagnostic,
  followReferences,
  formatPath,
  isPlainObject,
  isReference,
  type Registries,
  VoxelpipeError,
} from "@voxelpipe/core";
import { checkDatalistFiles, loadDecathlonDatalist } from "@voxelpipe/transforms";
import { inversionChecks } from "./inverted-chains.js";

/**
 * What can be known before any stage runs, checked for every stage at once (so a run never fails
 * hours later on something visible now):
 * - data: each `Datalist` with a plain path exists, parses, and every image/label it lists exists
 *   (datalists made by an upstream stage, `@stages.x.outputs.y`, are checked when that stage ran);
 * - init checkpoints given as plain paths exist;
 * - train stages: loss class weights vs the model's out_channels (DiceCE: all classes; Dice: less
 *   the background when include_background is false), metric num_classes vs out_channels, the
 *   validation inferer's roi_size vs the model's img_size.
 * Problems are diagnostics located at the config value (file:line:col) or inside the datalist.
 * `data: false` leaves out the file checks (datalists, listed images, init checkpoints): for
 * `voxelpipe validate --no-data-checks` on a machine without the data.
 */
export async function preflight(
  p: CompiledPipeline,
  stages: readonly string[] = p.order,
  opts: PreflightOptions = {},
): Promise<Diagnostic[]> {
  const { data = true, constraints = true } = opts;
  const out: Diagnostic[] = [];
  const checked = new Set<string>();
  const at = (path: (string | number)[]) => p.locs.nearest(path)?.value;
  const deref = (v: unknown): unknown => followReferences(p.value, v);
  for (const name of stages) {
    const stage = p.stages.get(name);
    if (!stage) continue;
    const base: (string | number)[] = ["stages", name];
    // ---- data files
    for (const { entry, path } of data ? components(stage.raw, base, deref) : []) {
      if (!isType(entry, "Datalist") || typeof entry.datalist !== "string" || isReference(entry.datalist)) continue;
      const file = resolve(p.baseDir, entry.datalist);
      if (checked.has(file)) continue;
      checked.add(file);
      if (!existsSync(file)) {
        // an upstream stage may write it; without one nothing will
        if (stage.needs.length) continue;
        out.push({
          code: Codes.fileNotFound,
          message: `datalist not found: ${file}`,
          path: formatPath([...path, "datalist"]),
          loc: at([...path, "datalist"]),
          got: String(entry.datalist),
          hint: "relative paths resolve against the pipeline file's directory",
        });
        continue;
      }
      try {
        const lists = await loadDecathlonDatalist(file, {
          baseDir: typeof entry.base_dir === "string" ? resolve(p.baseDir, entry.base_dir) : undefined,
        });
        if (entry.check_files !== false) await checkDatalistFiles(lists, ["image", "label"], file);
      } catch (e) {
        if (!(e instanceof VoxelpipeError)) throw e;
        out.push(
          ...e.diagnostics.map((d) => ({
            ...d,
            loc: d.loc ?? at([...path, "datalist"]),
            hint: d.hint ?? `the datalist of ${formatPath(path)}`,
          })),
        );
      }
    }
    // ---- init checkpoints given as plain paths (an upstream output is checked when it is made)
    for (const { entry, path } of data ? components(stage.raw, base, deref) : []) {
      const init = deref(entry.init);
      const from = isPlainObject(init) ? init.from : undefined;
      if (typeof from !== "string" || isReference(from) || stage.needs.length) continue;
      if (!existsSync(resolve(p.baseDir, from)))
        out.push({
          code: Codes.fileNotFound,
          message: `checkpoint to initialise ${String(entry.type)} from not found: ${resolve(p.baseDir, from)}`,
          path: formatPath([...path, "init", "from"]),
          loc: at([...path, "init", "from"]),
          got: from,
          hint: "relative paths resolve against the pipeline file's directory; or take it from a stage: @stages.<s>.outputs.best",
        });
    }
    if (constraints && opts.registries) out.push(...inversionChecks(p, opts.registries, [name]));
    if (constraints && stage.kind === "train") out.push(...trainChecks(stage.raw, base, deref, at));
  }
  return out;
}

export interface PreflightOptions {
  /** check data files: datalists exist and parse, listed images exist, init checkpoints exist (default true) */
  data?: boolean;
  /** check cross-component constraints of train stages (default true) */
  constraints?: boolean;
  /** the registries it was compiled with: with them, chains that are inverted are checked too (VP105) */
  registries?: Registries;
}

/** throw every preflight problem at once */
export async function assertPreflight(
  p: CompiledPipeline,
  stages?: readonly string[],
  registries?: Registries,
): Promise<void> {
  const problems = await preflight(p, stages, { registries });
  if (problems.length) throw new VoxelpipeError(problems);
}

type Locate = (path: (string | number)[]) => Diagnostic["loc"];

function trainChecks(
  config: unknown,
  base: (string | number)[],
  deref: (v: unknown) => unknown,
  at: Locate,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!isPlainObject(config)) return out;
  const model = deref(config.model);
  if (!isPlainObject(model)) return out;
  const classes = typeof model.out_channels === "number" ? model.out_channels : undefined;
  const modelType = String(model.type);
  const bad = (path: (string | number)[], message: string, expected: string, got: string, hint: string) =>
    out.push({ code: Codes.invalidValue, message, path: formatPath(path), loc: at(path), expected, got, hint });
  if (classes !== undefined) {
    const step = deref(config.step);
    for (const [node, v] of Object.entries(isPlainObject(step) ? step : {})) {
      const call = isPlainObject(v) ? deref(v.call) : undefined;
      if (!isPlainObject(call) || !Array.isArray(call.weight)) continue;
      const dice = isType(call, "DiceLoss");
      if (!dice && !isType(call, "DiceCELoss")) continue;
      const want = dice && call.include_background === false ? classes - 1 : classes;
      if (call.weight.length !== want) {
        bad(
          [...base, "step", node, "call", "weight"],
          `${call.type} has ${call.weight.length} class weights, the model (${modelType}) has out_channels ${classes}`,
          `${want} weights${dice && call.include_background === false ? " (out_channels − 1: include_background is false)" : ""}`,
          `${call.weight.length} weights`,
          `one weight per class the loss sees; ${formatPath([...base, "model", "out_channels"])} is ${classes}`,
        );
      }
    }
    const validate = deref(config.validate);
    const metrics = isPlainObject(validate) ? deref(validate.metrics) : undefined;
    if (Array.isArray(metrics)) {
      for (const [i, m0] of metrics.entries()) {
        const m = deref(m0);
        if (!isPlainObject(m) || typeof m.num_classes !== "number" || m.num_classes === classes) continue;
        bad(
          [...base, "validate", "metrics", i, "num_classes"],
          `${m.type} num_classes is ${m.num_classes}, the model (${modelType}) predicts out_channels ${classes} classes`,
          String(classes),
          String(m.num_classes),
          "label maps from the model's argmax hold values 0..out_channels − 1",
        );
      }
    }
  }
  const validate = deref(config.validate);
  const inferer = isPlainObject(validate) ? deref(validate.inferer) : undefined;
  const img = deref(model.img_size);
  const roi = isPlainObject(inferer) ? deref(inferer.roi_size) : undefined;
  if (Array.isArray(img) && Array.isArray(roi) && img.every((x) => typeof x === "number")) {
    const full = img.length === roi.length && roi.every((r, i) => r === img[i] || r === -1);
    if (!full)
      bad(
        [...base, "validate", "inferer", "roi_size"],
        `${String(isPlainObject(inferer) ? inferer.type : "the inferer")} roi_size [${roi.join(", ")}] differs from the model's img_size [${img.join(", ")}]`,
        `[${img.join(", ")}]`,
        `[${roi.join(", ")}]`,
        `${modelType} takes windows of exactly img_size; use the same value for both (e.g. \${vars.roi})`,
      );
  }
  return out;
}

function isType(entry: Record<string, unknown>, name: string): boolean {
  return typeof entry.type === "string" && (entry.type === name || entry.type.endsWith(`/${name}`));
}

/** every component entry (`{ type, ... }`) in a config, with its path; references followed (not into stage outputs) */
function components(
  v: unknown,
  path: (string | number)[],
  deref: (v: unknown) => unknown,
  depth = 0,
): { entry: Record<string, unknown>; path: (string | number)[] }[] {
  if (depth > 32) return [];
  const x = deref(v);
  const out: { entry: Record<string, unknown>; path: (string | number)[] }[] = [];
  if (Array.isArray(x)) {
    for (const [i, y] of x.entries()) out.push(...components(y, [...path, i], deref, depth + 1));
  } else if (isPlainObject(x)) {
    if (typeof x.type === "string") out.push({ entry: x, path });
    for (const [k, y] of Object.entries(x)) out.push(...components(y, [...path, k], deref, depth + 1));
  }
  return out;
}
