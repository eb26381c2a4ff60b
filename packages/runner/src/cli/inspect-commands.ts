import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Codes, componentKinds, isComponentKind, pipelineJsonSchema, suggest, VoxelpipeError } from "@voxelpipe/core";
import type { Command } from "commander";
import { writeError } from "../run/run-dir.js";
import { textTable } from "../text/table.js";
import { addLoadFlags, type LoadFlags } from "./args.js";
import { registriesFor } from "./compile.js";
import { argRows } from "./describe.js";
import type { CliIO } from "./io.js";

// The commands that show what is registered: components, their arguments, the pipeline JSON Schema.

/** `voxelpipe list [kind]`: the registered components */
export function registerList(program: Command, io: CliIO): void {
  addLoadFlags(program.command("list").description(`list registered components (kinds: ${componentKinds.join(", ")})`))
    .argument("[kind]", "only this kind")
    .option("--pipeline <file>", "also load the plugins this pipeline names")
    .option("--json", "print JSON", false)
    .action(async (kind: string | undefined, o: { pipeline?: string; json: boolean } & LoadFlags) => {
      const registries = await registriesFor(o.pipeline, io, o);
      if (kind && !isComponentKind(kind)) {
        throw new VoxelpipeError({
          code: Codes.invalidValue,
          message: `unknown component kind "${kind}"`,
          expected: componentKinds.join(", "),
          hint: suggest(kind, componentKinds).length
            ? `did you mean "${suggest(kind, componentKinds)[0]}"?`
            : undefined,
        });
      }
      const entries = registries.all().filter((e) => !kind || e.def.kind === kind);
      if (o.json) {
        io.out(
          JSON.stringify(
            entries.map((e) => ({
              kind: e.def.kind,
              key: e.key,
              name: e.name,
              plugin: e.plugin.name,
              version: e.plugin.version,
              description: e.def.description,
            })),
            null,
            2,
          ),
        );
        return;
      }
      io.out(
        textTable(
          ["kind", "name", "plugin", "description"],
          entries.map((e) => [e.def.kind, e.key, `${e.plugin.name}@${e.plugin.version}`, e.def.description]),
          { rule: true },
        ),
      );
    });
}

/** `voxelpipe describe <component>`: a component's arguments */
export function registerDescribe(program: Command, io: CliIO): void {
  addLoadFlags(program.command("describe").description("show a component's arguments: types, defaults and docs"))
    .argument("<component>", "name or namespace/Name")
    .option("--kind <kind>", "the component kind, when the name exists in several")
    .option("--pipeline <file>", "also load the plugins this pipeline names")
    .option("--json", "print JSON", false)
    .action(async (name: string, o: { kind?: string; pipeline?: string; json: boolean } & LoadFlags) => {
      const registries = await registriesFor(o.pipeline, io, o);
      const kinds = o.kind ? [o.kind] : componentKinds;
      const hits = kinds.flatMap((k) => (isComponentKind(k) ? registries.of(k).candidates(name) : []));
      if (hits.length !== 1) {
        const all = registries.all();
        throw new VoxelpipeError({
          code: hits.length ? Codes.ambiguousComponent : Codes.unknownComponent,
          message: hits.length ? `"${name}" names several components` : `no component named "${name}"`,
          expected: hits.length
            ? hits.map((h) => `${h.def.kind} ${h.key}`).join(", ")
            : `a registered component (see \`voxelpipe list\`; plugins come from this project's package.json dependencies${o.pipeline ? " and the pipeline" : ", or a pipeline's plugins: with --pipeline <file>"})`,
          hint: hits.length
            ? "pass the canonical key or --kind"
            : suggest(
                  name,
                  all.flatMap((e) => [e.name, e.key]),
                ).length
              ? `did you mean ${suggest(
                  name,
                  all.flatMap((e) => [e.name, e.key]),
                )
                  .map((s) => `"${s}"`)
                  .join(" or ")}?`
              : undefined,
        });
      }
      const e = hits[0];
      const rows = argRows(e, registries);
      if (o.json) {
        io.out(
          JSON.stringify(
            { kind: e.def.kind, key: e.key, plugin: e.plugin, description: e.def.description, args: rows },
            null,
            2,
          ),
        );
        return;
      }
      io.out(`${e.key} (${e.def.kind}, plugin ${e.plugin.name}@${e.plugin.version})\n${e.def.description}\n`);
      io.out(
        rows.length
          ? textTable(
              ["argument", "type", "default", "description"],
              rows.map((r) => [r.name + (r.required ? " *" : ""), r.type, r.default, r.description]),
              { rule: true },
            )
          : "(no arguments)",
      );
      if (rows.some((r) => r.required)) io.out("\n* required");
    });
}

/** `voxelpipe schema`: the JSON Schema of pipeline files */
export function registerSchema(program: Command, io: CliIO): void {
  addLoadFlags(
    program
      .command("schema")
      .description("write the JSON Schema of pipeline files (for editor autocompletion via yaml-language-server)"),
  )
    .option("--out <file>", "write to this file instead of stdout")
    .option("--pipeline <file>", "also include the components of the plugins this pipeline names")
    .action(async (o: { out?: string; pipeline?: string } & LoadFlags) => {
      const text = `${JSON.stringify(pipelineJsonSchema(await registriesFor(o.pipeline, io, o)), null, 2)}\n`;
      if (o.out) {
        const out = resolve(io.cwd, o.out);
        try {
          mkdirSync(dirname(out), { recursive: true });
          writeFileSync(out, text);
        } catch (e) {
          throw writeError(out, e);
        }
        io.out(`wrote ${o.out}; add to a pipeline:  # yaml-language-server: $schema=<relative path to ${o.out}>`);
      } else io.out(text);
    });
}
