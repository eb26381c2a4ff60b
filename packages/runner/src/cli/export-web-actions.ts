import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  Codes,
  type CompiledPipeline,
  createLogger,
  engine,
  isPlainObject,
  isReference,
  selectBackend,
  VoxelpipeError,
} from "@voxelpipe/core";
import { type ComponentEntry, classNames, exportWebSite, resolveReferences, serveSite } from "@voxelpipe/web";
import { allowMissingKeys } from "../data/records.js";
import { builtinRegistries } from "../registries.js";
import type { LoadFlags } from "./args.js";
import { readNames } from "./evaluate.js";
import { CLI_INFER_STAGE, cliInferStage } from "./infer.js";
import type { CliIO } from "./io.js";

// What `export web` and `serve` do; cli/export-web.ts declares them and imports this module (the site
// builder, its assets, the registries) only when one of them runs.

export interface ExportWebOptions extends LoadFlags {
  pipeline: string;
  checkpoint: string;
  checkpointFormat: "voxelpipe" | "monai";
  out: string;
  stage?: string;
  labels?: string;
  set: string[];
}

export type Compile = (file: string, overrides: string[], flags: LoadFlags) => Promise<CompiledPipeline>;

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** class names: --labels, else the `labels` of the stage's Datalist file, else the viewer's default (BTCV at 14 classes) */
function siteClasses(p: CompiledPipeline, stage: string, model: ComponentEntry, labels?: string): string[] {
  let given: Record<string, string> | undefined = labels ? readNames(labels) : undefined;
  const stages = (p.value as { stages?: Record<string, Record<string, unknown>> }).stages ?? {};
  const data = stages[stage]?.data;
  if (!given && isPlainObject(data) && typeof data.datalist === "string" && !isReference(data.datalist)) {
    const file = resolve(p.baseDir, data.datalist);
    try {
      const l = (JSON.parse(readFileSync(file, "utf8")) as { labels?: unknown }).labels;
      if (isPlainObject(l)) given = Object.fromEntries(Object.entries(l).map(([k, v]) => [k, String(v)]));
    } catch {
      // no readable datalist: names from --labels or the default
    }
  }
  const n = typeof model.out_channels === "number" ? model.out_channels : given ? Object.keys(given).length : undefined;
  if (!n || n < 2) {
    throw new VoxelpipeError({
      code: Codes.webUnsupported,
      message: `model ${model.type} has no out_channels: the site needs a segmentation model (one output channel per class)`,
      hint: "export a pipeline whose train stage trains a segmentation model (e.g. UNETR), or give --labels",
    });
  }
  return classNames(n, given);
}

/** `voxelpipe export web`: compile the infer stage `voxelpipe infer` would run, then write its site */
export async function exportWeb(o: ExportWebOptions, io: CliIO, compile: Compile): Promise<void> {
  const path = resolve(io.cwd, o.pipeline);
  const first = await compile(path, o.set, o);
  // the infer stage `voxelpipe infer` would run, validated the same way
  const { name: source, stage } = cliInferStage(
    first.value,
    { ...o, input: io.cwd, output: io.cwd, split: "test", saveProbabilities: false, runsDir: "runs" },
    io.cwd,
  );
  const p = await compile(path, [...o.set, `stages.${CLI_INFER_STAGE}=${JSON.stringify(stage)}`], o);
  const resolved = resolveReferences(
    (p.value as { stages: Record<string, unknown> }).stages[CLI_INFER_STAGE],
    p.value,
    {
      at: ["stages", CLI_INFER_STAGE],
      locs: p.locs,
    },
  ) as {
    model: ComponentEntry;
    transforms?: ComponentEntry[];
    inferer?: ComponentEntry;
    image_key?: string;
  };
  const logger = createLogger({ write: (_l, line) => io.err(line) });
  // the model is built and its weights read, not run: cpu is enough
  const sel = await selectBackend("cpu");
  engine.prepareBackend(sel.tfBackend);
  const checkpoint = resolve(io.cwd, o.checkpoint);
  if (!existsSync(checkpoint)) {
    throw new VoxelpipeError({ code: Codes.fileNotFound, message: `checkpoint ${checkpoint} does not exist` });
  }
  const r = await exportWebSite(
    {
      name: p.name,
      stage: source,
      seed: p.seed,
      model: resolved.model,
      transforms: allowMissingKeys(resolved.transforms ?? []) as ComponentEntry[],
      inferer: resolved.inferer,
      imageKey: resolved.image_key ?? "image",
      checkpoint,
      checkpointFormat: o.checkpointFormat,
      classes: siteClasses(p, source, resolved.model, o.labels && resolve(io.cwd, o.labels)),
    },
    resolve(io.cwd, o.out),
    { registries: builtinRegistries(), logger, baseDir: p.baseDir },
  );
  io.out(
    `site: ${r.out} (${mib(r.bytes.total)}: weights ${mib(r.bytes.weights)}, app ${mib(r.bytes.app)}; ${r.manifest.transforms.length} preprocessing transforms, ${r.manifest.classes.length} classes)`,
  );
  io.out(`open it with: voxelpipe serve ${o.out}`);
}

/** `voxelpipe serve <dir>`: serve a folder until SIGINT/SIGTERM */
export async function serve(dir: string, o: { port: number }, io: CliIO): Promise<void> {
  const s = await serveSite(resolve(io.cwd, dir), o.port);
  io.out(`serving ${dir} at ${s.url} (Ctrl-C stops)`);
  await new Promise<void>((done) => {
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
  await s.close();
}
