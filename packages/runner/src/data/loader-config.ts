import { z } from "@voxelpipe/core";

/**
 * The stage-level `loader:` block: MONAI CacheDataset settings (cache_rate, cache_num), an optional
 * on-disk cache of the deterministic part of the chain, and worker threads for the rest.
 */
export const loaderSchema = z
  .object({
    cache_rate: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe("fraction of the split kept in memory after the deterministic transforms (MONAI CacheDataset)"),
    cache_num: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("at most this many items cached in memory (default: no limit); the first items by index are cached"),
    cache_dir: z
      .string()
      .min(1)
      .optional()
      .describe(
        "folder for an on-disk cache of every item's deterministic result (relative to the pipeline file); " +
          "a later run reads it instead of recomputing",
      ),
    num_workers: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("worker threads running the transforms (0: run them in the main thread)"),
    prefetch: z
      .number()
      .int()
      .min(1)
      .default(2)
      .describe("items each worker may have in flight; memory is bounded by num_workers × prefetch items"),
  })
  .strict();

export type LoaderConfig = z.output<typeof loaderSchema>;

/** Defaults of the `loader:` block (what a stage without one gets). */
export function loaderDefaults(partial: Partial<LoaderConfig> = {}): LoaderConfig {
  return loaderSchema.parse(partial);
}

/** MONAI CacheDataset: min(cache_num, int(n · cache_rate), n) — the first that many items are cached. */
export function cachedCount(n: number, cfg: Pick<LoaderConfig, "cache_rate" | "cache_num">): number {
  return Math.max(0, Math.min(cfg.cache_num ?? Number.POSITIVE_INFINITY, Math.floor(n * cfg.cache_rate), n));
}
