import { z } from "zod";
import { Codes, VoxelpipeError } from "../errors.js";
import type { ComponentDefinition } from "../sdk/define.js";
import type { ComponentKind } from "../sdk/kinds.js";
import type { Registries } from "../sdk/registry.js";
import type { Slots } from "../sdk/stage.js";
import { ConfigLimits, limitDiagnostic } from "./limits.js";
import { formatPath, getAt, isPlainObject, type Path, parsePath } from "./paths.js";
import {
  configReference,
  followReferences,
  isReference,
  parseReference,
  type Reference,
  referenceSchema,
} from "./references.js";
import { LocationMap } from "./source.js";
import { describeValue, issuesToDiagnostics, type VpIssueParams } from "./zod-issues.js";

/**
 * Component entries that compilation parsed: `{ type, ...args }` with the arguments as the
 * component's schema output (defaults applied, config references resolved). The resolver builds
 * them without parsing again; any other entry (nested entries a component builds itself, entries a
 * stage makes, entries a worker thread received as data) is parsed when it is built.
 */
const compiled = new WeakSet<object>();

export function isCompiledEntry(v: unknown): v is Record<string, unknown> & { type: string } {
  return typeof v === "object" && v !== null && compiled.has(v);
}

/** a copy of a compiled entry whose strings changed for strings (stage outputs substituted) is compiled too */
export function keepCompiledMark(from: object, to: object): void {
  if (compiled.has(from)) compiled.add(to);
}

/** A copy of a component entry without some arguments (e.g. `init`); a compiled entry stays compiled. */
export function entryWithout(entry: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  const out = Object.fromEntries(Object.entries(entry).filter(([k]) => !keys.includes(k)));
  keepCompiledMark(entry, out);
  return out;
}

/** How {@link resolveArgReferences} treats what it cannot or need not copy. */
export interface ArgReferenceOptions {
  /**
   * Copy references to component entries too (default: they stay references, which the resolver
   * builds once per path). A value that leaves the run, such as a web site's manifest, wants the copies.
   */
  copyEntries?: boolean;
  /**
   * What a reference that has nothing to copy becomes: an output reference (known only at run
   * time) or a config reference whose target is missing. Default: the reference itself (the
   * reference pass reports missing targets). A mapping key whose value becomes undefined is dropped.
   */
  unresolved?: (ref: Reference) => unknown;
  /**
   * Throw on a cycle (a reference inside a copy of its own target) and on a copy nested deeper than
   * `ConfigLimits.maxDepth`, as located diagnostics (VP121, VP013), instead of leaving the reference:
   * for values the reference pass did not check.
   */
  strict?: boolean;
  /** where `v` sits in `root` (default: the top): the path diagnostics name */
  at?: Path;
  /** the source locations of `root` (a compiled pipeline's `locs`), to locate diagnostics */
  locs?: Pick<LocationMap, "nearest">;
}

/**
 * Config references inside component arguments, resolved as the component will see them: a
 * reference to a component entry stays (the component builds it through ctx.build, one instance
 * per path), a reference to any other value becomes a copy of it, an output reference stays until
 * run time (string for string). Missing targets and cycles stay as they are (the reference pass
 * reports them). `options` change each of these (see {@link ArgReferenceOptions}).
 */
export function resolveArgReferences(v: unknown, root: unknown, options: ArgReferenceOptions = {}): unknown {
  const { copyEntries = false, unresolved = (ref: Reference) => ref.text, strict = false, locs } = options;
  const where = (here: Path) => ({ path: formatPath(here), loc: locs?.nearest(here)?.value });
  // `here`: where the value sits in root (inside a copy, where its original is); `chain`: the targets being copied
  const walk = (v: unknown, here: Path, chain: string[], depth: number): unknown => {
    if (depth > ConfigLimits.maxDepth) {
      if (!strict) return v;
      throw new VoxelpipeError(
        limitDiagnostic(
          "maxDepth",
          `references resolve to a value nested deeper than ${ConfigLimits.maxDepth} levels`,
          {
            ...where(here),
          },
        ),
      );
    }
    const ref = parseReference(v);
    if (ref) {
      const r = ref.kind === "config" ? getAt(root, ref.path) : { found: false };
      if (!r.found) return unresolved(ref);
      if (!copyEntries && isPlainObject(r.value) && typeof r.value.type === "string") return v;
      const key = formatPath(ref.path);
      if (chain.includes(key)) {
        if (!strict) return v;
        throw new VoxelpipeError({
          code: Codes.referenceCycle,
          message: `reference cycle: ${[...chain, key].join(" -> ")} (${ref.text} is inside its own target)`,
          ...where(here),
          hint: "a reference cannot (indirectly) contain itself; point it at a value outside its own target",
        });
      }
      const next = chain.length === 0 ? [formatPath(here) || "(top)", key] : [...chain, key];
      return walk(r.value, ref.path, next, depth + 1); // walk builds new arrays and objects: the copy
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...here, i], chain, depth + 1));
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const y = walk(x, [...here, k], chain, depth + 1);
        if (y !== undefined || x === undefined) out[k] = y;
      }
      return out;
    }
    return v;
  };
  return walk(v, options.at ?? [], [], 0);
}

