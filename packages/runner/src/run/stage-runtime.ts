/**
 * What a stage's `run` gets besides its config: the StageRuntime over the stage's DI container
 * (components through `Services.components`, the stage's RNG streams from the run's), its metrics
 * log, and where its config values came from.
 */
import {
  type CompiledPipeline,
  type ComponentKind,
  type Container,
  followReferences,
  formatPath,
  getAt,
  parsePath,
  Services,
  type StageRuntime,
} from "@voxelpipe/core";
import type { MetricsLog } from "./metrics-log.js";

export function stageRuntime(o: {
  p: CompiledPipeline;
  name: string;
  /** the stage container (stageContainer) */
  container: Container;
  /** the config `run` receives (compiled, outputs substituted) */
  config: unknown;
  metrics: MetricsLog;
  backend: string;
  threads: number;
  resume: boolean;
  outputs: ReadonlyMap<string, Record<string, string>>;
}): StageRuntime {
  const { p, name, container, metrics } = o;
  const resolver = container.get(Services.components);
  const base = ["stages", name];
  const at = (path: string) => [...base, ...parsePath(path)];
  return {
    name,
    logger: container.get(Services.logger),
    seed: p.seed,
    rng: container.get(Services.rng).child("stage", name),
    backend: o.backend,
    threads: o.threads,
    artifacts: container.get(Services.artifacts),
    baseDir: p.baseDir,
    resume: o.resume,
    // worker threads get the config as written and parse what they build (see data/chain-source.ts)
    pipeline: {
      value: p.value,
      baseDir: p.baseDir,
      seed: p.seed,
      stageOutputs: Object.fromEntries(o.outputs),
      trust: p.trust ?? {},
    },
    build: <T>(kind: ComponentKind, path: string) => resolver.build<T>(kind, at(path)),
    buildEntry: <T>(kind: ComponentKind, entry: unknown, path: string) => resolver.buildValue<T>(kind, entry, at(path)),
    get: (path: string) => getAt(o.config, parsePath(path)).value,
    deref: (v: unknown) => followReferences(p.compiled, v),
    where: (path: string) => {
      const l = p.locs.nearest(at(path))?.value;
      return l ? `${l.file}:${l.line}:${l.col} (${formatPath(at(path))})` : formatPath(at(path));
    },
    log: (r) => metrics.append({ stage: name, ...r }),
    rewindLog: (keep) => metrics.truncateAfter((r) => !keep(r)),
  };
}
