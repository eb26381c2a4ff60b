import { formatPath, getAt, isPlainObject, type Path, parsePath } from "../config/paths.js";
import { configReference, substituteOutputs } from "../config/references.js";
import { isCompiledEntry, resolveArgReferences } from "../config/slots.js";
import { LocationMap } from "../config/source.js";
import { issuesToDiagnostics } from "../config/zod-issues.js";
import { Codes, VoxelpipeError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { RngStreams } from "../rng/streams.js";
import type { ArtifactStore, ComponentContext } from "../sdk/context.js";
import type { ComponentDefinition } from "../sdk/define.js";
import { guardComponent } from "../sdk/guard.js";
import type { ComponentKind } from "../sdk/kinds.js";
import type { Registries } from "../sdk/registry.js";
import type { Container } from "./container.js";
import { Services } from "./tokens.js";

/** The configuration components are built from (registered as `Services.config` in the run container). */
export interface ConfigSource {
  /** the tree entries are found in: `CompiledPipeline.compiled` on the main thread, the resolved config in a worker */
  root: Record<string, unknown>;
  locs?: LocationMap;
  /** directory of the pipeline file (relative paths in arguments resolve against it) */
  baseDir: string;
}

/**
 * A stage's container: a child of the run container with the stage's logger, artifact store and
 * upstream outputs, and the ComponentResolver registered as its lazy singleton. Components the
 * stage builds are registered in this container too, one per config path.
 */
export function stageContainer(
  run: Container,
  o: {
    logger?: Logger;
    artifacts?: ArtifactStore;
    stageOutputs?: (stage: string, key: string) => string | undefined;
  } = {},
): Container {
  const c = run.child();
  if (o.logger) c.value(Services.logger, o.logger);
  if (o.artifacts) c.value(Services.artifacts, o.artifacts);
  c.value(Services.stageOutputs, o.stageOutputs ?? (() => undefined));
  return c.lazy(Services.components, (self) => new ComponentResolver(self));
}

/**
 * Turns component entries of the configuration into components, for one stage container: an
 * entry at a config path is built on first use and registered in the container under that path
 * (a component referenced twice with `@path` is one instance), its `@` references in dependency
 * order (a cycle is reported with its path). Entries compilation parsed are built from their parsed
 * arguments; any other entry (nested entries a component builds itself, entries a stage makes,
 * entries a worker thread received as data) is parsed here, its problems located diagnostics.
 */
export class ComponentResolver {
  private readonly config: ConfigSource;

  /** made by the stage container (`stageContainer`); every service comes from it by token */
  constructor(private readonly c: Container) {
    this.config = c.get(Services.config);
  }

  private get registries(): Registries {
    return this.c.get(Services.registries);
  }

  /** build the entry found at `path` (one instance per path in this container) */
  build<T>(kind: ComponentKind, path: Path, chain: string[] = []): Promise<T> {
    const key = formatPath(path);
    if (chain.includes(key)) {
      throw new VoxelpipeError({
        code: Codes.referenceCycle,
        message: `component reference cycle: ${[...chain, key].join(" -> ")}`,
        path: chain[0],
        loc: this.config.locs?.nearest(parsePath(chain[0] ?? ""))?.value,
        hint: "a component cannot (indirectly) refer to itself",
      });
    }
    return this.c.once(`component ${key}`, () => {
      const r = getAt(this.config.root, path);
      if (!r.found) {
        throw new VoxelpipeError({
          code: Codes.danglingReference,
          message: `nothing at "${key}" to build a ${kind} from`,
          path: key,
        });
      }
      return this.buildValue<T>(kind, r.value, path, [...chain, key]);
    });
  }

  /** build an entry given by value (a `{ type, ...args }` mapping or an `@path` reference) */
  async buildValue<T>(kind: ComponentKind, entry: unknown, path: Path, chain: string[] = []): Promise<T> {
    const ref = configReference(entry);
    if (ref) return this.build<T>(kind, ref, chain);
    if (!isPlainObject(entry) || typeof entry.type !== "string") {
      throw new VoxelpipeError({
        code: Codes.invalidValue,
        message: `expected a ${kind} entry at ${formatPath(path)}`,
        path: formatPath(path),
        expected: "{ type: Name, ...args }",
      });
    }
    const reg = this.registries.of(kind).resolve(entry.type);
    const def = reg.def as ComponentDefinition;
    const where = formatPath(path);
    const loc = this.config.locs?.nearest(path)?.value;
    const args = this.arguments(entry, def, reg.key, path, chain);
    const ctx = this.context(path, chain);
    let made: unknown;
    try {
      made = await def.create(args, ctx);
    } catch (e) {
      if (e instanceof VoxelpipeError) {
        // a diagnostic the component raised itself: keep it, and say where it is configured
        throw new VoxelpipeError(e.diagnostics.map((d) => ({ ...d, path: d.path ?? where, loc: d.loc ?? loc })));
      }
      // an error thrown inside a component's constructor: name the component and where it is configured
      throw new VoxelpipeError({
        code: Codes.componentFailed,
        message: `${kind} ${reg.key} (plugin ${reg.plugin.name}) failed to build: ${String((e as Error)?.message ?? e).split("\n")[0]}`,
        path: where,
        loc,
        hint: `check the arguments of ${reg.key} (voxelpipe describe ${reg.key}); if they are right, this is a bug in plugin ${reg.plugin.name}`,
      });
    }
    // what create returned must be the kind's contract, and errors thrown later inside its methods
    // (apply, compute, update, infer, ...) are named after it wherever the runner calls them
    return guardComponent(kind, made, { key: reg.key, plugin: reg.plugin, path: where, loc }) as T;
  }

  /**
   * The arguments `create` receives: a compiled entry's own (parsed once, by compilation); any
   * other entry's parsed here, after its config references were resolved as compilation does.
   * Stage outputs are substituted in both (string for string).
   */
  private arguments(
    entry: Record<string, unknown>,
    def: ComponentDefinition,
    key: string,
    path: Path,
    chain: string[],
  ): Record<string, unknown> {
    const { type: _t, ...args } = entry;
    const outputs = this.c.get(Services.stageOutputs);
    const withOutputs = (v: unknown) =>
      substituteOutputs(v, (stage, output, text) => {
        const out = outputs(stage, output);
        if (out === undefined) {
          throw new VoxelpipeError({
            code: Codes.danglingReference,
            message: `${text} is not available: stage "${stage}" has not produced output "${output}"`,
            path: chain[chain.length - 1],
            hint: "did that stage run and finish? (stages run in `needs` order)",
          });
        }
        return out;
      }) as Record<string, unknown>;
    if (isCompiledEntry(entry)) return withOutputs(args);
    const r = def.args.safeParse(withOutputs(resolveArgReferences(args, this.config.root)), { reportInput: true });
    if (r.success) return r.data;
    throw new VoxelpipeError(
      issuesToDiagnostics(r.error.issues, path, def.args, this.config.locs ?? new LocationMap(), "argument", key),
    );
  }

  private context(path: Path, chain: string[]): ComponentContext {
    const c = this.c;
    const rng: RngStreams = c.get(Services.rng);
    const key = formatPath(path);
    const logger: Logger = c.get(Services.logger);
    return {
      logger: logger.child(key),
      path: key,
      seed: c.get(Services.seed),
      rng: (...parts) => rng.stream(key, ...parts),
      backend: c.get(Services.backend),
      artifacts: c.has(Services.artifacts) ? (c.get(Services.artifacts) as ArtifactStore) : undefined,
      baseDir: this.config.baseDir,
      build: <T>(kind: ComponentKind, entry: unknown, subpath: string) =>
        this.buildValue<T>(kind, entry, [...path, ...parsePath(subpath)], chain),
    };
  }
}
