// Over 300 lines by design: one class: the loader's cache (CacheDataset semantics), disk cache, prefetch and
// worker pool share its state and its close().
/**
 * The data loader: a dataset split through a transform chain into batches, with MONAI CacheDataset
 * semantics (the deterministic prefix of the chain runs once per cached item; every epoch gets a
 * deep copy and runs the random rest), an optional on-disk cache, and worker threads.
 */
import {
  Codes,
  type Dataset,
  type Logger,
  type RngStreams,
  type Sample,
  type Transform,
  type tf,
  VoxelpipeError,
} from "@voxelpipe/core";
import { type ChainItem, deterministicPrefix, keepsInputs, runRange, subjectOf } from "@voxelpipe/transforms";
import { type ChainSource, chainEntries, chainPath, resolveEntryRefs } from "./chain-source.js";
import { collate } from "./collate.js";
import { DiskCache } from "./disk-cache.js";
import { cachedCount, type LoaderConfig, loaderDefaults } from "./loader-config.js";
import { type TaskInput, WorkerPool, WorkerTaskError } from "./pool.js";
import type { TaskResult } from "./protocol.js";
import { cloneSamples, detachSamples } from "./sample-codec.js";

export interface DataLoaderOptions {
  dataset: Dataset;
  split: string;
  /** the chain, built in this thread (its `random` flags decide what is cached) */
  chain: readonly Transform[];
  /** the streams the chain draws from (the stage's rt.rng) */
  rng: RngStreams;
  /** the stage's `loader:` block; default: loaderSchema's defaults */
  config?: Partial<LoaderConfig>;
  /** the chain as config: required for workers; names transforms in errors and keys the disk cache */
  source?: ChainSource;
  /** config identifying the deterministic transforms in disk-cache keys when there is no `source` */
  cacheKey?: unknown;
  /** relative cache_dir and record paths resolve against it (default: the pipeline's baseDir, else cwd) */
  baseDir?: string;
  logger?: Logger;
  /** where transform ti is written (file:line:col), for error hints */
  where?: (ti: number) => string;
}

export interface BatchOptions {
  epoch: number;
  batchSize: number;
  shuffle: boolean;
  /** batch keys to turn into tensors */
  keys?: readonly string[];
}

/** Counters for logs, tests and benchmarks. */
export interface LoaderStats {
  /** deterministic prefixes computed (cache fills and un-cached items) */
  prefixRuns: number;
  diskHits: number;
  diskWrites: number;
}

export class DataLoader {
  readonly config: LoaderConfig;
  /** items of the split */
  readonly size: number;
  /** how many items (the first, by index) are cached in memory */
  readonly cached: number;
  /** transforms [0, prefixEnd) are deterministic: the part that is cached */
  readonly prefixEnd: number;
  /**
   * The random rest runs on the cached items themselves, without MONAI's deep copy (copy_cache): in this
   * thread, when every transform of the rest keeps its inputs intact (built-in transforms; see
   * @voxelpipe/transforms owned.ts). Its results are then detached from the cache (detachSamples).
   */
  readonly readsCache: boolean;
  readonly stats: LoaderStats = { prefixRuns: 0, diskHits: 0, diskWrites: 0 };
  private readonly memory = new Map<number, Sample[]>();
  private readonly filling = new Map<number, Promise<unknown>>();
  private readonly keys = new Map<number, string>();
  private readonly disk?: DiskCache;
  private pool?: WorkerPool;
  /** maxInFlight of pools already closed */
  private peak = 0;
  private announced = false;

  constructor(private readonly o: DataLoaderOptions) {
    this.config = loaderDefaults(o.config);
    this.size = o.dataset.size(o.split);
    this.prefixEnd = deterministicPrefix(o.chain);
    this.cached = this.prefixEnd > 0 ? cachedCount(this.size, this.config) : 0;
    this.readsCache = this.config.num_workers === 0 && o.chain.slice(this.prefixEnd).every(keepsInputs);
    const baseDir = o.baseDir ?? o.source?.pipeline.baseDir ?? process.cwd();
    if (this.config.cache_dir !== undefined && this.prefixEnd > 0) {
      let keyConfig = o.cacheKey;
      if (keyConfig === undefined && o.source) {
        keyConfig = resolveEntryRefs(chainEntries(o.source).slice(0, this.prefixEnd), o.source.pipeline);
      }
      if (keyConfig === undefined) {
        throw new VoxelpipeError({
          code: Codes.runtime,
          message: "loader.cache_dir needs the transforms' config to key its entries",
          hint: "pass `source` (or `cacheKey`) to the DataLoader",
        });
      }
      this.disk = new DiskCache(this.config.cache_dir, keyConfig, baseDir, o.logger);
    }
    if (this.config.num_workers > 0) {
      if (!o.source) {
        throw new VoxelpipeError({
          code: Codes.runtime,
          message: "loader.num_workers > 0 needs the chain's config (workers rebuild it from config)",
          hint: "pass `source` to the DataLoader, or set num_workers: 0",
        });
      }
      this.pool = new WorkerPool(o.source, this.config.num_workers, o.chain.length, o.logger);
    }
  }

