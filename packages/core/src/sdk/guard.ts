import type { SourceLocation } from "../errors.js";
import { Codes, VoxelpipeError } from "../errors.js";
import { contractMethods, contractProblems } from "./contract-check.js";
import type { PluginMeta } from "./define.js";
import type { ComponentKind } from "./kinds.js";

export interface ComponentIdentity {
  /** canonical key, e.g. acme/HuberLoss */
  key: string;
  plugin: PluginMeta;
  /** dotted config path of the entry */
  path: string;
  loc?: SourceLocation;
}

/** a VoxelpipeError naming the component for a non-diagnostic error thrown inside it */
export function componentError(kind: ComponentKind, who: ComponentIdentity, method: string, e: unknown): unknown {
  if (e instanceof VoxelpipeError) return e;
  const first = String((e as Error)?.message ?? e).split("\n")[0];
  return new VoxelpipeError({
    code: Codes.componentFailed,
    message: `${kind} ${who.key} (plugin ${who.plugin.name}@${who.plugin.version}) failed in ${method}(): ${first}`,
    path: who.path,
    loc: who.loc,
    got: e instanceof Error ? `${e.name}: ${first}` : undefined,
    hint: `the inputs may not be what ${who.key} expects (voxelpipe describe ${who.key}); otherwise this is a bug in plugin ${who.plugin.name}`,
  });
}

/**
 * Check that what `create` returned meets the kind's contract (VP202 otherwise, before anything
 * calls it), and return it behind a proxy whose contract methods turn errors thrown inside them
 * into VP201 diagnostics naming the component, its plugin and config path. Diagnostics the
 * component throws itself, and those of nested components, pass through unchanged. Methods run
 * with `this` = the component itself (private class fields keep working). An optimizer factory is
 * returned as is.
 */
export function guardComponent<T>(kind: ComponentKind, value: T, who: ComponentIdentity): T {
  const problems = contractProblems(kind, value);
  if (problems.length) {
    throw new VoxelpipeError({
      code: Codes.componentContract,
      message: `${kind} ${who.key} (plugin ${who.plugin.name}) does not implement the ${kind} contract: ${problems.join("; ")}`,
      path: who.path,
      loc: who.loc,
      expected: `what define${kind[0].toUpperCase()}${kind.slice(1)}'s create must return (the ${kind[0].toUpperCase()}${kind.slice(1)} interface of @voxelpipe/core)`,
      hint: `this is a bug in plugin ${who.plugin.name}; its conformance test (@voxelpipe/testing) reports it too`,
    });
  }
  if (kind === "stage" || kind === "optimizer" || typeof value !== "object" || value === null) return value;
  const methods = new Set(contractMethods[kind]);
  const wrapped = new Map<PropertyKey, { raw: unknown; f: unknown }>();
  const proxy = new Proxy(value as object, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      // a frozen own method cannot be replaced through a proxy (invariant); it stays as it is
      const d = Object.getOwnPropertyDescriptor(target, prop);
      if (d && !d.configurable && !d.writable) return v;
      const hit = wrapped.get(prop);
      if (hit && hit.raw === v) return hit.f;
      const method = String(prop);
      const guarded = methods.has(method);
      // every method runs with `this` = the component itself (class private fields keep working)
      const f = (...args: unknown[]) => {
        if (!guarded) return v.apply(target, args);
        let r: unknown;
        try {
          r = v.apply(target, args);
        } catch (e) {
          throw componentError(kind, who, method, e);
        }
        if (r instanceof Promise) return r.catch((e) => Promise.reject(componentError(kind, who, method, e)));
        return r;
      };
      wrapped.set(prop, { raw: v, f });
      return f;
    },
  });
  targets.set(proxy, value as object);
  return proxy as T;
}

const targets = new WeakMap<object, object>();

/**
 * The component a guarded proxy stands for (itself for anything else): for code that keys
 * registries by component identity (e.g. a WeakSet of transforms known to keep their inputs).
 */
export function componentTarget<T>(x: T): T {
  return ((typeof x === "object" && x !== null && targets.get(x)) || x) as T;
}
