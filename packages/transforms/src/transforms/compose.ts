/**
 * Chains and choices: Compose, OneOf, CopyItems, plus applyTransforms / splitDeterministicPrefix for
 * the dataset cache (the deterministic prefix is computed once per subject).
 *
 * Randomness follows MONAI's Compose.set_random_state: every RANDOM child gets its own RandomState
 * seeded with `rng.randint(2^32)` (in child order), and OneOf then draws its choice with
 * `multinomial(1, weights)` from the same rng. Called once with rng = RandomState(seed) this is MONAI's
 * `Compose(...).set_random_state(seed)` followed by one call (for children drawing from a single
 * stream); with `seed` set the child streams are created once and persist across calls, as in MONAI.
 */
import { defineTransform, isVolume, RandomState, type Sample, type Transform, z } from "@voxelpipe/core";
import { allowMissingArg, builtinTransform, keysArg, makeTransform, seedArg } from "./base.js";
import { keepsInputs, markKeepsInputs, mayShareCopies, own, settleFanOut, withOwnership } from "./owned.js";
import { argError, cloneVolume, dataError, derive, presentKeys } from "./sample.js";

/** the registered names: in the definition, op records and messages */
const COMPOSE = "Compose";
const ONE_OF = "OneOf";
const COPY_ITEMS = "CopyItems";

const MAX_SEED = 2 ** 32;

/** numpy legacy binomial(n, p) by inversion (the path numpy takes for n·p ≤ 30), for n = 1. */
function binomialInversion1(rng: RandomState, p: number): number {
  const n = 1;
  const q = 1 - p;
  const qn = Math.exp(n * Math.log(q));
  const np = n * p;
  const bound = Math.min(n, np + 10 * Math.sqrt(np * q + 1));
  let x = 0;
  let px = qn;
  let u = rng.rand();
  while (u > px) {
    x++;
    if (x > bound) {
      x = 0;
      px = qn;
      u = rng.rand();
    } else {
      u -= px;
      px = ((n - x + 1) * p * px) / (x * q);
    }
  }
  return x;
}

function binomial1(rng: RandomState, p: number): number {
  if (p === 0) return 0;
  if (p <= 0.5) return binomialInversion1(rng, p);
  return 1 - binomialInversion1(rng, 1 - p);
}

/** numpy legacy `RandomState.multinomial(1, weights).argmax()`: the index OneOf picks. */
export function multinomialOne(rng: RandomState, weights: number[]): number {
  let sum = 1.0;
  for (let j = 0; j < weights.length - 1; j++) {
    if (binomial1(rng, weights[j] / sum) === 1) return j;
    sum -= weights[j];
  }
  return weights.length - 1;
}

/** MONAI OneOf normalisation: weights / sum(weights) (uniform when absent). */
export function normalizeWeights(n: number, weights?: number[] | null): number[] {
  const w = weights ?? Array(n).fill(1);
  if (w.length !== n)
    argError(`OneOf: ${w.length} weights for ${n} transforms`, { expected: "one weight per transform" });
  if (w.some((x) => x < 0)) argError("OneOf: weights must be ≥ 0", { got: JSON.stringify(w) });
  const s = w.reduce((a, b) => a + b, 0);
  if (!(s > 0) && n > 0) argError("OneOf: weights sum to 0");
  return w.map((x) => x / s);
}

/** Child streams for one call (or persistent ones when a seed was given). */
function childStreamFactory(children: Transform[], seed: number | undefined): (rng: RandomState) => RandomState[] {
  const draw = (r: RandomState) => children.map((c) => (c.random ? new RandomState(r.randint(MAX_SEED)) : r));
  if (seed === undefined) return draw;
  const own = new RandomState(seed);
  const fixed = draw(own);
  return () => fixed.map((s, i) => (children[i].random ? s : own));
}

function applyOne(t: Transform, data: Sample | Sample[], rng: RandomState): Sample | Sample[] {
  if (!Array.isArray(data)) return t.apply(data, rng);
  // a list (multi-sample crop) is mapped item by item, as MONAI's map_items; nested lists are flattened
  return data.flatMap((s) => fanOut(t.apply(s, rng)));
}

/** A transform's result as a list; samples made from one are settled (arrays they share are disowned). */
function fanOut(r: Sample | Sample[]): Sample[] {
  if (!Array.isArray(r)) return [r];
  settleFanOut(r);
  return r;
}

/** Run `chain` in order on a sample (or a list of samples), each child on its own stream. */
export function runChain(chain: Transform[], data: Sample | Sample[], streams: RandomState[]): Sample | Sample[] {
  return withOwnership(chain, () => {
    let cur = data;
    for (let i = 0; i < chain.length; i++) {
      cur = applyOne(chain[i], cur, streams[i]);
      if (Array.isArray(cur)) settleFanOut(cur);
    }
    return cur;
  });
}

/** Apply transforms like a Compose called with `rng` (child seeds drawn from rng first). */
export function applyTransforms(chain: Transform[], sample: Sample | Sample[], rng: RandomState): Sample | Sample[] {
  return runChain(chain, sample, childStreamFactory(chain, undefined)(rng));
}

/** Index of the first random transform (chain.length when all are deterministic): the cacheable prefix. */
export function splitDeterministicPrefix(chain: readonly Transform[]): number {
  const i = chain.findIndex((t) => t.random);
  return i < 0 ? chain.length : i;
}

/** MONAI Compose.inverse for one record: the last child that claims it undoes it. */
export function childrenInvert(children: readonly Transform[]): Transform["invert"] {
  return (vol, op, opts) => {
    for (let i = children.length - 1; i >= 0; i--) {
      const r = children[i].invert?.(vol, op, opts);
      if (r) return r;
    }
    return undefined;
  };
}

