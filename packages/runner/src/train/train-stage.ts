import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  Codes,
  type Dataset,
  defineStage,
  type Inferer,
  type Metric,
  type Model,
  type Optimizer,
  type OptimizerFactory,
  type Scheduler,
  type StageRuntime,
  type Transform,
  tf,
  VoxelpipeError,
  z,
} from "@voxelpipe/core";
import type { ChainSource } from "../data/chain-source.js";
import { DataLoader } from "../data/loader.js";
import { type LoaderConfig, loaderSchema } from "../data/loader-config.js";
import { type CaseOverlay, writeTrainReport } from "../report/train-report.js";
import { Progress } from "../run/progress.js";
import { Checkpointer } from "./checkpoint.js";
import { clipByGlobalNorm } from "./clip.js";
import { perClassTable, segmentationValidation } from "./seg-validation.js";
import { StepGraph, type StepNodeConfig, stepGraphSchema } from "./step-graph.js";

/**
 * The `train` stage: a dataset through transforms into batches, a step graph (model calls,
 * losses, arithmetic) whose objective an optimizer minimises, periodic validation selecting the
 * best checkpoint, and `last`/`best` checkpoints written atomically.
 */
export const trainStage = defineStage({
  name: "train",
  description: "fit a model: data → transforms → step graph → optimizer, with validation and checkpoints",
  outputs: ["best", "last", "summary", "report"],
  schema: (s) =>
    z.object({
      data: s.component("dataset").describe("where samples come from (a datalist or generated data)"),
      transforms: z
        .object({
          train: z.array(s.component("transform")).default([]).describe("applied to each training sample"),
          val: z.array(s.component("transform")).default([]).describe("applied to each validation sample"),
        })
        .strict()
        .optional(),
      splits: z
        .object({
          train: z.string().default("training"),
          val: z.string().default("validation"),
        })
        .strict()
        .optional()
        .describe("dataset split names"),
      batch_size: z.number().int().positive().default(1),
      epochs: z.number().int().positive().optional().describe("passes over the training split"),
      iterations: z.number().int().positive().optional().describe("optimizer steps (instead of epochs)"),
      model: s.component("model"),
      step: stepGraphSchema(s),
      objective: z.string().default("loss").describe("the step node the optimizer minimises"),
      optimizer: s.component("optimizer"),
      scheduler: s.component("scheduler").optional(),
      clip_grad_norm: z.number().positive().optional().describe("clip gradients to this global L2 norm"),
      validate: z
        .object({
          every: z.number().int().positive().default(1).describe("validate every N epochs (or iterations, see unit)"),
          unit: z.enum(["epoch", "iteration"]).default("epoch"),
          metric: z
            .string()
            .optional()
            .describe(
              "what selects the best checkpoint: a metric's name, or a step node averaged over the validation split (default: the first metric, else the objective)",
            ),
          select_best: z.enum(["min", "max"]).default("min"),
          inferer: s
            .component("inferer")
            .optional()
            .describe("whole-volume prediction for metrics, e.g. SlidingWindow"),
          metrics: z
            .array(s.component("metric"))
            .default([])
            .describe("segmentation metrics on argmax predictions of each validation volume (e.g. DiceMetric)"),
          image_key: z.string().default("image").describe("batch key fed to the inferer"),
          label_key: z.string().default("label").describe("batch key holding the ground-truth label map"),
          early_stopping: z.object({ patience: z.number().int().positive() }).strict().optional(),
        })
        .strict()
        .optional(),
      log_every: z.number().int().positive().default(1).describe("write a metrics.jsonl line every N steps"),
      loader: loaderSchema
        .optional()
        .describe("caching and worker threads: { cache_rate, cache_num, cache_dir, num_workers, prefetch }"),
    }),
  run: (config, rt) => train(config as TrainConfig, rt),
});

