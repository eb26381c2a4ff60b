import {
  createLogger,
  getAt,
  type Logger,
  type Model,
  type Optimizer,
  type OptimizerFactory,
  type PipelineData,
  type Registries,
  tf,
} from "@voxelpipe/core";
import { componentRegistries } from "../builtins/components.js";
import type { ExecutionPlan } from "./memory-plan.js";
import { ModelReplicas, ReplicaStepRunner } from "./replicas/pool.js";
import { buildReplica } from "./replicas/source.js";
import { planStep } from "./step-plan.js";
import { LocalStepRunner, type StepRunner } from "./step-runner.js";

/**
 * A train stage's model and step, built from its config as data and executed exactly as the
 * trainer executes them — the memory plan, micro-batches, checkpointing, model replicas — without
 * data loading or run directory. For benchmarks (bench/realsize-ours.mjs) and programs
 * that embed voxelpipe's training step.
 */
export interface StepSession {
  model: Model;
  plan: ExecutionPlan;
  runner: StepRunner;
  /** the stage's optimizer over the model's parameters (the runner's PyTorch-semantics optimizers) */
  optimizer: Optimizer;
  /** one optimizer step with a step's gradients (disposes them), then the replicas copy the weights */
  apply(grads: Record<string, tf.Tensor>): void;
  /** the model's prediction on a batch of windows: on the replicas when there are some */
  predict(x: tf.Tensor): tf.Tensor | Promise<tf.Tensor>;
  /** predictions that may be in flight at once */
  concurrency: number;
  close(): Promise<void>;
}

export interface StepSessionOptions {
  pipeline: PipelineData;
  stage: string;
  backend: string;
  threads: number;
  /** samples per batch the plan is made for */
  batch: number;
  microBatch?: "auto" | number;
  checkpointing?: "auto" | boolean;
  logger?: Logger;
  registries?: Registries;
}

export async function openStepSession(o: StepSessionOptions): Promise<StepSession> {
  const logger = o.logger ?? createLogger({ level: "warn" });
  const objective = "loss";
  const { model, graph, resolver } = await buildReplica(
    {
      pipeline: o.pipeline,
      stage: o.stage,
      backend: o.backend,
      checkpointing: false,
      step: { objective, microBatch: 1, reduction: "mean" },
    },
    o.registries ?? componentRegistries(),
    logger,
  );
  const { plan, spec } = planStep({
    model,
    graph: graph!,
    objective,
    backend: o.backend,
    batch: o.batch,
    threads: o.threads,
    optimizerSlots: 2,
    microBatch: o.microBatch ?? "auto",
    checkpointing: o.checkpointing ?? "auto",
    where: (p) => `stages.${o.stage}.${p}`,
  });
  const oomHint = "lower micro_batch or turn checkpointing on";
  // prediction-only replicas when the step runs here: sliding windows still use every core
  const count = plan.replicas || o.threads;
  const replicas =
    count > 1 || plan.replicas
      ? await ModelReplicas.start({
          model,
          count,
          source: {
            pipeline: o.pipeline,
            stage: o.stage,
            backend: o.backend,
            backendThreads: 1,
            checkpointing: plan.checkpointing,
            step: { objective, microBatch: spec.microBatch, reduction: spec.reduction },
          },
          logger,
          oomHint,
        })
      : undefined;
  const runner: StepRunner = plan.replicas
    ? new ReplicaStepRunner(replicas!, spec)
    : new LocalStepRunner(model, spec, oomHint);
  const optimizer = (
    await resolver.buildValue<OptimizerFactory>(
      "optimizer",
      getAt(o.pipeline.value, ["stages", o.stage, "optimizer"]).value,
      ["stages", o.stage, "optimizer"],
    )
  )(model.params);
  return {
    model,
    plan,
    runner,
    optimizer,
    apply: (grads) => {
      optimizer.apply(model.params, grads);
      tf.dispose(Object.values(grads));
      runner.weightsChanged();
    },
    predict: replicas ? (x) => replicas.predict(x) : (x) => model.apply(x, { training: false }),
    concurrency: replicas?.size ?? 1,
    close: async () => {
      await replicas?.close();
      model.dispose();
    },
  };
}
