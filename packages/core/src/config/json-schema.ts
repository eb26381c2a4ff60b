import { z } from "zod";
import type { Registries } from "../sdk/registry.js";
import type { StageDefinition } from "../sdk/stage.js";
import { REFERENCE_SOURCE } from "./references.js";
import { pipelineSchema, stageCommon } from "./schema.js";
import { jsonSchemaSlots } from "./slots.js";

type Json = Record<string, unknown>;

/**
 * JSON Schema for pipeline files, generated from the same zod schemas that validate them, so
 * editors (yaml-language-server's `$schema` modeline) autocomplete stage kinds, component names and
 * arguments. Any value may also be a `${path}` interpolation or an `@path` reference.
 */
export function pipelineJsonSchema(registries: Registries): Json {
  const slots = jsonSchemaSlots(registries);
  const stageOptions = registries
    .of("stage")
    .entries()
    .map((e) => {
      const def = e.def as StageDefinition;
      return def
        .schema(slots)
        .extend({ ...stageCommon, kind: z.enum([e.name, e.key]).describe(def.description || e.key) })
        .strict();
    });
  const stage = stageOptions.length
    ? z.union(stageOptions as unknown as [z.ZodType, ...z.ZodType[]])
    : z.object(stageCommon).loose();
  const schema = z.toJSONSchema(pipelineSchema(stage), {
    io: "input",
    unrepresentable: "any",
    target: "draft-7",
  }) as Json;
  allowIndirection(schema);
  // a file that `extends` others holds partial stages (the merge completes them): only complete
  // pipelines get the full per-kind stage checks
  const props = schema.properties as Json;
  const stages = props.stages;
  props.stages = { type: "object", description: "the stage graph" };
  schema.if = { not: { required: ["extends"] } };
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a promise
  schema.then = { properties: { stages } };
  schema.title = "voxelpipe pipeline";
  schema.$id = "https://voxelpipe.dev/pipeline.schema.json";
  return schema;
}

const indirection = {
  type: "string",
  // a whole-value ${...} interpolation, or a reference (the pattern of references.ts)
  pattern: `^(\\$\\{[^}]+\\}$|${REFERENCE_SOURCE.slice(1)})`,
  description: "${path} copies a value; @path refers to an object or stage artifact",
};

/** every property / item may instead be a ${...} or @... string */
function allowIndirection(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(allowIndirection);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  const n = node as Json;
  for (const v of Object.values(n)) allowIndirection(v);
  const wrap = (s: unknown) => (typeof s === "object" && s !== null ? { anyOf: [s, indirection] } : s);
  if (n.properties && typeof n.properties === "object") {
    const props = n.properties as Json;
    for (const k of Object.keys(props)) if (k !== "type" && k !== "kind") props[k] = wrap(props[k]);
  }
  if (n.items && typeof n.items === "object" && !Array.isArray(n.items)) n.items = wrap(n.items);
  if (n.additionalProperties && typeof n.additionalProperties === "object")
    n.additionalProperties = wrap(n.additionalProperties);
}
