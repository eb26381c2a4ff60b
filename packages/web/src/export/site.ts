/**
 * `voxelpipe export web`, the Node side: from an inference spec (what `voxelpipe infer` would run:
 * model entry, validation chain, inferer, checkpoint) write a static site folder: the browser app
 * (dist/app: index.html, bundle, wasm binaries), the model's weights alone (no optimizer state) as
 * safetensors, and manifest.json (the deterministic preprocessing prefix, inferer, class names).
 */
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  Codes,
  type ComponentKind,
  encodeSafetensors,
  type Logger,
  type Model,
  packageVersion,
  type Registries,
  runContainer,
  Services,
  stageContainer,
  type Transform,
  tf,
  VoxelpipeError,
  writeFileAtomic,
} from "@voxelpipe/core";
import { applyCheckpoint, CHECKPOINT_FORMAT, countParams, defaultVersions, modelTensors } from "@voxelpipe/models";
import { type ComponentEntry, MANIFEST_FILE, MANIFEST_FORMAT, type Manifest, WEIGHTS_FILE } from "./manifest.js";
import { webRegistries } from "./registries.js";

/** the built browser app (vite.app.config.ts writes it next to this module's dist folder) */
export const APP_DIR = fileURLToPath(new URL("../app/", import.meta.url));

export interface WebExportSpec {
  /** pipeline name and the stage model and preprocessing come from */
  name: string;
  stage: string;
  seed: number;
  /** component entries, references resolved (see resolveReferences); the model's `init` is ignored */
  model: ComponentEntry;
  transforms: ComponentEntry[];
  inferer?: ComponentEntry;
  imageKey: string;
  checkpoint: string;
  checkpointFormat: "voxelpipe" | "monai";
  /** class names, index = label value */
  classes: string[];
}

export interface WebExportResult {
  out: string;
  manifest: Manifest;
  /** bytes of the whole folder, of the weights, and of the app (bundle + wasm + html) */
  bytes: { total: number; weights: number; app: number };
}

function folderBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? folderBytes(p) : statSync(p).size;
  }
  return n;
}

