import {
  type ComponentResolver,
  entryWithout,
  followReferences,
  formatPath,
  getAt,
  isPlainObject,
  type Logger,
  type Loss,
  type Model,
  type Registries,
} from "@voxelpipe/core";
import { workerResolver } from "../../data/chain-source.js";
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
): Promise<{ model: Model; graph?: StepGraph; resolver: ComponentResolver }> {
  const p = src.pipeline;
  const resolver = await workerResolver(p, src.backend, registries, logger);
  const base = ["stages", src.stage];
  const entry = followReferences(p.value, getAt(p.value, [...base, "model"]).value);
  const model = await resolver.buildValue<Model>("model", entryWithout(isPlainObject(entry) ? entry : {}, "init"), [
    ...base,
    "model",
  ]);
  model.setGradientCheckpointing?.(src.checkpointing);
  if (!src.step) return { model, resolver };
  const step = getAt(p.value, [...base, "step"]).value as Record<string, StepNodeConfig>;
  const graph = await StepGraph.compile(
    step,
    (e, name) => resolver.buildValue<Loss>("loss", e, [...base, "step", name, "call"]),
    formatPath(base),
  );
  return { model, graph, resolver };
}
