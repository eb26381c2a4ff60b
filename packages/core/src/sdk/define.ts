import type { z } from "zod";
import type { Transform, TransformSpatial } from "../contracts/components.js";
import type { ComponentContext } from "./context.js";
import type { ComponentKind } from "./kinds.js";
import { type TransformDefinition, withInverse } from "./spatial.js";
import type { StageDefinition } from "./stage.js";

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
  T = unknown,
> {
  readonly kind: K;
  readonly name: string;
  readonly description: string;
  readonly args: S;
  readonly create: (args: z.output<S>, ctx: ComponentContext) => T | Promise<T>;
}

function define<K extends ComponentKind>(kind: K) {
  return <S extends ArgsSchema, T>(spec: {
    name: string;
    description?: string;
    args: S;
    create: (args: z.output<S>, ctx: ComponentContext) => T | Promise<T>;
  }): ComponentDefinition<K, S, T> => {
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
  version: string;
  /** namespace of canonical keys, e.g. "acme" → "acme/SwinUNETR" */
  namespace: string;
}

export interface PluginDefinition {
  readonly meta: PluginMeta;
  readonly components: readonly AnyComponentDefinition[];
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
  return Object.freeze({ meta: Object.freeze({ ...spec.meta }), components: Object.freeze([...spec.components]) });
}

export function isPluginDefinition(x: unknown): x is PluginDefinition {
  return (
    typeof x === "object" &&
    x !== null &&
    "meta" in x &&
    "components" in x &&
    Array.isArray((x as PluginDefinition).components)
  );
}
