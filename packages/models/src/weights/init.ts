import { isAbsolute, resolve } from "node:path";
import {
  Codes,
  type Diagnostic,
  type Logger,
  type Model,
  readSafetensors,
  type SafeTensor,
  VoxelpipeError,
  z,
} from "@voxelpipe/core";
import type { ParamInfo } from "../params/param-store.js";
import { isVoxelpipeCheckpoint } from "./checkpoint.js";
import { fromTorchShape } from "./layout.js";
import { importMonaiStateDict } from "./monai.js";
import { assignVariable } from "./tensors.js";

/**
 * `init:` of every model entry: where initial weights come from. The SSL → UNETR transfer is
 * `{ from: ssl.safetensors, include: ["patch_embedding.*", "blocks.*", "norm.*"], rename: { "": "vit." } }`.
 */
export const initSchema = z
  .object({
    from: z
      .string()
      .min(1)
      .describe("checkpoint (.safetensors) to load; relative paths resolve against the pipeline file"),
    format: z
      .enum(["voxelpipe", "monai"])
      .default("voxelpipe")
      .describe(
        "voxelpipe: our checkpoints (channel-last layouts); monai: a MONAI/PyTorch state dict saved as safetensors",
      ),
    include: z
      .array(z.string())
      .optional()
      .describe("keep only checkpoint keys matching one of these patterns (`*` = any characters), before rename"),
    exclude: z
      .array(z.string())
      .optional()
      .describe("drop checkpoint keys matching any of these patterns, before rename"),
    rename: z
      .record(z.string(), z.string())
      .optional()
      .describe(
        'prefix map from checkpoint keys to model keys, longest prefix wins; { "": "vit." } prefixes every key',
      ),
    strict: z.boolean().default(false).describe("error on missing or unexpected keys instead of logging them"),
  })
  .strict();
export type InitSpec = z.input<typeof initSchema>;

export interface InitReport {
  /** model keys that received a tensor */
  loaded: string[];
  /** model keys left as they were */
  missing: string[];
  /** checkpoint keys (after rename) with no such model parameter */
  unexpected: string[];
  /** checkpoint keys removed by include/exclude */
  filtered: string[];
  /** tensors that are never parameters: optimizer state (`optimizer/*`), unused MONAI 1.4+ cross-attention */
  ignored: string[];
}

/** `*` matches any run of characters (dots included), `?` one character; the whole key must match. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

/** A rename function from a prefix map: the longest matching prefix is replaced. */
export function prefixRenamer(map: Record<string, string> | undefined): (key: string) => string {
  const rules = Object.entries(map ?? {}).sort((a, b) => b[0].length - a[0].length);
  return (key) => {
    for (const [from, to] of rules) if (key.startsWith(from)) return to + key.slice(from.length);
    return key;
  };
}

type InitTarget = Model & { paramInfo?: ReadonlyMap<string, ParamInfo>; component?: string };

const eq = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Load `init.from` into `model`: filter (include/exclude), rename, convert layouts (monai format),
 * check every shape before assigning anything, then assign. Logs loaded / missing / unexpected
 * counts (lists at debug level); errors on shape mismatches, and on missing/unexpected keys when strict.
 */