/** A Compose built from already-created transforms. */
export function compose(children: Transform[], seed?: number): Transform {
  const streams = childStreamFactory(children, seed);
  const t: Transform = {
    random: children.some((c) => c.random),
    apply: (sample, rng) => runChain(children, sample, streams(rng)),
    invert: childrenInvert(children),
  };
  return children.every(keepsInputs) ? markKeepsInputs(t) : t;
}

/** A OneOf built from already-created transforms. */
export function oneOf(children: Transform[], weights?: number[] | null, seed?: number): Transform {
  const w = normalizeWeights(children.length, weights);
  const streams = childStreamFactory(children, seed);
  const own = seed === undefined ? null : new RandomState(seed);
  // MONAI: set_random_state seeds the children first, then each call draws the choice from OneOf's R
  if (own) for (const c of children) if (c.random) own.randint(MAX_SEED);
  const t: Transform = {
    random: true,
    // the op records name the transform that made them, so the chosen child answers (MONAI OneOf.inverse)
    invert: childrenInvert(children),
    apply(sample, rng) {
      const s = streams(rng);
      if (children.length === 0) return sample;
      const r = own ?? rng;
      const i = multinomialOne(r, w);
      return withOwnership(children, () => children[i].apply(sample, s[i]));
    },
  };
  return children.every(keepsInputs) ? markKeepsInputs(t) : t;
}

const entriesArg = z
  .array(z.unknown())
  .describe("transform entries, each { type: Name, ...args }, built like top-level transforms");

export const ComposeDef = defineTransform({
  name: COMPOSE,
  description: "Apply transforms in order (MONAI Compose); lists from multi-sample crops are mapped item by item.",
  args: z.object({ transforms: entriesArg, seed: seedArg }),
  create: async (args, ctx) => {
    const children = await Promise.all(
      args.transforms.map((e, i) => ctx.build<Transform>("transform", e, `transforms.${i}`)),
    );
    const c = compose(children, args.seed);
    const t = makeTransform(COMPOSE, c.random, (s, r) => c.apply(s, r), c.invert);
    return keepsInputs(c) ? markKeepsInputs(t) : t;
  },
});

export const OneOfDef = defineTransform({
  name: ONE_OF,
  description: "Apply exactly one of the transforms, chosen with the given weights (MONAI OneOf).",
  args: z.object({
    transforms: entriesArg,
    weights: z.array(z.number().min(0)).nullable().default(null).describe("relative weights (default: equal)"),
    seed: seedArg,
  }),
  create: async (args, ctx) => {
    const children = await Promise.all(
      args.transforms.map((e, i) => ctx.build<Transform>("transform", e, `transforms.${i}`)),
    );
    const o = oneOf(children, args.weights, args.seed);
    const t = makeTransform(ONE_OF, true, (s, r) => o.apply(s, r), o.invert);
    return keepsInputs(o) ? markKeepsInputs(t) : t;
  },
});

function deepCopy(x: unknown): unknown {
  if (isVolume(x)) {
    // in a run of transforms that keep their inputs, the copy shares the array (copy on write: a
    // transform that writes copies an array another key holds, see owned.ts); else a real copy
    if (mayShareCopies()) return derive(x, { data: x.data });
    const c = cloneVolume(x);
    own(c.data);
    return c;
  }
  try {
    return structuredClone(x);
  } catch {
    return x; // functions or class instances cannot be cloned: share them
  }
}

/**
 * MONAI CopyItemsd: names[t·len(keys) + i] receives a copy of keys[i] for t = 0..times-1. Volumes are
 * real copies, except in a chain run of transforms that all keep their inputs (owned.ts), where the copies
 * share the array until a transform writes (which then writes into a copy of its own).
 */
export function copyItems(sample: Sample, keys: string[], times: number, names: string[]): Sample {
  if (names.length !== times * keys.length) {
    dataError(`CopyItems: need times × len(keys) = ${times * keys.length} names, got ${names.length}`);
  }
  const out = { ...sample };
  for (let t = 0; t < times; t++) {
    keys.forEach((k, i) => {
      const name = names[t * keys.length + i];
      if (name in out) dataError(`CopyItems: key "${name}" already exists in the sample`, { hint: "choose new names" });
      out[name] = deepCopy(sample[k]);
    });
  }
  return out;
}

export const CopyItemsDef = defineTransform({
  name: COPY_ITEMS,
  description: "Copy keys to new names (MONAI CopyItemsd), e.g. the clean crop as gt_image before corruption.",
  args: z.object({
    keys: keysArg,
    times: z.number().int().min(1).default(1).describe("number of copies of each key"),
    names: z.array(z.string().min(1)).describe("new key names, times × len(keys) of them, grouped by copy"),
    allow_missing_keys: allowMissingArg,
  }),
  create: (args) => {
    if (args.names.length !== args.times * args.keys.length) {
      argError(`CopyItems: need times × len(keys) = ${args.times * args.keys.length} names, got ${args.names.length}`, {
        hint: "names are grouped by copy: [copy1 of each key..., copy2 of each key...]",
      });
    }
    return builtinTransform(COPY_ITEMS, false, (sample) => {
      const keys = presentKeys(sample, args.keys, args.allow_missing_keys, COPY_ITEMS);
      if (keys.length !== args.keys.length) {
        // MONAI's key_iterator pairs present keys with names; keep the pairing of the listed keys
        const names = args.names.filter((_, j) => keys.includes(args.keys[j % args.keys.length]));
        return copyItems(sample, keys, args.times, names);
      }
      return copyItems(sample, keys, args.times, args.names);
    });
  },
});