  /** start the worker threads now (they start on first use otherwise), e.g. while the model is built */
  async start(): Promise<void> {
    await this.pool?.start();
  }

  /** live worker threads */
  get workers(): number {
    return this.pool?.live ?? 0;
  }

  /** the most worker tasks that were in flight at once (bounded by num_workers × prefetch) */
  get maxInFlight(): number {
    return Math.max(this.peak, this.pool?.maxInFlight ?? 0);
  }

  private item(index: number, epoch: number, subject: string): ChainItem {
    const src = this.o.source;
    return {
      index,
      epoch,
      subject,
      pathOf: (ti) => (src ? chainPath(src, ti) : `transforms[${ti}]`),
      where: this.o.where,
    };
  }

  private diskKey(index: number, record: Sample): string {
    let k = this.keys.get(index);
    if (k === undefined) {
      k = this.disk!.key(record);
      this.keys.set(index, k);
    }
    return k;
  }

  /** The samples of item `index` for `epoch`: cached prefix (memory, disk) or computed, then the random rest. */
  private async load(index: number, epoch: number): Promise<Sample[]> {
    const { dataset, split } = this.o;
    const record = await dataset.get(split, index);
    const subject = subjectOf(record, split, index);
    const inMemory = index < this.cached;
    let pre: Sample[] | undefined;
    if (inMemory) {
      const busy = this.filling.get(index);
      if (busy) await busy.catch(() => undefined); // another epoch's request is computing it
      pre = this.memory.get(index);
    }
    if (!pre && this.disk) {
      pre = this.disk.read(this.diskKey(index, record));
      if (pre) {
        this.stats.diskHits++;
        if (inMemory) this.memory.set(index, pre);
        else return this.finish({ index, epoch, subject, items: pre, from: this.prefixEnd }, true);
      }
    }
    if (pre) {
      if (this.readsCache && this.prefixEnd < this.o.chain.length) {
        // the rest reads the cache and makes its own arrays: no deep copy of the cached item
        const out = await this.exec({ index, epoch, subject, items: pre, from: this.prefixEnd }, false);
        return detachSamples(out.samples, pre);
      }
      // copy_cache: the random rest may modify its input in place
      return this.finish({ index, epoch, subject, items: cloneSamples(pre), from: this.prefixEnd }, true);
    }
    const fill = this.prefixEnd > 0 && (inMemory || this.disk !== undefined);
    const task: TaskInput = { index, epoch, subject, items: [{ ...record }], from: 0 };
    if (!fill) {
      if (this.prefixEnd > 0) this.stats.prefixRuns++;
      return (await this.exec(task, false)).samples;
    }
    this.stats.prefixRuns++;
    const run = this.exec({ ...task, prefixEnd: this.prefixEnd }, false);
    if (inMemory) this.filling.set(index, run);
    try {
      const r = await run;
      const prefix = r.prefix!;
      if (inMemory) this.memory.set(index, prefix);
      if (this.disk) {
        this.disk.write(this.diskKey(index, record), prefix, subject);
        this.stats.diskWrites++;
      }
      return r.samples;
    } finally {
      this.filling.delete(index);
    }
  }

  /** run the rest of the chain on items we own (a fully deterministic chain needs no trip to a worker) */
  private async finish(task: TaskInput, owned: boolean): Promise<Sample[]> {
    if (task.from >= this.o.chain.length) return task.items;
    return (await this.exec(task, owned)).samples;
  }