/** the site folder: new, empty, or an earlier export (replaced); anything else is refused */
function prepareOut(out: string): void {
  if (existsSync(out)) {
    if (!statSync(out).isDirectory())
      throw new VoxelpipeError({ code: Codes.webSite, message: `--out ${out} is a file`, hint: "name a folder" });
    const entries = readdirSync(out);
    if (entries.length && !entries.includes(MANIFEST_FILE)) {
      throw new VoxelpipeError({
        code: Codes.webSite,
        message: `--out ${out} is a non-empty folder that is not an exported site`,
        got: entries.slice(0, 5).join(", ") + (entries.length > 5 ? ", …" : ""),
        hint: "name a new or empty folder (an earlier export, with its manifest.json, is replaced)",
      });
    }
    for (const e of entries) rmSync(join(out, e), { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
}

/** every entry the site needs must be one the browser app bundles (VP295, all listed at once) */
function checkBundled(entries: { kind: ComponentKind; entry: ComponentEntry; path: string }[]): void {
  const web = webRegistries();
  const missing = entries.filter(({ kind, entry }) => {
    try {
      web.of(kind).resolve(entry.type);
      return false;
    } catch {
      return true;
    }
  });
  if (!missing.length) return;
  throw new VoxelpipeError(
    missing.map(({ kind, entry, path }) => ({
      code: Codes.webUnsupported,
      message: `${kind} ${entry.type} (${path}) cannot run in the exported site: the browser app bundles voxelpipe's own transforms, models and inferers only`,
      path,
      hint: "export a pipeline whose model, deterministic preprocessing and inferer are built-in components (`voxelpipe list`)",
    })),
  );
}

/** Write the site. Needs an initialised tfjs backend (cpu is enough: the model is built, not run). */
export async function exportWebSite(
  spec: WebExportSpec,
  outDir: string,
  o: { registries: Registries; logger: Logger; baseDir: string },
): Promise<WebExportResult> {
  const out = resolve(outDir);
  if (!existsSync(join(APP_DIR, "index.html"))) {
    throw new VoxelpipeError({
      code: Codes.webSite,
      message: `the browser app is not built (${APP_DIR} has no index.html)`,
      hint: "run `npm run build` (it builds @voxelpipe/web's app with vite)",
    });
  }
  const { init: _init, ...model } = spec.model;
  const root = { model, transforms: spec.transforms, inferer: spec.inferer };
  // built with the pipeline's own registries, as `voxelpipe infer` builds them
  const run = runContainer({
    registries: o.registries,
    logger: o.logger,
    seed: spec.seed,
    backend: tf.getBackend(),
    config: { root, baseDir: o.baseDir },
  });
  const resolver = stageContainer(run).get(Services.components);
  const built = await Promise.all(
    spec.transforms.map((_, i) => resolver.build<Transform>("transform", ["transforms", i])),
  );
  const firstRandom = built.findIndex((t) => t.random);
  const prefix = firstRandom < 0 ? spec.transforms : spec.transforms.slice(0, firstRandom);
  const dropped = spec.transforms.slice(prefix.length).map((t) => t.type);
  if (dropped.length)
    o.logger.info(`preprocessing: the ${prefix.length} deterministic transforms before ${dropped[0]}`);
  checkBundled([
    { kind: "model", entry: model, path: "model" },
    ...prefix.map((entry, i) => ({ kind: "transform" as const, entry, path: `transforms.${i}` })),
    ...(spec.inferer ? [{ kind: "inferer" as const, entry: spec.inferer, path: "inferer" }] : []),
  ]);

  const { weights, parameters } = await modelWeights(await resolver.build<Model>("model", ["model"]), spec, model, o);

  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    name: spec.name,
    stage: spec.stage,
    seed: spec.seed,
    checkpoint: relative(o.baseDir, resolve(o.baseDir, spec.checkpoint)) || spec.checkpoint,
    model,
    transforms: prefix,
    dropped,
    ...(spec.inferer ? { inferer: spec.inferer } : {}),
    image_key: spec.imageKey,
    classes: spec.classes,
    weights: {
      file: WEIGHTS_FILE,
      bytes: weights.length,
      parameters,
      sha256: createHash("sha256").update(weights).digest("hex"),
    },
    versions: { ...defaultVersions(), "@voxelpipe/web": packageVersion(import.meta.url) },
  };
  prepareOut(out);
  cpSync(APP_DIR, out, { recursive: true });
  const app = folderBytes(out);
  await writeFileAtomic(join(out, WEIGHTS_FILE), weights);
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFileAtomic(join(out, MANIFEST_FILE), manifestText);
  const total = app + weights.length + Buffer.byteLength(manifestText);
  return { out, manifest, bytes: { total, weights: weights.length, app } };
}

/** the model's parameters from the checkpoint (every one must be there), as a weights-only safetensors file */
async function modelWeights(
  net: Model,
  spec: WebExportSpec,
  model: Record<string, unknown> & { type: string },
  o: { logger: Logger; baseDir: string },
): Promise<{ weights: Uint8Array; parameters: number }> {
  let weights: Uint8Array;
  let parameters: number;
  try {
    await applyCheckpoint(net, { from: spec.checkpoint, format: spec.checkpointFormat }, o.logger, {
      baseDir: o.baseDir,
      formatOption: "--checkpoint-format",
    });
    parameters = countParams(net.params);
    // the parameters alone, in voxelpipe's layouts: a training checkpoint's optimizer state stays behind
    weights = encodeSafetensors(await modelTensors(net.params), {
      format: CHECKPOINT_FORMAT,
      voxelpipe: JSON.stringify({ component: model.type, args: model, versions: defaultVersions() }),
    });
  } finally {
    net.dispose();
  }
  return { weights, parameters };
}
