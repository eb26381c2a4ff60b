import { formatPath, getAt, isPlainObject, type Path, parsePath } from "../config/paths.js";
import { isReference } from "../config/slots.js";
import type { LocationMap } from "../config/source.js";
import { Codes, VoxelpipeError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { RngStreams } from "../rng/streams.js";
import type { ArtifactStore, ComponentContext } from "../sdk/context.js";
import type { ComponentDefinition } from "../sdk/define.js";
import type { ComponentKind } from "../sdk/kinds.js";
import type { Registries } from "../sdk/registry.js";
import type { Container } from "./container.js";
import { Services } from "./tokens.js";

export interface ResolverOptions {
  container: Container;
  /** the whole resolved pipeline config */
  root: Record<string, unknown>;
  locs?: LocationMap;
  baseDir: string;
  /** outputs of stages that already ran: `@stages.<s>.outputs.<k>` */
  stageOutputs: (stage: string, key: string) => string | undefined;
}

/**
 * Builds component entries of the pipeline through the stage's DI container: lazily (on first
 * use), once per config path (a component referenced twice with `@path` is one instance), and in
 * dependency order (a component's `@` references are built before it). A cycle of references is
 * reported with its path.
 */
export class ComponentResolver {
  private readonly built = new Map<string, Promise<unknown>>();

  constructor(private readonly o: ResolverOptions) {}

  private get registries(): Registries {
    return this.o.container.get(Services.registries);
  }

  /** build the entry found at `path` (memoised per path) */
  build<T>(kind: ComponentKind, path: Path, chain: string[] = []): Promise<T> {
    const key = formatPath(path);
    if (chain.includes(key)) {
      throw new VoxelpipeError({
        code: Codes.referenceCycle,
        message: `component reference cycle: ${[...chain, key].join(" -> ")}`,
        path: chain[0],
        loc: this.o.locs?.nearest(parsePath(chain[0] ?? ""))?.value,
        hint: "a component cannot (indirectly) refer to itself",
      });
    }
    const hit = this.built.get(key);
    if (hit) return hit as Promise<T>;
    const r = getAt(this.o.root, path);
    if (!r.found) {
      throw new VoxelpipeError({
        code: Codes.danglingReference,
        message: `nothing at "${key}" to build a ${kind} from`,
        path: key,
      });
    }
    const p = this.buildValue<T>(kind, r.value, path, [...chain, key]);
    this.built.set(key, p);
    return p;
  }

  /** build an entry given by value (a `{ type, ...args }` mapping or an `@path` reference) */
  async buildValue<T>(kind: ComponentKind, entry: unknown, path: Path, chain: string[] = []): Promise<T> {
    if (isReference(entry)) return this.build<T>(kind, parsePath(entry.slice(1)), chain);
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
    const { type: _t, ...rawArgs } = entry;
    const args = def.args.parse(this.resolveRefs(rawArgs, chain));
    const ctx = this.context(path, chain);
    try {
      return (await def.create(args, ctx)) as T;
    } catch (e) {
      if (e instanceof VoxelpipeError) throw e;
      // an error thrown inside a component's constructor: name the component and where it is configured
      const where = formatPath(path);
      throw new VoxelpipeError({
        code: Codes.componentFailed,
        message: `${kind} ${reg.key} failed to build: ${String((e as Error)?.message ?? e).split("\n")[0]}`,
        path: where,
        loc: this.o.locs?.nearest(path)?.value,
        hint: `check the arguments of ${reg.key} (voxelpipe describe ${reg.key})`,
      });
    }
  }

  /** replace `@path` values inside args: stage outputs become their value, config paths their (copied) value */
  private resolveRefs(v: unknown, chain: string[]): unknown {
    if (isReference(v)) {
      const target = parsePath(v.slice(1));
      if (target[0] === "stages" && target[2] === "outputs") {
        const out = this.o.stageOutputs(String(target[1]), String(target[3]));
        if (out === undefined) {
          throw new VoxelpipeError({
            code: Codes.danglingReference,
            message: `${v} is not available: stage "${String(target[1])}" has not produced output "${String(target[3])}"`,
            path: chain[chain.length - 1],
            hint: "did that stage run and finish? (stages run in `needs` order)",
          });
        }
        return out;
      }
      const r = getAt(this.o.root, target);
      if (!r.found)
        throw new VoxelpipeError({
          code: Codes.danglingReference,
          message: `${v} does not exist`,
          path: chain[chain.length - 1],
        });
      // a reference to a component entry is kept for the consumer to build through ctx.build
      if (isPlainObject(r.value) && typeof r.value.type === "string") return v;
      return this.resolveRefs(structuredClone(r.value), chain);
    }
    if (Array.isArray(v)) return v.map((x) => this.resolveRefs(x, chain));
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.resolveRefs(x, chain);
      return out;
    }
    return v;
  }

  private context(path: Path, chain: string[]): ComponentContext {
    const c = this.o.container;
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
      baseDir: this.o.baseDir,
      build: <T>(kind: ComponentKind, entry: unknown, subpath: string) =>
        this.buildValue<T>(kind, entry, [...path, ...parsePath(subpath)], chain),
    };
  }
}
