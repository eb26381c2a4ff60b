import {
  type ComponentContext,
  type ComponentDefinition,
  type ComponentKind,
  createMemoryLogger,
  guardComponent,
  isPlainObject,
  type PluginDefinition,
  Registries,
  RngStreams,
  tf,
} from "@voxelpipe/core";

export interface TestContextOptions {
  /** run seed (default 0) */
  seed?: number;
  /** dotted config path of the entry (default "stages.test.component") */
  path?: string;
  /** registries nested entries (`ctx.build`) are looked up in: the plugin's own, plus any others loaded */
  registries?: Registries;
  /** folder relative paths in arguments resolve against (default the cwd) */
  baseDir?: string;
}

/**
 * A ComponentContext as the runner gives one, for calling a component's `create` in a test: a
 * memory logger, RNG streams seeded from (seed, path, parts), the active backend, and `build` for
 * nested entries through the same checks the runner applies (argument schema, contract, errors
 * named after the component).
 */
export function testContext(o: TestContextOptions = {}): ComponentContext & { logger: { lines: string[] } } {
  const seed = o.seed ?? 0;
  const path = o.path ?? "stages.test.component";
  const logger = createMemoryLogger();
  const streams = new RngStreams(seed);
  return {
    logger,
    path,
    seed,
    // the runner's streams: (seed, config path, parts), so a component draws here what it draws in a run
    rng: (...parts) => streams.stream(path, ...parts),
    backend: tf.getBackend() ?? "cpu",
    baseDir: o.baseDir ?? process.cwd(),
    build: async <T>(kind: ComponentKind, entry: unknown, subpath: string): Promise<T> => {
      if (!o.registries) throw new Error(`no registries to build nested ${kind} entries from (pass registries)`);
      return buildEntry<T>(o.registries, kind, entry, { ...o, path: `${path}.${subpath}` });
    },
  };
}

/** build a `{ type, ...args }` entry from `registries` the way the runner's resolver does */
export async function buildEntry<T>(
  registries: Registries,
  kind: ComponentKind,
  entry: unknown,
  o: TestContextOptions = {},
): Promise<T> {
  if (!isPlainObject(entry) || typeof entry.type !== "string") {
    throw new Error(`expected a ${kind} entry { type: Name, ...args }, got ${JSON.stringify(entry)}`);
  }
  const reg = registries.of(kind).resolve(entry.type);
  const { type: _t, ...raw } = entry;
  const def = reg.def as ComponentDefinition;
  const args = def.args.parse(raw);
  const path = o.path ?? "stages.test.component";
  const made = await def.create(args, testContext({ ...o, path, registries }));
  return guardComponent(kind, made, { key: reg.key, plugin: reg.plugin, path }) as T;
}

/** registries holding the given plugins (the plugin under test first) */
export function registriesOf(plugins: readonly PluginDefinition[]): Registries {
  const r = new Registries();
  for (const p of plugins) r.use(p);
  return r;
}
