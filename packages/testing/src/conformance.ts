import {
  type AnyComponentDefinition,
  type ComponentDefinition,
  contractProblems,
  type Dataset,
  guardComponent,
  type Inferer,
  type Loss,
  type Metric,
  type Model,
  type OptimizerFactory,
  type PluginDefinition,
  type Sample,
  type Scheduler,
  type StageDefinition,
  type Transform,
  tf,
} from "@voxelpipe/core";
import { checkArgs } from "./checks/args.js";
import { fail } from "./checks/common.js";
import { checkLoss } from "./checks/loss.js";
import { checkMetric, type MetricBatch } from "./checks/metric.js";
import { checkModel } from "./checks/model.js";
import { checkDataset, checkInferer, checkOptimizer, checkScheduler, checkStage } from "./checks/others.js";
import { checkTransform, syntheticSample } from "./checks/transform.js";
import { registriesOf, testContext } from "./context.js";

/** How to exercise one component (by its short name); everything is optional where a default fits. */
export interface ComponentCase {
  /** example arguments (default `{}`: every argument's default) */
  args?: Record<string, unknown>;
  /** loss: the inputs of compute (default two random [2, 8] tensors); model and inferer: [x] */
  inputs?: () => tf.Tensor[];
  /** metric: at least two batches (default: one-hot [2, 6, 6, 6, 2] label maps) */
  batches?: () => MetricBatch[];
  /** transform: the sample (default: an 8×8×8 `image` and `label` Volume, see syntheticSample) */
  sample?: () => Sample;
  /** leave this component out, saying why (e.g. "needs files") */
  skip?: string;
}

export interface ConformanceOptions {
  /** per component short name */
  components?: Record<string, ComponentCase>;
  /** other plugins the components build nested entries from (e.g. the built-in ones) */
  plugins?: readonly PluginDefinition[];
  /** run seed for the component contexts (default 0) */
  seed?: number;
}

interface CheckBase {
  /** e.g. "loss acme/HuberLoss: returns a differentiable scalar" */
  title: string;
  component: string;
}

/** a check that runs */
export interface RunnableCheck extends CheckBase {
  /** throws a ConformanceError (or the component's own error) when the component does not conform */
  run: () => Promise<void>;
  skipped?: undefined;
}

/**
 * A component's behavioural checks left out by its `skip` option: reported, never silent. It has no
 * `run`, so no runner can count it as passed without looking at `skipped`.
 */
export interface SkippedCheck extends CheckBase {
  /** why (the component's `skip` option) */
  skipped: string;
  run?: undefined;
}

export type ConformanceCheck = RunnableCheck | SkippedCheck;

const kindCheck: Record<string, string> = {
  transform:
    "is deterministic under the seeded stream, keeps its input and Volume metadata, leaks no tensors, spatial ops invert",
  model: "has stable parameter names, a finite forward pass and a checkpoint that round-trips",
  loss: "returns a differentiable scalar (and keeps its batchReduction)",
  metric: "agrees between streaming and one-shot updates; reset forgets",
  optimizer: "steps against the gradient; its state round-trips",
  scheduler: "gives finite, non-negative learning rates",
  inferer: "keeps the input's spatial shape",
  dataset: "lists splits and records",
  stage: "declares its outputs; its schema builds",
};

function defaultLossInputs(): tf.Tensor[] {
  return tf.tidy(() => [tf.randomUniform([2, 8], 0, 1, "float32", 1), tf.randomUniform([2, 8], 0, 1, "float32", 2)]);
}

function defaultMetricBatches(): MetricBatch[] {
  const oneHot = (seed: number) =>
    tf.tidy(() => tf.cast(tf.oneHot(tf.randomUniform([2, 6, 6, 6], 0, 2, "int32", seed), 2), "float32"));
  return [
    { pred: oneHot(1), target: oneHot(2) },
    { pred: oneHot(3), target: oneHot(4) },
  ];
}

