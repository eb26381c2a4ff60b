/** Test helpers: volumes from arrays, a ComponentContext that builds transforms from this library. */
import {
  type ComponentContext,
  createMemoryLogger,
  RandomState,
  type Sample,
  type Transform,
  type Volume,
  type VoxelArray,
} from "@voxelpipe/core";
import { transformComponents } from "../src/transforms/index.js";

export function vol(
  data: ArrayLike<number> | VoxelArray,
  shape: [number, number, number],
  opts: { channels?: number; affine?: number[]; Ctor?: new (x: ArrayLike<number>) => VoxelArray } = {},
): Volume {
  const Ctor = opts.Ctor ?? Float32Array;
  const affine = opts.affine ?? [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  return { data: new Ctor(data), shape, channels: opts.channels ?? 1, affine: Float64Array.from(affine), meta: {} };
}

/** ramp volume: value = flat C-order index */
export function ramp(shape: [number, number, number], channels = 1): Volume {
  const n = shape[0] * shape[1] * shape[2] * channels;
  return vol(
    Array.from({ length: n }, (_, i) => i),
    shape,
    { channels },
  );
}

export function diagAffine(s: number[], origin: number[] = [0, 0, 0]): number[] {
  return [s[0], 0, 0, origin[0], 0, s[1], 0, origin[1], 0, 0, s[2], origin[2], 0, 0, 0, 1];
}

export function makeCtx(path = "transforms"): ComponentContext {
  const logger = createMemoryLogger();
  const ctx: ComponentContext = {
    logger,
    path,
    seed: 0,
    rng: () => new RandomState(0),
    backend: "cpu",
    baseDir: process.cwd(),
    async build<T>(_kind: string, entry: unknown, subpath: string): Promise<T> {
      const { type, ...args } = entry as { type: string };
      return (await create(type, args, `${path}.${subpath}`)) as T;
    },
  } as ComponentContext;
  return ctx;
}

/** Build a registered transform by name with raw (YAML-like) args, validating them through zod. */
export async function create(name: string, args: Record<string, unknown>, path = "transforms"): Promise<Transform> {
  const def = transformComponents.find((d) => d.name === name);
  if (!def) throw new Error(`no transform ${name}`);
  // biome-ignore lint/suspicious/noExplicitAny: heterogeneous definitions
  return (await (def.create as any)(def.args.parse(args), makeCtx(path))) as Transform;
}

export function one(x: Sample | Sample[]): Sample {
  if (Array.isArray(x)) throw new Error("expected one sample");
  return x;
}

export function img(s: Sample, key = "image"): Volume {
  return s[key] as Volume;
}
