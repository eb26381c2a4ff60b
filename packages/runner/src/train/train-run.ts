import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  Codes,
  type Dataset,
  type Inferer,
  type Metric,
  type Model,
  type Optimizer,
  type OptimizerFactory,
  type Scheduler,
  type StageRuntime,
  type Transform,
  VoxelpipeError,
  writeFileAtomicSync,
} from "@voxelpipe/core";
import type { ChainSource } from "../data/chain-source.js";
import { DataLoader } from "../data/loader.js";
import { writeTrainReport } from "../report/train-report.js";
import { Checkpointer } from "./checkpoint.js";
import { trainLoop } from "./loop.js";
import { type ExecutionPlan, gb } from "./memory-plan.js";
import { ModelReplicas, ReplicaStepRunner } from "./replicas/pool.js";
import { type LoopState, Selection } from "./selection.js";
import { StepGraph } from "./step-graph.js";
import { planStep } from "./step-plan.js";
import { LocalStepRunner, type StepRunner } from "./step-runner.js";
import type { TrainConfig } from "./train-config.js";

/**
 * The train stage's run: build the components, plan how a step executes, run the loop, then publish
 * the checkpoints, the summary and the report. Loaded on first run (train-stage.ts), so commands that
 * only validate never load the trainer.
 */
export async function runTrain(c: TrainConfig, rt: StageRuntime): Promise<void> {
  const parts = await buildParts(c, rt);
  const { runner, replicas } = await startRunner(c, rt, parts);
  const { state, selection, ckpt } = await runLoop(c, rt, parts, runner, replicas);
  await publish(rt, parts, state, selection, ckpt);
}

/** the components the stage names, built through the runtime; the selection metric checked */
async function buildParts(c: TrainConfig, rt: StageRuntime) {
  const dataset = await rt.build<Dataset>("dataset", "data");
  const buildList = <T>(list: unknown[], kind: "transform" | "metric", path: string) =>
    Promise.all(list.map((e, i) => rt.buildEntry<T>(kind, e, `${path}.${i}`)));
  const trainTf = await buildList<Transform>(c.transforms.train, "transform", "transforms.train");
  const valTf = await buildList<Transform>(c.transforms.val, "transform", "transforms.val");
  const model = await rt.build<Model>("model", "model");
  const graph = await StepGraph.compile(
    c.step,
    (entry, name) => rt.buildEntry("loss", entry, `step.${name}.call`),
    `stages.${rt.name}`,
  );
  const optimizer: Optimizer = (await rt.build<OptimizerFactory>("optimizer", "optimizer"))(model.params);
  const scheduler = c.scheduler ? await rt.build<Scheduler>("scheduler", "scheduler") : undefined;
  const nTrain = dataset.size(c.splits.train);
  if (nTrain === 0)
    throw new VoxelpipeError({
      code: Codes.data,
      message: `split "${c.splits.train}" of the dataset is empty`,
      hint: rt.where("data"),
    });
  const sel = c.validate;
  const inferer = sel?.inferer ? await rt.build<Inferer>("inferer", "validate.inferer") : undefined;
  const metrics = await buildList<Metric>(sel?.metrics ?? [], "metric", "validate.metrics");
  const metricName = sel?.metric ?? metrics[0]?.name ?? c.objective;
  if (
    metrics.length &&
    !metrics.some((m) => m.name === metricName) &&
    !graph.nodes.some((n) => n.name === metricName)
  ) {
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: `validate.metric "${metricName}" is neither a metric nor a step node`,
      expected: `one of: ${[...metrics.map((m) => m.name), ...graph.scalarNames].join(", ")}`,
      hint: rt.where("validate.metric"),
    });
  }

  return { dataset, trainTf, valTf, model, graph, optimizer, scheduler, nTrain, sel, inferer, metrics, metricName };
}

type Parts = Awaited<ReturnType<typeof buildParts>>;

