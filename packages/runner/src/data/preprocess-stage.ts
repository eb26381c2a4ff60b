/**
 * The `preprocess` stage: a dataset through a transform chain ending in SaveImage, e.g. resample
 * and crop every case once so that training starts from the result. Publishes `dir` (the output
 * folder) and `datalist` (a Decathlon JSON of the written files, one list per split).
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  Codes,
  type Dataset,
  defineStage,
  isCompiledEntry,
  isPlainObject,
  isVolume,
  type Slots,
  type StageConfig,
  type StageRuntime,
  type Transform,
  VoxelpipeError,
  z,
} from "@voxelpipe/core";
import { caseName, SaveImageDef, saveImagePath } from "@voxelpipe/transforms";
import type { ChainSource } from "./chain-source.js";
import { DataLoader } from "./loader.js";
import { loaderSchema } from "./loader-config.js";

/** each item is processed once, so there is nothing to cache: only the worker settings apply */
export const preprocessLoaderSchema = loaderSchema.pick({ num_workers: true, prefetch: true }).strict();

/** The `preprocess` stage's configuration: `run` receives this schema's output. */
function preprocessSchema(s: Slots) {
  return z.object({
    data: s.component("dataset").describe("where the records come from (e.g. a Datalist)"),
    split: z
      .union([z.string(), z.array(z.string()).min(1)])
      .default("training")
      .describe("split(s) to process"),
    transforms: z
      .array(s.component("transform"))
      .default([])
      .describe(
        "the chain, usually ending with SaveImage; without one, SaveImage for image/label into <run dir>/preprocessed is appended",
      ),
    loader: preprocessLoaderSchema.optional().describe("worker threads: { num_workers, prefetch }"),
  });
}

export type PreprocessConfig = StageConfig<ReturnType<typeof preprocessSchema>>;

export const PreprocessDef = defineStage({
  name: "preprocess",
  description: "run a transform chain over a dataset and write the results with SaveImage (e.g. resample once)",
  outputs: ["dir", "datalist"],
  schema: preprocessSchema,
  run: preprocess,
});

const SAVE_TYPE = new RegExp(`^(?:vp/)?${SaveImageDef.name}$`);

type SaveArgs = z.output<typeof SaveImageDef.args>;

/** the SaveImage settings of the chain's trailing SaveImage entries (to name the files they write) */
function trailingSaves(entries: unknown[], baseDir: string): SaveArgs[] {
  const out: SaveArgs[] = [];
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i];
    if (!isPlainObject(e) || typeof e.type !== "string" || !SAVE_TYPE.test(e.type)) break;
    const { type: _t, ...args } = e;
    // a compiled entry's arguments are SaveImage's schema output already; the entries this stage appends are parsed
    const parsed = isCompiledEntry(e)
      ? { success: true as const, data: args as SaveArgs }
      : SaveImageDef.args.safeParse(args);
    if (parsed.success) out.unshift({ ...parsed.data, output_dir: resolve(baseDir, parsed.data.output_dir) });
  }
  return out;
}

async function preprocess(c: PreprocessConfig, rt: StageRuntime): Promise<void> {
  const dataset = await rt.build<Dataset>("dataset", "data");
  const splits = typeof c.split === "string" ? [c.split] : c.split;
  const { entries, extra, saves } = withSaves(c, rt);
  const all = [...entries, ...extra];
  const chain: Transform[] = [];
  for (let i = 0; i < all.length; i++)
    chain.push(await rt.buildEntry<Transform>("transform", all[i], `transforms.${i}`));

  const source: ChainSource = {
    pipeline: rt.pipeline,
    stage: rt.name,
    list: "transforms",
    extra,
    rngSeed: rt.rng.seed,
    backend: rt.backend,
  };
  const dir = saves[saves.length - 1].output_dir;
  if (saves.some((s) => s.output_dir !== dir)) {
    rt.logger.warn(`the trailing SaveImage transforms write into different folders; publishing ${dir} as \`dir\``);
  }
  const lists: Record<string, Record<string, string>[]> = {};
  let total = 0;
  const t0 = Date.now();
  for (const split of splits) {
    const loader = new DataLoader({
      dataset,
      split,
      chain,
      rng: rt.rng,
      config: { cache_rate: 0, ...c.loader },
      source,
      logger: rt.logger,
      where: (ti) => rt.where(`transforms.${ti}`),
    });
    const seen = new Set<string>();
    const list: Record<string, string>[] = (lists[split] = []);
    let done = 0;
    try {
      for await (const { samples } of loader.items(0)) {
        for (const s of samples) {
          const rec = writtenFiles(s, saves);
          const key = JSON.stringify(rec);
          if (Object.keys(rec).length && !seen.has(key)) {
            seen.add(key);
            list.push(rec);
          }
        }
        done++;
        total++;
        if (done === loader.size || done % Math.max(1, Math.ceil(loader.size / 10)) === 0) {
          rt.logger.info(`${split}: ${done}/${loader.size} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        }
      }
    } finally {
      await loader.close();
    }
  }
  if (total === 0) {
    throw new VoxelpipeError({
      code: Codes.data,
      message: `nothing to preprocess: split${splits.length > 1 ? "s" : ""} ${splits.join(", ")} ${splits.length > 1 ? "are" : "is"} empty`,
      hint: rt.where("split"),
    });
  }
  const datalist = join(rt.artifacts.dir, "datalist.json");
  writeFileSync(datalist, `${JSON.stringify(lists, null, 2)}\n`);
  rt.artifacts.publish("dir", dir);
  rt.artifacts.publish("datalist", datalist);
}

/** the chain's entries and its trailing SaveImage settings; a chain without one gets SaveImage for image/label */
function withSaves(c: PreprocessConfig, rt: StageRuntime): { entries: unknown[]; extra: unknown[]; saves: SaveArgs[] } {
  const entries = c.transforms;
  let saves = trailingSaves(entries, rt.baseDir);
  const extra: unknown[] = [];
  if (saves.length === 0) {
    const output_dir = join(rt.artifacts.dir, "preprocessed");
    // image and label of a case often share a file name: the postfix keeps them apart
    extra.push(
      { type: SaveImageDef.name, keys: ["image"], allow_missing_keys: true, output_dir, output_postfix: "image" },
      {
        type: SaveImageDef.name,
        keys: ["label"],
        allow_missing_keys: true,
        output_dir,
        output_postfix: "label",
        dtype: "int16",
      },
    );
    saves = trailingSaves(extra, rt.baseDir);
    rt.logger.info(`no SaveImage at the end of the chain: writing image/label into ${output_dir}`);
  }
  return { entries, extra, saves };
}

/** the files the trailing SaveImage transforms wrote for one sample, by key (the datalist record) */
function writtenFiles(s: Record<string, unknown>, saves: SaveArgs[]): Record<string, string> {
  const rec: Record<string, string> = {};
  for (const save of saves) {
    for (const k of save.keys) {
      const v = s[k];
      const name = isVolume(v) ? caseName(v) : undefined;
      if (name === undefined) continue;
      rec[k] = saveImagePath(save.output_dir, name, {
        postfix: save.output_postfix,
        ext: save.output_ext,
        separateFolder: save.separate_folder,
      });
    }
  }
  return rec;
}
