import type { Logger } from "../logger.js";
import type { RandomState } from "../rng/mt19937.js";

/** Where a stage writes: its run directory, and the artifacts it hands to later stages. */
export interface ArtifactStore {
  /** absolute path of the current stage's run directory */
  readonly dir: string;
  /** publish a named output (a path) for `@stages.<name>.outputs.<key>` references */
  publish(key: string, value: string): void;
  /** outputs published so far by this stage */
  readonly outputs: Readonly<Record<string, string>>;
}

/**
 * What a component factory receives besides its validated args. Built by core from the DI
 * container of the stage; plugins never touch the container itself.
 */
export interface ComponentContext {
  readonly logger: Logger;
  /** dotted config path of this component entry, e.g. "stages.train.model" */
  readonly path: string;
  /** the run seed */
  readonly seed: number;
  /** a RandomState seeded from the run seed and this component's path (plus the given parts) */
  rng(...parts: (string | number)[]): RandomState;
  /** name of the active tensor backend (cpu, wasm, tensorflow, ...) */
  readonly backend: string;
  /** the run directory / artifact store of the current stage (undefined during validation-only builds) */
  readonly artifacts?: ArtifactStore;
  /** directory of the pipeline file; relative paths in args resolve against it */
  readonly baseDir: string;
  /**
   * Build a nested component entry (`{ type: Name, ...args }`) of the given kind, e.g. a Compose
   * building its children or OneOf its options. `subpath` is appended to this entry's path.
   */
  build<T = unknown>(kind: import("./kinds.js").ComponentKind, entry: unknown, subpath: string): Promise<T>;
}