export interface TrainConfig {
  data: unknown;
  transforms?: { train: unknown[]; val: unknown[] };
  splits?: { train: string; val: string };
  batch_size: number;
  epochs?: number;
  iterations?: number;
  model: unknown;
  step: Record<string, StepNodeConfig>;
  objective: string;
  optimizer: unknown;
  scheduler?: unknown;
  clip_grad_norm?: number;
  validate?: {
    inferer?: unknown;
    metrics: unknown[];
    image_key: string;
    label_key: string;
    every: number;
    unit: "epoch" | "iteration";
    metric?: string;
    select_best: "min" | "max";
    early_stopping?: { patience: number };
  };
  log_every: number;
  loader?: LoaderConfig;
}

async function train(c: TrainConfig, rt: StageRuntime): Promise<void> {
  const dataset = await rt.build<Dataset>("data", "dataset");
  const trainTf = await Promise.all(
    (c.transforms?.train ?? []).map((e, i) => rt.buildEntry<Transform>(e, "transform", `transforms.train.${i}`)),
  );
  const valTf = await Promise.all(
    (c.transforms?.val ?? []).map((e, i) => rt.buildEntry<Transform>(e, "transform", `transforms.val.${i}`)),
  );
  const model = await rt.build<Model>("model", "model");
  const graph = await StepGraph.compile(c.step, (entry, name) => rt.buildEntry(entry, "loss", `step.${name}.call`));
  if (!graph.nodes.some((n) => n.name === c.objective)) {
    throw new VoxelpipeError({
      code: Codes.stepGraph,
      message: `objective "${c.objective}" is not a node of the step graph`,
      expected: `one of: ${graph.scalarNames.join(", ")}`,
      hint: `set \`objective:\` in ${rt.where("step")}`,
    });
  }
  const optimizer: Optimizer = (await rt.build<OptimizerFactory>("optimizer", "optimizer"))(model.params);
  const scheduler = c.scheduler ? await rt.build<Scheduler>("scheduler", "scheduler") : undefined;
  const baseLr = optimizer.lr;
  const splits = { train: c.splits?.train ?? "training", val: c.splits?.val ?? "validation" };
  const nTrain = dataset.size(splits.train);
  if (nTrain === 0)
    throw new VoxelpipeError({
      code: Codes.data,
      message: `split "${splits.train}" of the dataset is empty`,
      hint: rt.where("data"),
    });
  const perEpoch = Math.ceil(nTrain / c.batch_size);
  const totalIters = c.iterations ?? (c.epochs ?? 1) * perEpoch;
  const epochs = Math.ceil(totalIters / perEpoch);
  const sel = c.validate;
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
  const trainData = loaderFor(splits.train, trainTf, "transforms.train");
  let valData: DataLoader | undefined;
  const inferer = sel?.inferer ? await rt.build<Inferer>("validate.inferer", "inferer") : undefined;
  const metrics = await Promise.all(
    (sel?.metrics ?? []).map((e, i) => rt.buildEntry<Metric>(e, "metric", `validate.metrics.${i}`)),
  );
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

  const ckpt = new Checkpointer(rt, model, optimizer);
  let state = { epoch: 0, iteration: 0, best: null as number | null, bestAt: null as number | null, stale: 0 };
  if (rt.resume) {
    const restored = await ckpt.restoreLast();
    if (restored) {
      state = restored.state as typeof state;
      const at = state.iteration;
      // records written after the checkpoint are replayed by the resumed run
      rt.rewindLog(
        (r) => typeof r.iteration !== "number" || r.iteration < at || (r.iteration === at && r.epoch === state.epoch),
      );
      rt.logger.info(`resumed from iteration ${state.iteration} (epoch ${state.epoch})`);
    }
  }
  let lastValidation: Record<string, unknown> | null = null;
  // what the report shows of the best validation (segmentation runs)
  const bestView: {
    value?: number;
    caseBest?: CaseOverlay;
    caseWorst?: CaseOverlay;
    perClass?: Record<string, number | null>;
  } = {};
  const progress = new Progress(rt.logger, totalIters, {
    unit: "iter",
    fields: ["loss", "lr"],
    initial: state.iteration,
  });
  // fixed tensors (e.g. a sin-cos position embedding) are variables too, but not trained
  const trainable = [...model.params].filter(([, v]) => v.trainable);
  const vars = trainable.map(([, v]) => v);
  const names = trainable.map(([k]) => k);

  outer: for (let epoch = state.epoch; epoch < epochs; epoch++) {
    let iInEpoch = 0;
    for await (const batch of trainData.batches({
      batchSize: c.batch_size,
      shuffle: true,
      epoch,
      keys: graph.inputKeys,
    })) {
      if (iInEpoch++ < state.iteration - epoch * perEpoch) {
        tf.dispose(Object.values(batch));
        continue; // resumed mid-epoch: these batches were already seen
      }
      const it = state.iteration;
      optimizer.lr = scheduler ? scheduler.lrAt(it, totalIters, baseLr) : baseLr;
      const scalars: Record<string, number> = {};
      const { value, grads } = tf.variableGrads(() => {
        const env = graph.run(batch, { model }, { training: true });
        for (const n of graph.scalarNames) {
          const t = env.get(n);
          if (t) scalars[n] = t.dataSync()[0];
        }
        return env.get(c.objective) as tf.Scalar;
      }, vars);
      value.dispose();
      tf.dispose(Object.values(batch));
      const bad = Object.entries(scalars).find(([, v]) => !Number.isFinite(v));
      if (bad) {
        tf.dispose(Object.values(grads));
        throw new VoxelpipeError({
          code: Codes.nonFinite,
          message: `${bad[0]} is ${bad[1]} at iteration ${it + 1} (epoch ${epoch + 1}); training stopped`,
          got: Object.entries(scalars)
            .map(([k, v]) => `${k}=${v}`)
            .join(", "),
          hint: `the last good checkpoints are kept in ${rt.artifacts.dir}/checkpoints; lower the learning rate or check the inputs (${rt.where("step")})`,
        });
      }
      const named: Record<string, tf.Tensor> = {};
      names.forEach((n, i) => {
        named[n] = grads[vars[i].name];
      });
      if (c.clip_grad_norm) clipByGlobalNorm(named, c.clip_grad_norm);
      optimizer.apply(model.params, named);
      tf.dispose(Object.values(named));
      state.iteration = it + 1;
      if (state.iteration % c.log_every === 0)
        rt.log({ epoch: epoch + 1, iteration: state.iteration, lr: optimizer.lr, ...scalars });
      progress.tick({ loss: scalars[c.objective]?.toPrecision(4) ?? "-", lr: optimizer.lr.toExponential(2) });
      if (sel?.unit === "iteration" && state.iteration % sel.every === 0) {
        if (await validateAndSelect()) break outer;
      }
      if (state.iteration >= totalIters) break;
    }
    state.epoch = epoch + 1;
    if (sel && sel.unit === "epoch" && (state.epoch % sel.every === 0 || state.iteration >= totalIters)) {
      if (await validateAndSelect()) break;
    }
    await ckpt.save("last", state);
    if (state.iteration >= totalIters) break;
  }
  progress.done();
  await Promise.all([trainData.close(), valData?.close()]);
  await ckpt.save("last", state);
  if (!sel) await ckpt.save("best", state);
  rt.artifacts.publish("last", ckpt.path("last"));
  rt.artifacts.publish("best", ckpt.path("best"));
  // what sweeps and reports read: the selection metric, its best value, the last validation
  const summary = join(rt.artifacts.dir, "summary.json");
  writeFileSync(
    summary,
    `${JSON.stringify({ metric: metricName, select: sel?.select_best ?? null, best: state.best, best_iteration: state.bestAt, iterations: state.iteration, epochs: state.epoch, last_validation: lastValidation }, null, 2)}\n`,
  );
  rt.artifacts.publish("summary", summary);
  const report = writeTrainReport({
    dir: rt.artifacts.dir,
    title: `${String(rt.pipeline.value.name)} / ${rt.name}`,
    meta: `train stage, ${state.iteration} iterations, backend ${rt.backend}, seed ${rt.seed}; run directory ${rt.artifacts.dir}`,
    scalars: graph.scalarNames,
    metric: metricName,
    best: bestView,
  });
  rt.artifacts.publish("report", report);

  /** returns true when early stopping says stop */
  async function validateAndSelect(): Promise<boolean> {
    const v = metrics.some((m) => m.name === metricName) ? await segmentationMetrics() : await validationMean();
    const better = state.best === null || (sel!.select_best === "min" ? v < state.best : v > state.best);
    rt.log({ epoch: state.epoch, iteration: state.iteration, [`val_${metricName}`]: v, best: better });
    lastValidation = { ...lastValidation, iteration: state.iteration, [metricName]: v };
    rt.logger.info(`validation ${metricName} = ${v.toPrecision(6)}${better ? " (best)" : ""}`);
    if (better) {
      state.best = v;
      state.bestAt = state.iteration;
      state.stale = 0;
      await ckpt.save("best", state);
    } else state.stale += 1;
    return !!sel!.early_stopping && state.stale >= sel!.early_stopping.patience;
  }

  /** sliding-window prediction of each validation volume; every metric logged, the selected one returned */
  async function segmentationMetrics(): Promise<number> {
    valData ??= loaderFor(splits.val, valTf, "transforms.val");
    const { results, best, worst } = await segmentationValidation({
      model,
      inferer,
      metrics,
      batches: valData.batches({ batchSize: 1, shuffle: false, epoch: 0, keys: [sel!.image_key, sel!.label_key] }),
      imageKey: sel!.image_key,
      labelKey: sel!.label_key,
    });
    // per-class keys are class values unless the metric names them: use the dataset's class names
    const names = dataset.labels;
    if (names) {
      for (const r of results.values()) {
        if (r.detail) r.detail = Object.fromEntries(Object.entries(r.detail).map(([k, v]) => [names[k] ?? k, v]));
      }
    }
    const record: Record<string, unknown> = { epoch: state.epoch, iteration: state.iteration };
    for (const [name, r] of results) {
      record[`val_${name}`] = r.value;
      if (r.detail) record[`val_${name}_per_class`] = r.detail;
    }
    rt.log(record);
    lastValidation = record;
    const v = results.get(metricName)?.value ?? Number.NaN;
    const isBest =
      bestView.value === undefined || (sel!.select_best === "min" ? v < bestView.value : v > bestView.value);
    if (isBest)
      Object.assign(bestView, {
        value: v,
        caseBest: best,
        caseWorst: worst,
        perClass: results.get(metricName)?.detail,
      });
    rt.logger.info(`validation at epoch ${state.epoch}:\n${perClassTable(results)}`);
    return results.get(metricName)!.value;
  }

  async function validationMean(): Promise<number> {
    let sum = 0;
    let n = 0;
    valData ??= loaderFor(splits.val, valTf, "transforms.val");
    for await (const batch of valData.batches({
      batchSize: c.batch_size,
      shuffle: false,
      epoch: 0,
      keys: graph.inputKeys,
    })) {
      const bs = Object.values(batch)[0]?.shape[0] ?? 1;
      const v = tf.tidy(
        () => graph.run(batch, { model }, { training: false, until: metricName }).get(metricName)!.dataSync()[0],
      );
      tf.dispose(Object.values(batch));
      sum += v * bs;
      n += bs;
    }
    if (n === 0)
      throw new VoxelpipeError({
        code: Codes.data,
        message: `validation split "${splits.val}" is empty`,
        hint: rt.where("validate"),
      });
    return sum / n;
  }
}
