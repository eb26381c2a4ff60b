import type { z } from "zod";
import { Codes, type Diagnostic } from "../errors.js";
import { didYouMean } from "../suggest.js";
import { formatPath, type Path } from "./paths.js";
import type { LocationMap } from "./source.js";

/** A custom zod issue carrying a ready diagnostic (from component slots and stage refinements). */
export interface VpIssueParams {
  vp: Omit<Diagnostic, "path" | "loc"> & { atKey?: boolean };
}

// biome-ignore lint/suspicious/noExplicitAny: zod internals are untyped here
type AnySchema = any;

/** Unwrap optional/default/nullable/pipe wrappers to the schema that validates the value. */
export function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  for (let i = 0; i < 20 && s?._zod; i++) {
    const d = s._zod.def;
    if (["optional", "default", "nullable", "prefault", "readonly", "catch", "nonoptional"].includes(d.type))
      s = d.innerType;
    else if (d.type === "pipe") s = d.in;
    else if (d.type === "lazy") s = d.getter();
    else break;
  }
  return s;
}

/** The sub-schema validating `path` inside `schema` (objects, arrays, records; first matching union option). */
export function schemaAt(schema: AnySchema, path: Path): AnySchema | undefined {
  let s = unwrap(schema);
  for (const seg of path) {
    if (!s?._zod) return undefined;
    const d = s._zod.def;
    if (d.type === "object") s = d.shape[seg as string];
    else if (d.type === "array") s = d.element;
    else if (d.type === "record") s = d.valueType;
    else if (d.type === "union") {
      s = d.options.map((o: AnySchema) => schemaAt(o, [seg])).find(Boolean);
    } else return undefined;
    s = unwrap(s);
  }
  return s;
}

export function objectKeys(schema: AnySchema): string[] {
  const s = unwrap(schema);
  if (s?._zod?.def.type === "object") return Object.keys(s._zod.def.shape);
  if (s?._zod?.def.type === "union") return s._zod.def.options.flatMap(objectKeys);
  return [];
}

export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return `a list ${short(v)}`;
  if (typeof v === "object") return `a mapping ${short(v)}`;
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

function short(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Turn zod issues into diagnostics located in the YAML. `base` is the config path the validated
 * value sits at; `schema` is used for did-you-mean on unknown keys.
 */
export function issuesToDiagnostics(
  issues: readonly z.core.$ZodIssue[],
  base: Path,
  schema: AnySchema,
  locs: LocationMap,
  what = "argument",
  owner?: string,
): Diagnostic[] {
  // Long by design: one case per zod issue code, each turning that code into a located diagnostic with its own
  // expected/got/hint; a switch reads better whole than spread over helpers.
  const of = owner ? ` of ${owner}` : "";
  const out: Diagnostic[] = [];
  for (const issue of issues) {
    const rel = issue.path as Path;
    const path = [...base, ...rel];
    const at = (p: Path, key = false) => {
      const l = locs.get(p);
      return (key ? l?.key : undefined) ?? l?.value ?? locs.nearest(p)?.value;
    };
    switch (issue.code) {
      case "unrecognized_keys": {
        const known = objectKeys(schemaAt(schema, rel));
        for (const k of issue.keys) {
          out.push({
            code: Codes.unknownArgument,
            // a key under a top-level block (sweep.job) is that block's key, not a top-level one
            message: `unknown ${what === "top-level key" && path.length ? `key of ${formatPath(path)}` : what} "${k}"${of}`,
            path: formatPath([...path, k]),
            loc: at([...path, k], true),
            expected: known.length ? `one of: ${known.join(", ")}` : "no further keys here",
            got: JSON.stringify(k),
            hint: didYouMean(k, known),
          });
        }
        break;
      }
      case "invalid_type": {
        const input = (issue as { input?: unknown }).input;
        if (input === undefined) {
          const name = rel[rel.length - 1];
          out.push({
            code: Codes.missingArgument,
            message: `missing required ${what} "${String(name)}"${of}`,
            path: formatPath(path),
            loc: at(path.slice(0, -1), false),
            expected: `${issue.expected}`,
            got: "nothing",
            hint: `add \`${String(name)}: ...\``,
          });
        } else {
          out.push({
            code: Codes.invalidValue,
            message: `wrong type for ${formatPath(path) ? `"${formatPath(path)}"` : what}`,
            path: formatPath(path),
            loc: at(path),
            expected: `${issue.expected}`,
            got: describeValue(input),
          });
        }
        break;
      }
      case "invalid_value": {
        out.push({
          code: Codes.invalidValue,
          message: `invalid value for "${formatPath(path)}"`,
          path: formatPath(path),
          loc: at(path),
          expected: `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`,
          got: describeValue((issue as { input?: unknown }).input),
          hint:
            typeof (issue as { input?: unknown }).input === "string"
              ? didYouMean((issue as { input?: string }).input ?? "", issue.values.map(String))
              : undefined,
        });
        break;
      }
      case "custom": {
        const p = (issue.params ?? {}) as Partial<VpIssueParams>;
        if (p.vp) {
          const { atKey, ...d } = p.vp;
          out.push({ ...d, path: formatPath(path), loc: at(path, atKey) });
          break;
        }
        out.push({
          code: Codes.invalidValue,
          message: issue.message,
          path: formatPath(path),
          loc: at(path),
          got: describeValue((issue as { input?: unknown }).input),
        });
        break;
      }
      case "invalid_union": {
        // prefer the branch that got furthest: the one with the fewest issues
        const branches = (issue as { errors?: z.core.$ZodIssue[][] }).errors ?? [];
        const best = [...branches].sort((a, b) => a.length - b.length)[0];
        if (best?.length) {
          out.push(
            ...issuesToDiagnostics(
              best.map((i) => ({ ...i, path: [...rel, ...i.path] })),
              base,
              schema,
              locs,
              what,
              owner,
            ),
          );
        } else {
          out.push({
            code: Codes.invalidValue,
            message: `invalid value for "${formatPath(path)}"`,
            path: formatPath(path),
            loc: at(path),
            got: describeValue((issue as { input?: unknown }).input),
          });
        }
        break;
      }
      default: {
        const input = (issue as { input?: unknown }).input;
        out.push({
          code: Codes.invalidValue,
          message: `invalid value for "${formatPath(path)}": ${issue.message}`,
          path: formatPath(path),
          loc: at(path),
          expected: issue.message.replace(/^Too (small|big): expected \w+ to (have )?/, ""),
          got: describeValue(input),
        });
      }
    }
  }
  return out;
}
