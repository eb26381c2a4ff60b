import { z } from "zod";
import { Codes } from "../errors.js";
import type { ComponentDefinition } from "../sdk/define.js";
import type { ComponentKind } from "../sdk/kinds.js";
import type { Registries } from "../sdk/registry.js";
import type { Slots } from "../sdk/stage.js";
import { isPlainObject, parsePath } from "./paths.js";
import { LocationMap } from "./source.js";
import { describeValue, issuesToDiagnostics, type VpIssueParams } from "./zod-issues.js";

const REF = /^@[A-Za-z_]/;

export function isReference(v: unknown): v is string {
  return typeof v === "string" && REF.test(v);
}

/**
 * Slots for validation: a component entry is checked against the registry of its kind and then
 * against that component's own argument schema; every problem becomes a located diagnostic.
 */
export function validationSlots(registries: Registries): Slots {
  return {
    component(kind: ComponentKind) {
      return z.any().superRefine((val, ctx) => {
        if (isReference(val)) return; // checked by the reference pass
        if (!isPlainObject(val) || typeof val.type !== "string") {
          const vp: VpIssueParams["vp"] = {
            code: Codes.invalidValue,
            message: `expected a ${kind} entry`,
            expected: `{ type: <${kind} name>, ...args } or an @reference`,
            got: describeValue(val),
          };
          if (isPlainObject(val) && val.type === undefined) {
            vp.message = `${kind} entry has no "type"`;
            vp.hint = `add \`type: <name>\` (see \`voxelpipe list ${kind}\`)`;
          }
          ctx.addIssue({ code: "custom", message: vp.message, params: { vp } });
          return;
        }
        const found = registries.of(kind).lookup(val.type);
        if ("diagnostic" in found) {
          ctx.addIssue({
            code: "custom",
            path: ["type"],
            message: found.diagnostic.message,
            params: { vp: found.diagnostic },
          });
          return;
        }
        const def = found.entry.def as ComponentDefinition;
        const { type: _t, ...args } = val;
        const r = def.args.safeParse(args, { reportInput: true });
        if (r.success) return;
        // convert here (we know the component's schema, for did-you-mean) and re-emit as located issues
        for (const d of issuesToDiagnostics(
          r.error.issues,
          [],
          def.args,
          new LocationMap(),
          "argument",
          found.entry.key,
        )) {
          const rel = parsePath(d.path ?? "");
          const { path: _p, loc: _l, ...rest } = d;
          ctx.addIssue({
            code: "custom",
            path: rel,
            message: d.message,
            params: { vp: { ...rest, atKey: d.code === Codes.unknownArgument } },
          });
        }
      });
    },
  };
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
      const ref = z.string().regex(REF).describe("@reference to a component defined elsewhere in the pipeline");
      return options.length ? z.union([...options, ref]) : ref;
    },
  };
}
