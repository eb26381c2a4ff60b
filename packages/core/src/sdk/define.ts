import type { z } from "zod";
import type {
  Dataset,
  Inferer,
  Loss,
  Metric,
  Model,
  OptimizerFactory,
  Scheduler,
  Transform,
  TransformSpatial,
} from "../contracts/components.js";
import type { ComponentContext } from "./context.js";
import { type CoreInstance, coreInstance } from "./instance.js";
import type { ComponentKind } from "./kinds.js";
import { type TransformDefinition, withInverse } from "./spatial.js";
import type { StageDefinition } from "./stage.js";
import { CORE_API_VERSION } from "./version.js";

/**
 * What `create` returns for each kind: the kind's interface (contracts/components.ts). Typing the
 * factory's return with it gives plugin authors contextual types inside the object they return
 * (`compute: ([pred, target]) => ...` needs no annotations) and makes a misspelt or missing
 * member a compile error. The runtime check of the same contract is sdk/contract-check.ts.
 */
export interface ComponentContracts {
  transform: Transform;
  model: Model;
  loss: Loss;
  metric: Metric;
  optimizer: OptimizerFactory;
  scheduler: Scheduler;
  inferer: Inferer;
  dataset: Dataset;
}

/** the kinds defined with defineX (stage kinds use defineStage) */
export type ComponentContractKind = keyof ComponentContracts;

/** Argument schemas are zod objects; strict (unknown keys rejected) is enforced by the SDK. */
// biome-ignore lint/suspicious/noExplicitAny: a schema of any object shape
export type ArgsSchema = z.ZodObject<any>;

export interface ComponentMeta {
  /** short name used in YAML, e.g. "RandCoarseShuffle" */
  name: string;
  /** one-line description shown by `voxelpipe describe` and in the JSON Schema */
  description?: string;
}

export interface ComponentDefinition<
  K extends ComponentKind = ComponentKind,
  S extends ArgsSchema = ArgsSchema,
  T = K extends ComponentContractKind ? ComponentContracts[K] : unknown,
> {
  readonly kind: K;
  readonly name: string;
  readonly description: string;
  readonly args: S;
  readonly create: (args: z.output<S>, ctx: ComponentContext) => T | Promise<T>;
}

function define<K extends ComponentContractKind>(kind: K) {
  return <S extends ArgsSchema>(spec: {
    name: string;
    description?: string;
    args: S;
    create: (args: z.output<S>, ctx: ComponentContext) => ComponentContracts[K] | Promise<ComponentContracts[K]>;
  }): ComponentDefinition<K, S, ComponentContracts[K]> => {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(spec.name)) {
      throw new Error(`component name "${spec.name}" must be an identifier (letters, digits, _)`);
    }
    return Object.freeze({
      kind,
      name: spec.name,
      description: spec.description ?? "",
      // unknown keys are always an error: a typo must never be silently ignored
      args: spec.args.strict() as S,
      create: spec.create,
    });
  };
}

/** `spatial`: what the transform does to voxel grids and how to undo it (TransformSpatial; sdk/spatial.ts) */
export function defineTransform<S extends ArgsSchema>(spec: {
  name: string;
  description?: string;
  args: S;
  create: (args: z.output<S>, ctx: ComponentContext) => Transform | Promise<Transform>;
  spatial?: TransformSpatial;
}): TransformDefinition<S> {
  const spatial = spec.spatial && Object.freeze({ ...spec.spatial });
  const base = define("transform")({ ...spec, create: withInverse(spec.name, spatial, spec.create) });
  return Object.freeze(spatial ? { ...base, spatial } : base);
}
export type { TransformDefinition } from "./spatial.js";

export const defineModel = define("model");
export const defineLoss = define("loss");
export const defineMetric = define("metric");
export const defineOptimizer = define("optimizer");
export const defineScheduler = define("scheduler");
export const defineInferer = define("inferer");
export const defineDataset = define("dataset");

// biome-ignore lint/suspicious/noExplicitAny: heterogeneous list of definitions
export type AnyComponentDefinition = ComponentDefinition<ComponentKind, ArgsSchema, any> | StageDefinition<any>;

export interface PluginMeta {
  /** package-like name, e.g. "@acme/voxelpipe-swin" */
  name: string;
  /** the plugin's version; `packageVersion(import.meta.url)` reads it from the plugin's package.json */
  version: string;
  /** namespace of canonical keys, e.g. "acme" → "acme/SwinUNETR" */
  namespace: string;
  /**
   * the voxelpipe core plugin API the plugin was built for (CORE_API_VERSION of the core that
   * defined it; `definePlugin` fills it in). A core refuses a plugin built for another API (VP152).
   */
  api?: number;
}

/** where `definePlugin` keeps the copy of core that defined a plugin (not enumerable: not part of meta) */
export const PLUGIN_CORE: unique symbol = Symbol.for("voxelpipe.plugin.core");

export interface PluginDefinition {
  readonly meta: PluginMeta;
  readonly components: readonly AnyComponentDefinition[];
  /** the copy of @voxelpipe/core whose definePlugin made this plugin */
  readonly [PLUGIN_CORE]?: CoreInstance;
}

export function definePlugin(spec: {
  meta: PluginMeta;
  components: readonly AnyComponentDefinition[];
}): PluginDefinition {
  if (!/^[a-z][a-z0-9_-]*$/.test(spec.meta.namespace)) {
    throw new Error(
      `plugin "${spec.meta.name}": namespace "${spec.meta.namespace}" must be lowercase letters, digits, - or _`,
    );
  }
  const def = {
    meta: Object.freeze({ ...spec.meta, api: spec.meta.api ?? CORE_API_VERSION }),
    components: Object.freeze([...spec.components]),
  };
  Object.defineProperty(def, PLUGIN_CORE, { value: coreInstance, enumerable: false });
  return Object.freeze(def);
}

/** the shape of a plugin (a `meta` and a `components` list); loading checks API version and core copy too */
export function isPluginDefinition(x: unknown): x is PluginDefinition {
  return (
    typeof x === "object" &&
    x !== null &&
    "meta" in x &&
    "components" in x &&
    Array.isArray((x as PluginDefinition).components)
  );
}
