/**
 * Who may write into a volume's array: the copy-on-write discipline of the transform library.
 *
 * The contract (see the README, "Arrays, sharing and in-place writes"):
 * 1. A transform never writes into an array of its input sample, with one exception (3). It returns new
 *    arrays or passes input arrays through unchanged, so arrays may be shared freely: between the
 *    samples of a multi-sample crop, between keys (CopyItems), with the loader's cache and with the caller.
 * 2. A chain run (the runner's runRange, applyTransforms, a Compose or OneOf called from outside a run)
 *    opens an ownership scope. Arrays that built-in transforms create during the run are `own`ed by it.
 * 3. A transform may write in place into an array only when `writableInPlace` says so: the array is
 *    owned by the current run (so no cache, caller or earlier output holds it) and no other key of the
 *    sample holds its buffer. When one sample becomes several (a multi-sample crop), arrays shared
 *    between them are disowned (`settleFanOut`). The scope ends with the run: what a run returns is never
 *    written by a later one.
 * 4. Built-in transforms are registered as keeping their inputs intact (`keepsInputs`); Compose and
 *    OneOf only when all their children are. Plugins are not (they may write into their input, as MONAI
 *    transforms do): CopyItems then makes real copies, and the loader hands a deep copy of its cached
 *    items to chains that contain them.
 */
import { componentTarget, isVolume, type Sample, type Transform, type VoxelArray } from "@voxelpipe/core";

interface Scope {
  owned: WeakSet<ArrayBufferLike>;
  /** every transform of the run keeps its inputs intact: CopyItems may share instead of copying */
  share: boolean;
}

let scope: Scope | null = null;

/** Transforms known to follow rule 1 (built-ins; Compose/OneOf of such transforms). */
const keeping = new WeakSet<Transform>();

/** Register `t` as keeping its inputs intact (rule 1). */
export function markKeepsInputs<T extends Transform>(t: T): T {
  keeping.add(t);
  return t;
}

/** Whether `t` is known never to write into its input sample (built-in transforms). */
export function keepsInputs(t: Transform): boolean {
  // the runner hands out components behind a guard (errors named after them): look through it
  return keeping.has(componentTarget(t));
}

/**
 * Run `fn` (a chain run over `chain`) in an ownership scope. A nested call (a Compose inside a run) joins
 * the enclosing scope, so arrays made earlier in the run stay writable by later transforms.
 */
export function withOwnership<T>(chain: readonly Transform[], fn: () => T): T {
  if (scope) return fn();
  scope = { owned: new WeakSet(), share: chain.every(keepsInputs) };
  try {
    return fn();
  } finally {
    scope = null;
  }
}

/** Whether a chain run is in progress (transforms applied alone, outside a run, never write in place). */
export function inOwnershipScope(): boolean {
  return scope !== null;
}

/** Whether CopyItems may share arrays instead of copying them (a run of transforms that keep their inputs). */
export function mayShareCopies(): boolean {
  return scope?.share === true;
}

/** Mark a freshly allocated array (one that only its creator holds) as owned by the current run. */
export function own<T extends VoxelArray>(a: T): T {
  if (scope && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) scope.owned.add(a.buffer);
  return a;
}

/** The array is no longer exclusively held (it was shared): nobody may write into it in place. */
export function disown(a: VoxelArray): void {
  scope?.owned.delete(a.buffer);
}

/**
 * Whether the transform may write into `sample[key]`'s array in place: owned by this run and held by
 * no other key of the sample.
 */
export function writableInPlace(sample: Sample, key: string): boolean {
  if (!scope) return false;
  const v = sample[key];
  if (!isVolume(v) || !scope.owned.has(v.data.buffer)) return false;
  const buf = v.data.buffer;
  for (const k in sample) {
    if (k === key) continue;
    const w = sample[k];
    if (isVolume(w) && w.data.buffer === buf) return false;
  }
  return true;
}

/**
 * After one sample became several (a multi-sample crop, or any transform returning a list): arrays held by
 * more than one of them are disowned, so none of them is written in place.
 */
export function settleFanOut(samples: readonly Sample[]): void {
  if (!scope || samples.length < 2) return;
  const first = new Map<ArrayBufferLike, number>();
  samples.forEach((s, i) => {
    for (const k in s) {
      const v = s[k];
      if (!isVolume(v)) continue;
      const b = v.data.buffer;
      const at = first.get(b);
      if (at === undefined) first.set(b, i);
      else if (at !== i) scope!.owned.delete(b);
    }
  });
}
