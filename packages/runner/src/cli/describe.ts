import {
  type ComponentDefinition,
  type Registries,
  type RegistryEntry,
  type StageDefinition,
  validationSlots,
  z,
} from "@voxelpipe/core";

export interface ArgRow {
  name: string;
  type: string;
  default: string;
  required: boolean;
  description: string;
}

/** a compact type string from a JSON Schema node */
function typeOf(s: Record<string, unknown>): string {
  if (s.enum) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(" | ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf || s.oneOf) return ((s.anyOf ?? s.oneOf) as Record<string, unknown>[]).map(typeOf).join(" | ");
  if (s.type === "array") {
    if (Array.isArray(s.prefixItems)) return `[${(s.prefixItems as Record<string, unknown>[]).map(typeOf).join(", ")}]`;
    return `${s.items ? typeOf(s.items as Record<string, unknown>) : "any"}[]`;
  }
  if (s.type === "integer") return "int";
  if (s.type === "object") return s.properties ? "mapping" : "mapping";
  if (typeof s.type === "string") return s.type;
  return "any";
}

export function argRows(entry: RegistryEntry, registries: Registries): ArgRow[] {
  const schema =
    entry.def.kind === "stage"
      ? (entry.def as StageDefinition).schema(validationSlots(registries))
      : (entry.def as ComponentDefinition).args;
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, p]) => ({
    name,
    type: typeOf(p),
    default: p.default === undefined ? "" : JSON.stringify(p.default),
    required: (json.required ?? []).includes(name) && p.default === undefined,
    description: String(p.description ?? ""),
  }));
}