/** what a slot holds after compilation: a parsed entry, or a reference to one */
type ComponentValue = Record<string, unknown> | string;

type AddIssue = (issue: { code: "custom"; path?: (string | number)[]; message: string; params: VpIssueParams }) => void;

/**
 * Slots for compilation: a component entry is looked up in the registry of its kind and its
 * arguments parsed by that component's own schema; the slot's output is the parsed entry (marked
 * compiled). A reference stays a reference (the resolver builds its target, once per path); its
 * target is checked for the kind here, and its arguments too when no stage slot checks them
 * (a target outside `stages`, e.g. under `vars`). Every problem becomes a located diagnostic.
 */
export function validationSlots(registries: Registries, root: Record<string, unknown> = {}): Slots {
  const check = (kind: ComponentKind, val: unknown, add: AddIssue, via?: string): ComponentValue | undefined => {
    if (!isPlainObject(val) || typeof val.type !== "string") {
      const vp: VpIssueParams["vp"] = {
        code: Codes.invalidValue,
        message: `expected a ${kind} entry${via ? ` at ${via}` : ""}`,
        expected: `{ type: <${kind} name>, ...args } or an @reference`,
        got: describeValue(val),
      };
      if (isPlainObject(val) && val.type === undefined) {
        vp.message = `${kind} entry${via ? ` at ${via}` : ""} has no "type"`;
        vp.hint = `add \`type: <name>\` (see \`voxelpipe list ${kind}\`)`;
      }
      add({ code: "custom", message: vp.message, params: { vp } });
      return undefined;
    }
    const found = registries.of(kind).lookup(val.type);
    if ("diagnostic" in found) {
      const vp = via ? { ...found.diagnostic, message: `${found.diagnostic.message} (at ${via})` } : found.diagnostic;
      add({ code: "custom", path: via ? [] : ["type"], message: vp.message, params: { vp } });
      return undefined;
    }
    const def = found.entry.def as ComponentDefinition;
    const { type, ...args } = val;
    const r = def.args.safeParse(resolveArgReferences(args, root), { reportInput: true });
    if (r.success) {
      const entry = { type, ...r.data };
      compiled.add(entry);
      return entry;
    }
    // convert here (we know the component's schema, for did-you-mean) and re-emit as located issues
    for (const d of issuesToDiagnostics(r.error.issues, [], def.args, new LocationMap(), "argument", found.entry.key)) {
      const { path: _p, loc: _l, ...rest } = d;
      const message = via ? `${d.message} (at ${via}${d.path ? `.${d.path}` : ""})` : d.message;
      add({
        code: "custom",
        path: via ? [] : parsePath(d.path ?? ""),
        message,
        params: { vp: { ...rest, message, atKey: !via && d.code === Codes.unknownArgument } },
      });
    }
    return undefined;
  };
  return {
    component(kind: ComponentKind) {
      return z.any().transform((val, ctx): ComponentValue => {
        const add: AddIssue = (issue) => ctx.addIssue(issue);
        const ref = parseReference(val);
        if (ref) {
          // dangling paths, cycles and stage outputs are the reference pass's; the target's kind is checked here
          if (ref.kind === "config") {
            const target = followReferences(root, val);
            if (isPlainObject(target)) {
              const inStages = parseReference(lastReference(root, val))?.path[0] === "stages";
              if (inStages) kindOnly(kind, target, add, ref.text);
              else check(kind, target, add, ref.text);
            }
          }
          return val as string;
        }
        return check(kind, val, add) ?? (val as ComponentValue);
      });
    },
  };

  function kindOnly(kind: ComponentKind, target: Record<string, unknown>, add: AddIssue, via: string): void {
    if (typeof target.type !== "string") {
      check(kind, target, add, via);
      return;
    }
    const found = registries.of(kind).lookup(target.type);
    if ("diagnostic" in found) {
      const vp = { ...found.diagnostic, message: `${found.diagnostic.message} (at ${via})` };
      add({ code: "custom", message: vp.message, params: { vp } });
    }
  }
}

/** the last reference of the chain starting at `v` (the one whose target is a value) */
function lastReference(root: unknown, v: unknown): unknown {
  let last = v;
  for (let i = 0; i < 100; i++) {
    const target = configReference(last);
    if (!target) return last;
    const r = getAt(root, target);
    if (!r.found || !isReference(r.value)) return last;
    last = r.value;
  }
  return last;
}

/**
 * Slots for the JSON Schema: a component entry is one of the registered components of its kind,
 * `{ type: "<name>" }` plus that component's arguments, so editors complete names and arguments.
 */
export function jsonSchemaSlots(registries: Registries): Slots {
  return {
    component(kind: ComponentKind) {
      const options = registries
        .of(kind)
        .entries()
        .map((e) => {
          const def = e.def as ComponentDefinition;
          const unique = registries.of(kind).candidates(e.name).length === 1;
          const names = unique ? [e.name, e.key] : [e.key];
          return def.args
            .extend({ type: z.enum(names as [string, ...string[]]).describe(def.description || `${kind} ${e.key}`) })
            .describe(def.description || e.key);
        });
      const ref = referenceSchema("@reference to a component defined elsewhere in the pipeline");
      return options.length ? z.union([...options, ref]) : ref;
    },
  };
}
