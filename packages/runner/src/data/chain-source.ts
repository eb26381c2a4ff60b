/**
 * A transform chain as data: the resolved pipeline config plus where the chain sits in it. Workers
 * rebuild their transforms from this (never from code), through the same registries, plugins and
 * ComponentResolver as the main thread, so components get the same config paths and seeds.
 */
import {
  Codes,
  type ComponentResolver,
  createLogger,
  formatPath,
  getAt,
  isPlainObject,
  LocationMap,
  type Logger,
  loadPlugins,
  type PipelineData,
  parsePath,
  parseReference,
  type Registries,
  runContainer,
  Services,
  stageContainer,
  type Transform,
  VoxelpipeError,
} from "@voxelpipe/core";

export interface ChainSource {
  pipeline: PipelineData;
  /** the stage the chain belongs to */
  stage: string;
  /** the transform list inside the stage config, e.g. "transforms.train" */
  list: string;
  /** entries appended after the list (built at `<list>.<n + i>`), e.g. the preprocess stage's SaveImage */
  extra?: unknown[];
  /** seed of the RngStreams the loader draws from (the stage's `rt.rng.seed`) */
  rngSeed: number;
  /** the tensor backend name components see */
  backend: string;
}

/** The chain's entries: the list found in the config, then `extra`. */
export function chainEntries(src: ChainSource): unknown[] {
  const at = ["stages", src.stage, ...parsePath(src.list)];
  const r = getAt(src.pipeline.value, at);
  if (r.found && !Array.isArray(r.value)) {
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: `${formatPath(at)} is not a list of transforms`,
      path: formatPath(at),
      expected: "a list of { type: Name, ...args } entries",
    });
  }
  return [...((r.found ? r.value : []) as unknown[]), ...(src.extra ?? [])];
}

/** config path of transform ti of the chain */
export function chainPath(src: Pick<ChainSource, "stage" | "list">, ti: number): string {
  return formatPath(["stages", src.stage, ...parsePath(src.list), ti]);
}

/**
 * Entries with `@path` references replaced by what they point to (for cache keys: a changed
 * referenced value must change the key). Stage outputs resolve to their published paths.
 */
export function resolveEntryRefs(v: unknown, p: PipelineData, depth = 0): unknown {
  if (depth > 32) return v; // a reference cycle is reported elsewhere; the key just stops here
  const ref = parseReference(v);
  if (ref) {
    if (ref.kind === "output")
      return (ref.output === undefined ? undefined : p.stageOutputs[ref.stage]?.[ref.output]) ?? v;
    const r = getAt(p.value, ref.path);
    return r.found ? resolveEntryRefs(r.value, p, depth + 1) : v;
  }
  if (Array.isArray(v)) return v.map((x) => resolveEntryRefs(x, p, depth + 1));
  if (isPlainObject(v))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveEntryRefs(x, p, depth + 1)]));
  return v;
}

/**
 * What a worker thread builds components of a compiled pipeline with: registries (with the
 * pipeline's `plugins:` loaded on top, under the trust the main thread compiled it with), a DI
 * container holding the run's services, and a ComponentResolver over the resolved config — so its
 * components get the same config paths and RNG streams as the main thread's.
 */
export async function workerResolver(
  p: PipelineData,
  backend: string,
  registries: Registries,
  logger: Logger,
): Promise<ComponentResolver> {
  const problems = await loadPlugins(p.value.plugins, p.baseDir, registries, new LocationMap(), p.trust ?? {});
  if (problems.length) throw new VoxelpipeError(problems);
  registries.freeze();
  // the config arrives as data: the resolver parses each entry it builds
  const run = runContainer({
    logger,
    registries,
    seed: p.seed,
    backend,
    config: { root: p.value, baseDir: p.baseDir },
  });
  return stageContainer(run, { stageOutputs: (s, k) => p.stageOutputs[s]?.[k] }).get(Services.components);
}

/** Build the chain from its source (see workerResolver). */
export async function buildChain(
  src: ChainSource,
  registries: Registries,
  logger: Logger = createLogger({ level: "warn" }),
): Promise<Transform[]> {
  const resolver = await workerResolver(src.pipeline, src.backend, registries, logger);
  const base = ["stages", src.stage, ...parsePath(src.list)];
  const entries = chainEntries(src);
  const out: Transform[] = [];
  // in order, as the stage builds them (components drawing from ctx.rng at creation see the same streams)
  for (let i = 0; i < entries.length; i++)
    out.push(await resolver.buildValue<Transform>("transform", entries[i], [...base, i]));
  return out;
}