/**
 * The conformance checks for every component of a plugin, framework-agnostic: each check's `run`
 * throws when the component breaks the contract. `describeConformance` (vitest) registers them as
 * tests; other runners can call `run` themselves.
 */
export function conformanceChecks(plugin: PluginDefinition, options: ConformanceOptions = {}): ConformanceCheck[] {
  const registries = registriesOf([plugin, ...(options.plugins ?? []).filter((p) => p !== plugin)]);
  const out: ConformanceCheck[] = [];
  for (const def of plugin.components as readonly AnyComponentDefinition[]) {
    const c = options.components?.[def.name] ?? {};
    const key = `${plugin.meta.namespace}/${def.name}`;
    const label = `${def.kind} ${key}`;
    const add = (what: string, run: () => Promise<void>) =>
      out.push({ title: `${label}: ${what}`, component: key, run });
    // the argument schema needs no files or inputs: checked even for a component whose other checks are skipped
    add("argument schema round-trips through JSON Schema; defaults are documented", async () =>
      checkArgs(def, registries, c.args ?? {}),
    );
    if (c.skip) {
      out.push({ title: `${label}: contract checks`, component: key, skipped: c.skip });
      continue;
    }
    if (def.kind === "stage") {
      add(kindCheck.stage, async () => checkStage(def as StageDefinition, registries));
      continue;
    }
    const cdef = def as ComponentDefinition;
    const make = async <T>(seed = options.seed ?? 0): Promise<T> => {
      const path = `stages.conformance.${def.kind}`;
      const made = await cdef.create(cdef.args.parse(c.args ?? {}), testContext({ seed, path, registries }));
      const problems = contractProblems(def.kind, made);
      if (problems.length) fail(`create() does not return a ${def.kind}: ${problems.join("; ")}`);
      return guardComponent(def.kind, made, { key, plugin: plugin.meta, path }) as T;
    };
    add(`create() returns the ${def.kind} contract`, async () => {
      const made = await make<unknown>();
      if (def.kind === "model") (made as Model).dispose();
    });
    const kindRun: Record<string, () => Promise<void>> = {
      loss: async () => {
        const inputs = c.inputs?.() ?? defaultLossInputs();
        try {
          await checkLoss(await make<Loss>(), inputs);
        } finally {
          tf.dispose(inputs);
        }
      },
      metric: async () => {
        const batches = c.batches?.() ?? defaultMetricBatches();
        try {
          await checkMetric(() => make<Metric>(), batches);
        } finally {
          tf.dispose(batches.flatMap((b) => [b.pred, b.target]));
        }
      },
      transform: async () =>
        checkTransform(
          await make<Transform>(),
          c.sample ?? (() => syntheticSample()),
          "spatial" in cdef && !!cdef.spatial,
        ),
      model: async () => checkModel((seed) => make<Model>(seed), c.inputs ? () => c.inputs!()[0] : undefined),
      optimizer: async () => checkOptimizer(await make<OptimizerFactory>()),
      scheduler: async () => checkScheduler(await make<Scheduler>()),
      inferer: async () => checkInferer(await make<Inferer>(), c.inputs ? () => c.inputs!()[0] : undefined),
      dataset: async () => checkDataset(await make<Dataset>()),
    };
    if (def.kind === "model" && !c.inputs) {
      add("has an input to run the forward pass on", async () =>
        fail(`give an input for the model: components: { ${def.name}: { inputs: () => [tf.zeros([1, ...])] } }`),
      );
    }
    add(kindCheck[def.kind], kindRun[def.kind]);
  }
  return out;
}

/** The plugin itself: a definePlugin result for this core, with a namespace and unique component names. */
export function pluginChecks(plugin: PluginDefinition): RunnableCheck[] {
  return [
    {
      title: `plugin ${plugin.meta.name}: loads into a registry of this core (API version, one core instance, unique names)`,
      component: plugin.meta.name,
      run: async () => {
        registriesOf([plugin]);
        if (!plugin.components.length) fail("the plugin has no components");
      },
    },
  ];
}