/** how a step executes, from the memory estimate (written to the log and env.json before training) */
async function startRunner(c: TrainConfig, rt: StageRuntime, { model, graph }: Parts) {
  const samplesPerBatch = c.batch_size * samplesPerItem(c, (v) => rt.deref(v));
  const { plan, spec } = planStep({
    model,
    graph,
    objective: c.objective,
    backend: rt.backend,
    batch: samplesPerBatch,
    threads: rt.threads,
    optimizerSlots: optimizerSlots(rt.deref(c.optimizer)),
    microBatch: c.micro_batch,
    checkpointing: c.checkpointing,
    where: (p) => rt.where(p),
  });
  reportPlan(rt, plan, samplesPerBatch);
  const oomHint = `lower micro_batch or turn checkpointing on (${rt.where("micro_batch")}), or shrink the model or its input (${rt.where("model")})`;
  const replicas = plan.replicas
    ? await ModelReplicas.start({
        model,
        count: plan.replicas,
        source: {
          pipeline: rt.pipeline,
          stage: rt.name,
          backend: rt.backend,
          // single-threaded wasm per replica (see run/executor.ts: the threaded build hangs when out of memory)
          backendThreads: 1,
          checkpointing: plan.checkpointing,
          step: { objective: spec.objective, microBatch: spec.microBatch, reduction: spec.reduction },
        },
        logger: rt.logger,
        oomHint,
      })
    : undefined;
  const runner: StepRunner = replicas
    ? new ReplicaStepRunner(replicas, spec)
    : new LocalStepRunner(model, spec, oomHint);
  return { runner, replicas };
}

/** the loaders, the checkpointer and the validation; the loop (resumed if asked); everything closed after */
async function runLoop(
  c: TrainConfig,
  rt: StageRuntime,
  { dataset, trainTf, valTf, model, graph, optimizer, scheduler, nTrain, sel, inferer, metrics, metricName }: Parts,
  runner: StepRunner,
  replicas: ModelReplicas | undefined,
) {
  // one loader per split for the whole run: its cache and workers outlive the epochs
  const loaderFor = (split: string, chain: Transform[], list: string) => {
    const source: ChainSource = {
      pipeline: rt.pipeline,
      stage: rt.name,
      list,
      rngSeed: rt.rng.seed,
      backend: rt.backend,
    };
    const where = (ti: number) => rt.where(`${list}.${ti}`);
    return new DataLoader({ dataset, split, chain, rng: rt.rng, config: c.loader, source, logger: rt.logger, where });
  };
  const trainData = loaderFor(c.splits.train, trainTf, "transforms.train");
  const ckpt = new Checkpointer(rt, model, optimizer);
  const state: LoopState = { epoch: 0, iteration: 0, best: null, bestAt: null, stale: 0 };
  const selection = sel
    ? new Selection({
        rt,
        config: sel,
        metricName,
        metrics,
        inferer,
        model,
        graph,
        dataset,
        batchSize: c.batch_size,
        valSplit: c.splits.val,
        openLoader: () => loaderFor(c.splits.val, valTf, "transforms.val"),
        // sliding windows spread over the replicas when there are some
        predictor: replicas ? (x) => replicas.predict(x) : (x) => model.apply(x, { training: false }),
        concurrency: replicas?.size ?? 1,
        onBest: () => ckpt.save("best", state),
      })
    : undefined;
  try {
    if (rt.resume) {
      const restored = await ckpt.restoreLast();
      if (restored) {
        Object.assign(state, restored.state as Partial<LoopState>);
        runner.weightsChanged();
        rt.logger.info(`resumed from iteration ${state.iteration} (epoch ${state.epoch})`);
      }
    }
    const perEpoch = Math.ceil(nTrain / c.batch_size);
    await trainLoop(
      {
        rt,
        config: c,
        data: trainData,
        inputKeys: graph.inputKeys,
        runner,
        optimizer,
        scheduler,
        params: model.params,
        checkpoints: ckpt,
        selection,
        perEpoch,
        totalIters: c.iterations ?? (c.epochs ?? 1) * perEpoch,
      },
      state,
    );
  } finally {
    await Promise.all([trainData.close(), selection?.close(), runner.close()]);
  }
  return { state, selection, ckpt };
}

