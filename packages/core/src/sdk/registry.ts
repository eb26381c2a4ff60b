import { Codes, VoxelpipeError } from "../errors.js";
import { didYouMean } from "../suggest.js";
import { type AnyComponentDefinition, PLUGIN_CORE, type PluginDefinition, type PluginMeta } from "./define.js";
import { coreInstance } from "./instance.js";
import { type ComponentKind, componentKinds } from "./kinds.js";
import { CORE_API_VERSION, CORE_VERSION } from "./version.js";

/**
 * Refuse a plugin this core cannot run: one built for another plugin API (VP152), or one defined
 * by a second copy of @voxelpipe/core (VP153: its tensors would live in another TensorFlow.js
 * engine and its errors fail `instanceof`). A copy re-evaluated from the same folder (test runners
 * isolating modules) is the same core, not a second one.
 */
export function checkPluginCompatible(plugin: PluginDefinition): void {
  const { name, api } = plugin.meta;
  if (api !== CORE_API_VERSION) {
    throw new VoxelpipeError({
      code: Codes.pluginApi,
      message:
        api === undefined
          ? `plugin "${name}" declares no voxelpipe core API version (it was not made with definePlugin of @voxelpipe/core ${CORE_VERSION} or later)`
          : `plugin "${name}" was built for voxelpipe core API ${api}; this core (@voxelpipe/core ${CORE_VERSION}) provides API ${CORE_API_VERSION}`,
      expected: `meta.api ${CORE_API_VERSION}`,
      got: api === undefined ? "no meta.api" : String(api),
      hint: "install a version of the plugin built for this @voxelpipe/core (or rebuild it against it: export default definePlugin({...}))",
    });
  }
  const other = plugin[PLUGIN_CORE];
  if (other && other.id !== coreInstance.id && other.location !== coreInstance.location) {
    throw new VoxelpipeError({
      code: Codes.coreCopies,
      message: `plugin "${name}" was defined by a second copy of @voxelpipe/core (${other.version} at ${other.location}); this process runs ${coreInstance.version} at ${coreInstance.location}`,
      expected: "one @voxelpipe/core per process",
      got: other.location,
      hint: `declare @voxelpipe/core as a peerDependency of "${name}" (not a dependency) and reinstall, or run \`npm dedupe\`, so it uses the core your project installs`,
    });
  }
}

export interface RegistryEntry {
  /** canonical key `namespace/Name` */
  key: string;
  namespace: string;
  name: string;
  plugin: PluginMeta;
  def: AnyComponentDefinition;
}

/** One registry per component kind. Canonical keys are `namespace/Name`. */
export class Registry {
  private readonly byKey = new Map<string, RegistryEntry>();
  private frozen = false;

  constructor(readonly kind: ComponentKind) {}

  register(def: AnyComponentDefinition, plugin: PluginMeta, namespace = plugin.namespace): RegistryEntry {
    if (this.frozen) {
      throw new VoxelpipeError({
        code: Codes.registryFrozen,
        message: `cannot register ${this.kind} "${namespace}/${def.name}" from plugin "${plugin.name}": the registry is frozen once a run starts`,
        hint: "load plugins through the pipeline's `plugins:` list, before the run starts",
      });
    }
    const key = `${namespace}/${def.name}`;
    const existing = this.byKey.get(key);
    if (existing) {
      throw new VoxelpipeError({
        code: Codes.duplicateComponent,
        message: `${this.kind} "${key}" is registered twice: by plugin "${existing.plugin.name}" and by plugin "${plugin.name}"`,
        hint: `load one of them under another namespace: plugins: [{ from: "${plugin.name}", as: <alias> }]`,
      });
    }
    const entry: RegistryEntry = { key, namespace, name: def.name, plugin, def };
    this.byKey.set(key, entry);
    return entry;
  }

  freeze(): void {
    this.frozen = true;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  entries(): RegistryEntry[] {
    return [...this.byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  /** all names a user may write: canonical keys, and short names that are unique */
  names(): string[] {
    const out = new Set<string>();
    for (const e of this.byKey.values()) {
      out.add(e.key);
      out.add(e.name);
    }
    return [...out];
  }

  /** candidates for a name: an exact canonical key, or every entry with that short name */
  candidates(name: string): RegistryEntry[] {
    const exact = this.byKey.get(name);
    if (exact) return [exact];
    if (name.includes("/")) return [];
    return [...this.byKey.values()].filter((e) => e.name === name);
  }

  /** resolve a name or throw a diagnostic error (unknown → did-you-mean; ambiguous → candidates) */
  resolve(name: string): RegistryEntry {
    const r = this.lookup(name);
    if ("entry" in r) return r.entry;
    throw new VoxelpipeError(r.diagnostic);
  }

  lookup(
    name: string,
  ):
    | { entry: RegistryEntry }
    | { diagnostic: { code: string; message: string; expected: string; got: string; hint?: string } } {
    const c = this.candidates(name);
    if (c.length === 1) return { entry: c[0] };
    if (c.length > 1) {
      return {
        diagnostic: {
          code: Codes.ambiguousComponent,
          message: `${this.kind} name "${name}" is ambiguous`,
          expected: `one of ${c.map((e) => `"${e.key}"`).join(", ")}`,
          got: JSON.stringify(name),
          hint: `several plugins register "${name}": pin the namespace by writing the canonical key, ${c.map((e) => `"${e.key}" (plugin ${e.plugin.name})`).join(" or ")}; a plugin can also be loaded under another namespace: plugins: [{ from: <package>, as: <namespace> }]`,
        },
      };
    }
    return {
      diagnostic: {
        code: Codes.unknownComponent,
        message: `unknown ${this.kind} "${name}"`,
        expected: `a registered ${this.kind} (see \`voxelpipe list ${this.kind}\`)`,
        got: JSON.stringify(name),
        hint: didYouMean(name, this.names()),
      },
    };
  }
}

/** The set of registries, one per kind, filled by plugins. */
export class Registries {
  private readonly regs = new Map<ComponentKind, Registry>();
  readonly plugins: { meta: PluginMeta; namespace: string; source: string }[] = [];

  constructor() {
    for (const k of componentKinds) this.regs.set(k, new Registry(k));
  }

  of(kind: ComponentKind): Registry {
    const r = this.regs.get(kind);
    if (!r) {
      // reachable from a stage plugin's rt.build(...) with its arguments swapped (the kind comes first)
      throw new VoxelpipeError({
        code: Codes.invalidValue,
        message: `unknown component kind "${kind}"`,
        expected: componentKinds.join(", "),
        got: String(kind),
        hint: "rt.build(kind, path) and rt.buildEntry(kind, entry, path) take the kind first",
      });
    }
    return r;
  }

  /** register every component of a plugin, optionally under an alias namespace */
  use(plugin: PluginDefinition, opts: { as?: string; source?: string } = {}): void {
    const ns = opts.as ?? plugin.meta.namespace;
    if (this.plugins.some((p) => p.namespace === ns && p.meta.name === plugin.meta.name)) return; // idempotent
    checkPluginCompatible(plugin);
    for (const def of plugin.components) this.of(def.kind).register(def, plugin.meta, ns);
    this.plugins.push({ meta: plugin.meta, namespace: ns, source: opts.source ?? plugin.meta.name });
  }

  freeze(): void {
    for (const r of this.regs.values()) r.freeze();
  }

  all(): RegistryEntry[] {
    return [...this.regs.values()].flatMap((r) => r.entries());
  }
}
