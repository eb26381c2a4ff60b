import type { Registries } from "@voxelpipe/core";
import { type ComponentDefinition, type StageDefinition, validationSlots, z } from "@voxelpipe/core";
import { deepEqual, expectThat, fail } from "./common.js";

type JsonSchema = { properties?: Record<string, { description?: string; default?: unknown }>; required?: string[] };

/** the component's argument schema as JSON Schema (what editors and `voxelpipe describe` show) */
function jsonSchemaOf(def: ComponentDefinition | StageDefinition, registries: Registries): JsonSchema {
  const schema =
    def.kind === "stage"
      ? (def as StageDefinition).schema(validationSlots(registries))
      : (def as ComponentDefinition).args;
  try {
    return z.toJSONSchema(schema, {
      io: "input",
      unrepresentable: def.kind === "stage" ? "any" : "throw",
    }) as JsonSchema;
  } catch (e) {
    fail(
      `its argument schema cannot be written as JSON Schema (${(e as Error).message.split("\n")[0]}); use JSON-representable zod types (no z.date, z.bigint, z.function, transforms without pipes)`,
    );
  }
}

/**
 * Argument schema → JSON Schema round trip and documented defaults:
 * - the schema converts to JSON Schema, which survives JSON (no functions, no non-finite numbers);
 * - the component and every argument have a description;
 * - `example` (the test case's arguments) parses, and the parsed config survives JSON and parses
 *   to itself again (configs travel as data: worker threads, fingerprints, resolved YAML);
 * - writing each documented default explicitly gives the same config as leaving it out.
 */
export function checkArgs(
  def: ComponentDefinition | StageDefinition,
  registries: Registries,
  example: Record<string, unknown>,
): void {
  expectThat(
    def.description.trim().length > 0,
    () => `${def.name} has no description (shown by voxelpipe describe/list)`,
  );
  const json = jsonSchemaOf(def, registries);
  expectThat(
    deepEqual(JSON.parse(JSON.stringify(json)), json),
    () => "its JSON Schema does not survive JSON.stringify",
  );
  const props = json.properties ?? {};
  const undocumented = Object.entries(props)
    .filter(([, p]) => !p.description?.trim())
    .map(([k]) => k);
  expectThat(
    undocumented.length === 0,
    () => `arguments without a description: ${undocumented.join(", ")} (add .describe("...") to each)`,
  );
  if (def.kind === "stage") return;
  const args = (def as ComponentDefinition).args;
  const parsed = args.safeParse(example);
  if (!parsed.success) {
    fail(
      `the test case's arguments ${JSON.stringify(example)} do not parse: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}; give valid example arguments for ${def.name} (components.${def.name}.args)`,
    );
  }
  const value = parsed.data as Record<string, unknown>;
  const again = args.safeParse(JSON.parse(JSON.stringify(value)));
  expectThat(
    again.success && deepEqual(again.data, value),
    () => `the parsed arguments ${JSON.stringify(value)} do not parse back to themselves after a JSON round trip`,
  );
  for (const [k, p] of Object.entries(props)) {
    if (p.default === undefined || k in example) continue;
    const explicit = args.safeParse({ ...example, [k]: p.default });
    expectThat(
      explicit.success && deepEqual((explicit.data as Record<string, unknown>)[k], value[k]),
      () =>
        `argument "${k}" documents default ${JSON.stringify(p.default)}, but writing it explicitly gives ${explicit.success ? JSON.stringify((explicit.data as Record<string, unknown>)[k]) : "an invalid config"} while leaving it out gives ${JSON.stringify(value[k])}`,
    );
  }
}
