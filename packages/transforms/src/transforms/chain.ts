/**
 * Running a transform chain on one item: the code the runner's data loader, its worker threads, the
 * infer stage and the exported web app (packages/web/src/app) share, so a browser preprocesses an
 * image exactly as `voxelpipe infer` does. (Moved here from the runner, which re-exports it: this
 * package has no node: imports on the paths the browser takes.)
 */
import {
  Codes,
  type Diagnostic,
  isVoxelpipeError,
  type RngStreams,
  type Sample,
  type Transform,
  VoxelpipeError,
} from "@voxelpipe/core";
import { settleFanOut, withOwnership } from "./owned.js";
import { describeSample } from "./sample.js";

/** Who an item is in error messages: its image path (or first path-like value) and split position. */
export function subjectOf(record: Sample, split: string, index: number): string {
  const where = `${split}[${index}]`;
  const image = record.image;
  if (typeof image === "string") return `${image} (${where})`;
  const firstPath = Object.values(record).find((v) => typeof v === "string" && /[/\\.]/.test(v));
  return typeof firstPath === "string" ? `${firstPath} (${where})` : where;
}

/** Where an item runs its chain: names for errors and the position that seeds its random streams. */
export interface ChainItem {
  index: number;
  epoch: number;
  subject: string;
  /** config path of transform ti, e.g. stages.train.transforms.train.3 */
  pathOf: (ti: number) => string;
  /** where transform ti is written (file:line:col), for the hint; main thread only */
  where?: (ti: number) => string;
}

/** A transform failure inside a chain; `ti` is the failing transform's position. */
export class ChainError extends VoxelpipeError {
  constructor(
    diagnostics: Diagnostic[],
    readonly ti: number,
  ) {
    super(diagnostics);
  }
}

/**
 * A transform failure as a data error naming the subject, the transform's config path and what the
 * sample looked like (shape/dtype/range per key). Errors the transforms library already enriched
 * (transformFailure) keep their message and sample description; nothing is described twice.
 */
export function chainFailure(e: unknown, item: ChainItem, ti: number, sample: Sample): ChainError {
  const inner: Diagnostic | undefined = isVoxelpipeError(e) ? e.diagnostics[0] : undefined;
  const msg = inner ? inner.message : e instanceof Error ? e.message : String(e);
  const got = inner?.got?.includes("sample:")
    ? inner.got
    : `${inner?.got ? `${inner.got}\n` : ""}sample:\n${describeSample(sample)}`;
  const path = item.pathOf(ti);
  const rest = isVoxelpipeError(e) ? e.diagnostics.slice(1) : [];
  const where = item.where?.(ti);
  return new ChainError(
    [
      {
        code: inner?.code === Codes.runtime || !inner ? Codes.data : inner.code,
        message: `${path} failed on ${item.subject}: ${msg}`,
        path,
        expected: inner?.expected,
        got,
        hint: [inner?.hint, where && `the transform is configured at ${where}`].filter(Boolean).join("; ") || undefined,
      },
      ...rest,
    ],
    ti,
  );
}

/**
 * Run transforms [from, to) of `chain` on a list of samples (one item, or its multi-sample crops).
 * Transform ti on sample si draws from the stream ("transform", ti, "epoch", epoch, "item", index,
 * "sample", si): the same in any thread, so workers reproduce the main thread's samples exactly.
 */
export function runRange(
  items: Sample[],
  chain: readonly Transform[],
  from: number,
  to: number,
  rng: RngStreams,
  item: ChainItem,
): Sample[] {
  // one ownership scope per run: arrays the transforms make here may be written in place by later ones
  // (never the input items, e.g. the loader's cache; see @voxelpipe/transforms owned.ts)
  return withOwnership(chain.slice(from, to), () => {
    for (let ti = from; ti < to; ti++) {
      const next: Sample[] = [];
      items.forEach((s, si) => {
        let r: Sample | Sample[];
        try {
          r = chain[ti].apply(s, rng.stream("transform", ti, "epoch", item.epoch, "item", item.index, "sample", si));
        } catch (e) {
          throw chainFailure(e, item, ti, s);
        }
        if (Array.isArray(r)) next.push(...r);
        else next.push(r);
      });
      settleFanOut(next); // samples made from one share their other keys: none of those is written in place
      items = next;
    }
    return items;
  });
}

/** run a transform chain on one item; multi-sample transforms fan out and later ones run per sample */
export function applyChain(
  sample: Sample,
  chain: readonly Transform[],
  rng: RngStreams,
  epoch: number,
  index: number,
): Sample[] {
  return runRange([sample], chain, 0, chain.length, rng, {
    index,
    epoch,
    subject: `item ${index}`,
    pathOf: (ti) => `transforms[${ti}]`,
  });
}

/** Index of the first random transform (chain.length when none is): the cacheable prefix. */
export function deterministicPrefix(chain: readonly Transform[]): number {
  const i = chain.findIndex((t) => t.random);
  return i < 0 ? chain.length : i;
}