export async function applyInit(
  model: InitTarget,
  init: InitSpec,
  logger: Logger,
  opts: { baseDir?: string } = {},
): Promise<InitReport> {
  // Long by design: one transaction: filter, rename, convert and check every shape before assigning anything,
  // then assign and report; the steps share the tensor maps and the counts they log.
  const spec = initSchema.parse(init);
  const file = isAbsolute(spec.from) ? spec.from : resolve(opts.baseDir ?? process.cwd(), spec.from);
  const { tensors: raw, metadata } = await readSafetensors(file);
  if (spec.format === "voxelpipe" && !isVoxelpipeCheckpoint(metadata)) {
    logger.warn(
      `init: ${file} has no voxelpipe metadata (format "${metadata.format ?? "none"}"); if it is a MONAI/PyTorch state dict set init.format: monai`,
    );
  }
  const inc = spec.include?.map(globToRegExp);
  const exc = (spec.exclude ?? []).map(globToRegExp);
  const filtered: string[] = [];
  const kept = new Map<string, SafeTensor>();
  const state: string[] = [];
  for (const [k, t] of raw) {
    // training state stored next to the weights (the runner's `optimizer/<slot>`) is never a parameter
    if (k.startsWith("optimizer/")) state.push(k);
    else if ((inc && !inc.some((r) => r.test(k))) || exc.some((r) => r.test(k))) filtered.push(k);
    else kept.set(k, t);
  }
  const rename = prefixRenamer(spec.rename);
  const info = model.paramInfo ?? new Map<string, ParamInfo>();
  let source = kept;
  let ignored: string[] = state;
  if (spec.format === "monai") {
    const r = importMonaiStateDict(kept, info, rename);
    source = r.tensors;
    ignored = [...state, ...r.ignored];
  }

  const assignments: [string, SafeTensor][] = [];
  const unexpected: string[] = [];
  const problems: Diagnostic[] = [];
  const seen = new Map<string, string>();
  for (const [k, t] of source) {
    const target = rename(k);
    const from = target === k ? `"${k}"` : `"${k}" (renamed to "${target}")`;
    const prev = seen.get(target);
    if (prev !== undefined) {
      problems.push({
        code: Codes.invalidValue,
        message: `init: checkpoint keys "${prev}" and "${k}" both map to model key "${target}"`,
        path: "init.rename",
        hint: "narrow include/exclude or fix the rename map",
      });
      continue;
    }
    seen.set(target, k);
    const v = model.params.get(target);
    if (!v) {
      unexpected.push(target);
      continue;
    }
    if (!eq(v.shape, t.shape)) {
      const layout = info.get(target)?.layout ?? "plain";
      let hint: string | undefined;
      if (spec.format === "voxelpipe" && eq(fromTorchShape(t.shape, layout), v.shape)) {
        hint = "the tensor looks PyTorch-layout: set init.format: monai";
      } else if (target.endsWith("position_embeddings")) {
        hint = "the number of patch tokens differs: img_size and patch_size must equal the checkpoint's";
      } else {
        hint = "the checkpoint was trained with a different configuration (hidden_size, channels, feature_size, ...)";
      }
      problems.push({
        code: Codes.invalidValue,
        message: `init: shape mismatch for ${from} from ${file}`,
        path: "init",
        expected: `[${v.shape.join(", ")}]`,
        got: `[${t.shape.join(", ")}]`,
        hint,
      });
      continue;
    }
    assignments.push([target, t]);
  }
  const loadedSet = new Set(assignments.map(([k]) => k));
  const missing = [...model.params.keys()].filter((k) => !loadedSet.has(k));
  if (spec.strict && (missing.length > 0 || unexpected.length > 0)) {
    const list = (xs: string[]) => xs.slice(0, 8).join(", ") + (xs.length > 8 ? `, … (${xs.length} in all)` : "");
    if (missing.length) {
      problems.push({
        code: Codes.invalidValue,
        message: `init (strict): ${missing.length} model parameters are not in ${file}: ${list(missing)}`,
        path: "init.strict",
        hint: "set strict: false to keep their current values, or load a matching checkpoint",
      });
    }
    if (unexpected.length) {
      problems.push({
        code: Codes.invalidValue,
        message: `init (strict): ${unexpected.length} checkpoint tensors match no model parameter: ${list(unexpected)}`,
        path: "init.strict",
        hint: "drop them with include/exclude, map them with rename, or set strict: false",
      });
    }
  }
  if (problems.length > 0) throw new VoxelpipeError(problems);

  for (const [k, t] of assignments) assignVariable(model.params.get(k)!, t);

  const name = model.component ?? "model";
  logger.info(
    `init ${name} from ${file}: loaded ${assignments.length} tensors, missing ${missing.length}, unexpected ${unexpected.length}` +
      (filtered.length ? `, filtered out ${filtered.length}` : "") +
      (ignored.length ? `, ignored ${ignored.length} non-parameter tensors (optimizer state, unused MONAI keys)` : ""),
  );
  if (assignments.length === 0) {
    const sample = [...raw.keys()].slice(0, 3).join(", ");
    logger.warn(
      `init: nothing was loaded from ${file}; check include/exclude/rename (checkpoint keys look like: ${sample}; model keys like: ${[...model.params.keys()].slice(0, 3).join(", ")})`,
    );
  }
  if (missing.length) logger.debug(`init: missing (kept current values): ${missing.join(", ")}`);
  if (unexpected.length) logger.debug(`init: unexpected (ignored): ${unexpected.join(", ")}`);
  if (filtered.length) logger.debug(`init: filtered by include/exclude: ${filtered.join(", ")}`);
  if (ignored.length) logger.debug(`init: ignored non-parameter tensors: ${ignored.join(", ")}`);
  return { loaded: assignments.map(([k]) => k), missing, unexpected, filtered, ignored };
}

/**
 * Load a trained model's checkpoint for inference or export: like `init:`, but every parameter of
 * the model must be in the file (a partial load would predict with random weights). `formatOption`
 * names how the user sets the format where they are (a pipeline key or a CLI flag), for the hint.
 */
export async function applyCheckpoint(
  model: InitTarget,
  checkpoint: { from: string; format: InitSpec["format"] },
  logger: Logger,
  opts: { baseDir?: string; formatOption: string },
): Promise<InitReport> {
  const r = await applyInit(model, checkpoint, logger, { baseDir: opts.baseDir });
  if (r.missing.length) {
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: `checkpoint ${checkpoint.from} lacks ${r.missing.length} of the model's parameters (${r.missing.slice(0, 3).join(", ")}${r.missing.length > 3 ? ", ..." : ""})`,
      hint: `is it a checkpoint of this model with these arguments? (a MONAI state dict needs ${opts.formatOption} monai)`,
    });
  }
  return r;
}