/** the checkpoints, summary.json (what sweeps and reports read) and the training report */
async function publish(
  rt: StageRuntime,
  { graph, sel, metricName }: Parts,
  state: LoopState,
  selection: Selection | undefined,
  ckpt: Checkpointer,
): Promise<void> {
  await ckpt.save("last", state);
  if (!sel) await ckpt.save("best", state);
  rt.artifacts.publish("last", ckpt.path("last"));
  rt.artifacts.publish("best", ckpt.path("best"));
  // the selection metric, its best value, the last validation
  const summary = join(rt.artifacts.dir, "summary.json");
  writeFileSync(
    summary,
    `${JSON.stringify({ metric: metricName, select: sel?.select_best ?? null, best: state.best, best_iteration: state.bestAt, iterations: state.iteration, epochs: state.epoch, last_validation: selection?.lastValidation ?? null }, null, 2)}\n`,
  );
  rt.artifacts.publish("summary", summary);
  const report = writeTrainReport({
    dir: rt.artifacts.dir,
    title: `${String(rt.pipeline.value.name)} / ${rt.name}`,
    meta: `train stage, ${state.iteration} iterations, backend ${rt.backend}, seed ${rt.seed}; run directory ${rt.artifacts.dir}`,
    scalars: graph.scalarNames,
    metric: metricName,
    best: selection?.bestView ?? {},
  });
  rt.artifacts.publish("report", report);
}

/** optimizer state in parameter-sized slots, for the memory estimate (Adam/AdamW: m and v) */
const optimizerSlots = (entry: unknown) => {
  const type = String((entry as { type?: unknown })?.type ?? "");
  return /adam/i.test(type) ? 2 : /sgd/i.test(type) ? 1 : 2;
};

/**
 * Samples a batch of `batch_size` items holds: transforms that draw several crops per item
 * (`num_samples`, e.g. RandCropByPosNegLabel) multiply it, as MONAI's list_data_collate does.
 */
function samplesPerItem(c: TrainConfig, deref: (v: unknown) => unknown): number {
  let n = 1;
  for (const t of c.transforms.train) {
    const k = (deref(t) as { num_samples?: unknown })?.num_samples;
    if (typeof k === "number" && k > 1) n *= k;
  }
  return n;
}

/** the plan in the run log and env.json (`execution`) */
function reportPlan(rt: StageRuntime, plan: ExecutionPlan, samples: number): void {
  const m = plan.memory;
  const est = m.step_bytes === null ? "no activation estimate from the model" : `≈ ${gb(m.step_bytes)} per heap`;
  rt.logger.info(
    `execution: ${samples} samples per batch in passes of ${plan.microBatch}` +
      `${plan.checkpointing ? ", activations recomputed in the backward (checkpointing)" : ""}` +
      `, ${plan.replicas ? `${plan.replicas} model replica(s) on worker threads` : "in this thread"}; memory ${est}` +
      `${m.limit_bytes ? ` of ${gb(m.limit_bytes)} (${m.limit_source})` : ""}; weights ${gb(m.params_bytes)}, optimizer ${gb(m.optimizer_bytes)}`,
  );
  const file = join(rt.artifacts.dir, "env.json");
  try {
    const env = JSON.parse(readFileSync(file, "utf8"));
    env.execution = {
      threads: rt.threads,
      samples_per_batch: samples,
      micro_batch: plan.microBatch,
      checkpointing: plan.checkpointing,
      replicas: plan.replicas,
      memory: m,
    };
    writeFileAtomicSync(file, `${JSON.stringify(env, null, 2)}\n`);
  } catch (e) {
    rt.logger.warn(`could not add the execution plan to env.json: ${(e as Error).message}`);
  }
}