  private async exec(t: TaskInput, owned: boolean): Promise<TaskResult> {
    const item = this.item(t.index, t.epoch, t.subject);
    if (this.pool) {
      try {
        return await this.pool.run(t, owned);
      } catch (e) {
        if (e instanceof WorkerTaskError && e.ti !== undefined && this.o.where) {
          const [first, ...rest] = e.diagnostics;
          const at = `the transform is configured at ${this.o.where(e.ti)}`;
          throw new VoxelpipeError([{ ...first, hint: first.hint ? `${first.hint}; ${at}` : at }, ...rest]);
        }
        throw e;
      }
    }
    const { chain, rng } = this.o;
    let items = t.items;
    let from = t.from;
    let prefix: Sample[] | undefined;
    if (t.prefixEnd !== undefined) {
      prefix = runRange(items, chain, from, t.prefixEnd, rng, item);
      from = t.prefixEnd;
      if (this.readsCache) {
        const samples = runRange(prefix, chain, from, chain.length, rng, item);
        return { samples: detachSamples(samples, prefix), prefix };
      }
      items = cloneSamples(prefix);
    }
    return { samples: runRange(items, chain, from, chain.length, rng, item), prefix };
  }

  /**
   * The items of the split for `epoch`, in `order` (default: index order), each as its list of
   * samples. With workers, up to num_workers × prefetch items are in flight ahead of the consumer.
   */
  async *items(epoch: number, order?: readonly number[]): AsyncGenerator<{ index: number; samples: Sample[] }> {
    const seq = order ?? Array.from({ length: this.size }, (_, i) => i);
    if (!this.announced && this.cached > 0) {
      this.announced = true;
      this.o.logger?.info(
        `${this.o.split}: caching ${this.cached} of ${this.size} items after the first ${this.prefixEnd} (deterministic) transforms`,
      );
    }
    const window = this.pool ? this.config.num_workers * this.config.prefetch : 1;
    const started: (Promise<Sample[]> | undefined)[] = [];
    let next = 0;
    try {
      for (let pos = 0; pos < seq.length; pos++) {
        while (next < seq.length && next < pos + window) {
          const p = this.load(seq[next], epoch);
          p.catch(() => undefined); // awaited in order below; an early failure must not be "unhandled"
          started[next++] = p;
        }
        const samples = await started[pos]!;
        started[pos] = undefined;
        yield { index: seq[pos], samples };
      }
    } catch (e) {
      await this.close(); // a failed epoch stops the workers
      throw e;
    }
  }

  /**
   * Batches of `batchSize` items in (shuffled) order, collated into tensors [B·num_samples, S0, S1,
   * S2, C] (multi-sample crops flattened into the batch, as MONAI's list_data_collate).
   */
  async *batches(o: BatchOptions): AsyncGenerator<Record<string, tf.Tensor>> {
    const order = Array.from({ length: this.size }, (_, i) => i);
    if (o.shuffle) this.o.rng.stream("shuffle", this.o.split, o.epoch).shuffle(order);
    let batch: Sample[] = [];
    let count = 0;
    for await (const { samples } of this.items(o.epoch, order)) {
      batch.push(...samples);
      if (++count === o.batchSize) {
        yield collate(batch, o.keys);
        batch = [];
        count = 0;
      }
    }
    if (count > 0) yield collate(batch, o.keys);
  }

  /** stop the workers (the cache stays usable; workers restart on the next epoch) */
  async close(): Promise<void> {
    const pool = this.pool;
    if (!pool) return;
    this.peak = Math.max(this.peak, pool.maxInFlight);
    this.pool = new WorkerPool(this.o.source!, this.config.num_workers, this.o.chain.length, this.o.logger);
    await pool.close();
  }
}

export interface LoaderOptions extends BatchOptions {
  rng: RngStreams;
  /** loader settings; default here: no cache (one pass), in this thread */
  config?: Partial<LoaderConfig>;
  source?: ChainSource;
}

/**
 * One pass over a split in batches (a DataLoader for a single epoch, closed afterwards). Keep a
 * DataLoader across epochs instead to benefit from its cache and workers.
 */
export async function* loadBatches(
  dataset: Dataset,
  split: string,
  chain: readonly Transform[],
  o: LoaderOptions,
): AsyncGenerator<Record<string, tf.Tensor>> {
  const loader = new DataLoader({
    dataset,
    split,
    chain,
    rng: o.rng,
    config: { cache_rate: 0, ...o.config },
    source: o.source,
  });
  try {
    yield* loader.batches(o);
  } finally {
    await loader.close();
  }
}
