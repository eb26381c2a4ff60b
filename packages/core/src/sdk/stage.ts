import type { z } from "zod";
import type { PluginTrust } from "../config/plugins.js";
import type { Logger } from "../logger.js";
import type { RngStreams } from "../rng/streams.js";
import type { ArtifactStore } from "./context.js";
import type { ComponentKind } from "./kinds.js";

/**
 * Slots tell the validator (and the JSON Schema generator) where a stage config holds component
 * entries. `component("model")` is a schema accepting `{ type: <registered model>, ...args }`,
 * validated against that component's own argument schema, or an `@path` reference to one.
 */
export interface Slots {
  /**
   * After compilation the slot holds the parsed entry (`{ type, ...args }`, arguments as the
   * component's schema output) or an `@path` reference to one; stages build it with `rt.build`.
   */
  component(kind: ComponentKind): z.ZodType;
}

export interface StageRuntime {
  readonly name: string;
  readonly logger: Logger;
  readonly seed: number;
  readonly rng: RngStreams;
  readonly backend: string;
  /** CPU threads this stage may use (model replicas, worker threads), resolved from `threads:` / --threads */
  readonly threads: number;
  readonly artifacts: ArtifactStore;
  readonly baseDir: string;
  /** true when the user asked to continue an interrupted run */
  readonly resume: boolean;
  /**
   * The compiled pipeline as plain data, for code that rebuilds components outside this thread
   * (data-loading workers rebuild the transform chain from config, never from code).
   */
  readonly pipeline: PipelineData;
  /**
   * Build (once, lazily, through the DI container) the `kind` component entry at `path` relative to the stage.
   * Every build in voxelpipe takes the kind first: this, `buildEntry`, a component's `ctx.build` and the
   * ComponentResolver's `build`.
   */
  build<T = unknown>(kind: ComponentKind, path: string): Promise<T>;
  /** build a component entry given by value; `path` names it in errors and RNG streams */
  buildEntry<T = unknown>(kind: ComponentKind, entry: unknown, path: string): Promise<T>;
  /** a value of the stage's compiled config (as `run` received it) */
  get(path: string): unknown;
  /**
   * follow `@path` references through the compiled pipeline until a value (component entries as
   * compiled); output references and other values pass through
   */
  deref(value: unknown): unknown;
  /** where a config path came from, for error messages */
  where(path: string): string;
  /** the metrics log of this stage (metrics.jsonl) */
  log(record: Record<string, unknown>): void;
  /** keep only the metrics.jsonl records for which `keep` is true (a resumed run rewinds its log to the checkpoint) */
  rewindLog(keep: (record: Record<string, unknown>) => boolean): void;
}

/** The resolved pipeline config and what is needed to build its components again elsewhere. */
export interface PipelineData {
  /** the whole resolved config (CompiledPipeline.value) */
  readonly value: Record<string, unknown>;
  /** directory of the pipeline file */
  readonly baseDir: string;
  /** the run seed */
  readonly seed: number;
  /** outputs published by the stages that ran before this one (for `@stages.<s>.outputs.<k>`) */
  readonly stageOutputs: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** the plugin trust the pipeline was compiled with: worker threads reload its plugins under the same rule */
  readonly trust?: PluginTrust;
}

/**
 * A stage kind. `C` is the output type of its schema (`z.output`): compilation parses the stage's
 * config with that schema once and `run` receives the result — defaults applied, config references
 * to lists resolved, component entries parsed by their own schemas, `@stages.<s>.outputs.<k>`
 * replaced by the published paths.
 */
export interface StageDefinition<C = unknown> {
  readonly kind: "stage";
  readonly name: string;
  readonly description: string;
  /** the stage's config schema (everything except `kind` and `needs`) */
  readonly schema: (slots: Slots) => z.ZodObject;
  /** names of the outputs this stage publishes (for `@stages.x.outputs.<name>` checks) */
  readonly outputs: readonly string[];
  /**
   * A method (not a function-typed property) on purpose: a `StageDefinition<TrainConfig>` is held as
   * `StageDefinition` next to its compiled config, which the same schema produced (compile.ts pairs them).
   */
  run(config: C, rt: StageRuntime): Promise<void>;
}

/** The config type a stage's `run` receives: the output of its schema. */
export type StageConfig<S extends z.ZodObject> = z.output<S>;

export function defineStage<S extends z.ZodObject>(spec: {
  name: string;
  description?: string;
  schema: (slots: Slots) => S;
  outputs?: readonly string[];
  run: (config: z.output<S>, rt: StageRuntime) => Promise<void>;
}): StageDefinition<z.output<S>> {
  return Object.freeze({
    kind: "stage" as const,
    name: spec.name,
    description: spec.description ?? "",
    schema: spec.schema,
    outputs: Object.freeze([...(spec.outputs ?? [])]),
    run: spec.run,
  });
}
