import {
  ComponentResolver,
  formatPath,
  getAt,
  isPlainObject,
  isReference,
  LocationMap,
  type Logger,
  type Loss,
  loadPlugins,
  type Model,
  parsePath,
  type Registries,
  runContainer,
  VoxelpipeError,
} from "@voxelpipe/core";
import { StepGraph, type StepNodeConfig } from "../step-graph.js";
import type { ReplicaSource } from "./protocol.js";

/**
 * A replica's model and step graph, built from the resolved config through the same registries,
 * plugins and ComponentResolver as the trainer (so components get the same config paths). The
 * model's `init` is left out: the weights come from the trainer.
 */
export async function buildReplica(
  src: Pick<ReplicaSource, "pipeline" | "stage" | "backend" | "checkpointing" | "step">,
  registries: Registries,
  logger: Logger,
): Promise<{ model: Model; graph?: StepGraph }> {
  const p = src.pipeline;
  // the same trust rule (and --allow-plugin flags) as the main thread compiled the pipeline with
  const problems = await loadPlugins(p.value.plugins, p.baseDir, registries, new LocationMap(), p.trust ?? {});
  if (problems.length) throw new VoxelpipeError(problems);
  registries.freeze();
  const container = runContainer({ logger, registries, seed: p.seed, backend: src.backend });
  const resolver = new ComponentResolver({
    container,
    root: p.value,
    baseDir: p.baseDir,
    stageOutputs: (s, k) => p.stageOutputs[s]?.[k],
  });
  const base = ["stages", src.stage];
  let entry = getAt(p.value, [...base, "model"]).value;
  for (let i = 0; i < 100 && isReference(entry); i++) entry = getAt(p.value, parsePath(entry.slice(1))).value;
  const { init: _init, ...rest } = (isPlainObject(entry) ? entry : {}) as Record<string, unknown>;
  const model = await resolver.buildValue<Model>("model", rest, [...base, "model"]);
  model.setGradientCheckpointing?.(src.checkpointing);
  if (!src.step) return { model };
  const step = getAt(p.value, [...base, "step"]).value as Record<string, StepNodeConfig>;
  const graph = await StepGraph.compile(
    step,
    (e, name) => resolver.buildValue<Loss>("loss", e, [...base, "step", name, "call"]),
    formatPath(base),
  );
  return { model, graph };
}
