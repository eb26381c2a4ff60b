import type { ComponentKind } from "./kinds.js";

/**
 * The members each kind's contract requires at run time (contracts/components.ts), for checking
 * what a plugin's `create` returned: TypeScript catches this at compile time for typed plugins,
 * this catches it for JavaScript plugins and casts. `fn` members must be functions; the others
 * name their `typeof` (or "Map").
 */
const required: Record<Exclude<ComponentKind, "stage">, Record<string, "fn" | "boolean" | "string" | "Map">> = {
  transform: { apply: "fn", random: "boolean" },
  model: { apply: "fn", dispose: "fn", params: "Map" },
  loss: { compute: "fn" },
  metric: { update: "fn", aggregate: "fn", reset: "fn" },
  optimizer: {},
  scheduler: { lrAt: "fn" },
  inferer: { infer: "fn" },
  dataset: { splits: "fn", size: "fn", get: "fn" },
};

/** the methods of each kind that run component code: errors thrown in them are named after the component */
export const contractMethods: Record<Exclude<ComponentKind, "stage">, readonly string[]> = {
  transform: ["apply", "invert"],
  model: ["apply", "memoryEstimate", "setGradientCheckpointing"],
  loss: ["compute"],
  metric: ["update", "aggregate", "reset"],
  optimizer: [],
  scheduler: ["lrAt"],
  inferer: ["infer"],
  dataset: ["splits", "size", "get"],
};

/** what is wrong with `value` as a `kind` (empty when it meets the contract) */
export function contractProblems(kind: ComponentKind, value: unknown): string[] {
  if (kind === "stage") return [];
  if (kind === "optimizer") {
    return typeof value === "function" ? [] : [`an optimizer factory must be a function (params) => Optimizer`];
  }
  if (typeof value !== "object" || value === null) {
    return [
      `expected an object with ${Object.keys(required[kind]).join(", ")}, got ${value === null ? "null" : typeof value}`,
    ];
  }
  const v = value as Record<string, unknown>;
  const out: string[] = [];
  for (const [member, type] of Object.entries(required[kind])) {
    const got = v[member];
    const ok = type === "fn" ? typeof got === "function" : type === "Map" ? got instanceof Map : typeof got === type;
    if (!ok) {
      out.push(
        got === undefined
          ? `has no ${member}${type === "fn" ? "()" : ""}`
          : `${member} is ${typeof got}, expected ${type === "fn" ? "a function" : type}`,
      );
    }
  }
  return out;
}
